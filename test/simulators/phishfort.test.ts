import { afterEach, beforeEach, describe, it, expect } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { PHISHFORT_STATUSES } from '../../src/connectors/phishfort/wire.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'
import { createPhishfortSimulator } from '../../src/simulators/phishfort/index.js'

const KEY = 'sim-key'
const AUTH = { 'x-api-key': KEY, accept: 'application/json' }

interface Item {
  id: string
  status?: string
  statusVerbose?: string
  timestamp: string
  clientId: string
  incidentType: string
  url?: string
  domain?: string
  subject: string
}
interface ListBody { data: Item[], paging: { cursor: string | null, next: string | null, limit: number } }

let running: RunningSimulator
let clock: ManualClock
beforeEach(async () => {
  clock = new ManualClock()
  running = await startSimulator(createPhishfortSimulator({ clock, apiKey: KEY, seed: 3 }))
})
afterEach(async () => { await running.close() })

async function get (path: string, headers: Record<string, string> = AUTH): Promise<{ status: number, body: any }> {
  const res = await fetch(running.baseUrl + path, { headers })
  return { status: res.status, body: await res.json() }
}
async function post (path: string, body: unknown): Promise<{ status: number, body: any }> {
  const res = await fetch(running.baseUrl + path, {
    method: 'POST',
    headers: { ...AUTH, ...(body instanceof FormData || body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body instanceof FormData || body === undefined ? body : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() }
}
function boom (status: number, message?: string): unknown {
  return { statusCode: status, error: expect.any(String), message: message ?? expect.any(String) }
}

describe('phishfort simulator: auth and errors', () => {
  it('answers 401 with a Boom body for a missing or wrong x-api-key', async () => {
    expect(await get('/v1/incidents', {})).toEqual({ status: 401, body: { statusCode: 401, error: 'Unauthorized', message: expect.any(String) } })
    expect((await get('/v1/incidents', { 'x-api-key': 'wrong' })).status).toBe(401)
    expect((await get('/v1/incidents?limit=1')).status).toBe(200)
  })

  it('unknown incidents and routes → 404 Boom; injected faults use the Boom body too', async () => {
    expect(await get('/v1/incident/nope')).toEqual({ status: 404, body: boom(404, 'Incident not found') })
    expect((await get('/v1/nothing-here')).body).toEqual(boom(404))
    running.sim.faults.add({ status: 502, times: 1 })
    expect(await get('/v1/incidents')).toEqual({ status: 502, body: { statusCode: 502, error: 'Bad Gateway', message: expect.any(String) } })
  })
})

describe('phishfort simulator: GET /v1/incidents', () => {
  it('pages with limit/cursor: paging.next is an incident id, pages are disjoint, newest first, next null at the end', async () => {
    const seen: Item[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const { status, body } = await get(`/v1/incidents?limit=8${cursor === null ? '' : `&cursor=${cursor}`}`) as { status: number, body: ListBody }
      expect(status).toBe(200)
      expect(body.paging.limit).toBe(8)
      expect(body.data.length).toBeLessThanOrEqual(8)
      expect(body.paging.cursor).toBe(body.data.at(-1)?.id)
      if (body.paging.next !== null) expect(body.paging.next).toMatch(/^[A-Za-z0-9]{20}$/)
      seen.push(...body.data)
      cursor = body.paging.next
      pages++
    } while (cursor !== null)
    expect(pages).toBe(5)
    expect(seen).toHaveLength(36)
    expect(new Set(seen.map(i => i.id)).size).toBe(36)
    const times = seen.map(i => Date.parse(i.timestamp))
    expect(times).toEqual([...times].sort((a, b) => b - a))
  })

  it('defaults to limit 5000 and seeds every status, every incident type, verbose-only incidents and a sub-client', async () => {
    const { body } = await get('/v1/incidents') as { body: ListBody }
    expect(body.paging).toEqual({ cursor: body.data.at(-1)?.id, next: null, limit: 5000 })
    expect(body.data).toHaveLength(36)
    const withStatus = body.data.filter(i => i.status !== undefined)
    expect(new Set(withStatus.map(i => i.status))).toEqual(new Set(PHISHFORT_STATUSES))
    const verboseOnly = body.data.filter(i => i.status === undefined)
    expect(verboseOnly.length).toBeGreaterThan(3)
    expect(verboseOnly.every(i => typeof i.statusVerbose === 'string')).toBe(true)
    expect(new Set(body.data.map(i => i.incidentType))).toEqual(new Set(['domain', 'email', 'phone', 'ipv4', 'social']))
    expect(body.data.some(i => i.incidentType === 'domain' && i.url === undefined)).toBe(true)
    expect(body.data.some(i => i.incidentType === 'domain' && i.url !== undefined)).toBe(true)
    expect(new Set(body.data.map(i => i.clientId)).size).toBe(2)
  })

  it('filters by clientId, status (including verbose-only incidents) and exclusive fromDate/toDate', async () => {
    const all = (await get('/v1/incidents') as { body: ListBody }).body.data
    const sub = all.find(i => i.clientId !== all[0]!.clientId)!.clientId
    const subOnly = (await get(`/v1/incidents?clientId=${sub}`)).body.data as Item[]
    expect(subOnly.length).toBeGreaterThan(0)
    expect(subOnly.every(i => i.clientId === sub)).toBe(true)

    const failed = (await get('/v1/incidents?status=takedown_attempt_failed')).body.data as Item[]
    expect(failed.length).toBeGreaterThan(0)
    expect(failed.every(i => (i.status ?? 'takedown_attempt_failed') === 'takedown_attempt_failed' && (i.statusVerbose === 'Takedown Failed'))).toBe(true)
    const pivot = all[12]!.timestamp
    const after = (await get(`/v1/incidents?fromDate=${pivot}`)).body.data as Item[]
    expect(after.every(i => i.timestamp > pivot)).toBe(true)
    expect(after).toHaveLength(all.filter(i => i.timestamp > pivot).length)
    const before = (await get(`/v1/incidents?toDate=${encodeURIComponent(pivot)}`)).body.data as Item[]
    expect(before).toHaveLength(all.filter(i => i.timestamp < pivot).length)
  })

  it.each([
    ['limit=0', '"limit" must be greater than or equal to 1'],
    ['limit=5001', '"limit" must be less than or equal to 5000'],
    ['limit=ten', '"limit" must be a number'],
    ['cursor=notAnIncident', '"cursor" is invalid'],
    ['status=Taken', expect.stringContaining('"status" must be one of')],
    ['fromDate=yesterday', '"fromDate" must be a valid date']
  ])('rejects %s with a 400 Boom body', async (query, message) => {
    expect(await get(`/v1/incidents?${query}`)).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message } })
  })
})

describe('phishfort simulator: single incident and subject lookup', () => {
  it('wraps the detailed incident in data, with history, incidentState and expanded taxonomy', async () => {
    const all = (await get('/v1/incidents') as { body: ListBody }).body.data
    const target = all.find(i => i.status === 'takedown_success')!
    const { status, body } = await get(`/v1/incident/${target.id}`)
    expect(status).toBe(200)
    expect(body.data).toMatchObject({ id: target.id, status: 'takedown_success', incidentState: { contentRemoved: true } })
    expect(body.data.history.map((e: { type: string }) => e.type)).toContain('info/auto')
    expect(typeof body.data.burnStartedTimestamp).toBe('string')
    expect(typeof body.data.takedownTimestamp).toBe('string')
  })

  it('finds an incident by url, domain or subject (percent-encoded) and answers 404 otherwise', async () => {
    const created = await post('/v1/incident/tkd', { url: 'https://evil.example/login/a' })
    const byUrl = await get(`/v1/incident/subject/${encodeURIComponent('https://evil.example/login/a')}`)
    expect(byUrl.body.data.id).toBe(created.body.id)
    expect((await get('/v1/incident/subject/evil.example')).body.data.id).toBe(created.body.id)
    expect(await get(`/v1/incident/subject/${encodeURIComponent('https://other.example/')}`)).toEqual({ status: 404, body: boom(404) })
  })
})

describe('phishfort simulator: reports', () => {
  it('creates incidents (201 {message, id, url}), counts them, and makes a second incident for a duplicate', async () => {
    const a = await post('/v1/incident/tkd', { url: 'https://somethingbad.com', reportedBy: 'john.doe@company.com' })
    expect(a).toEqual({
      status: 201,
      body: { message: expect.any(String), id: expect.stringMatching(/^[A-Za-z0-9]{20}$/), url: expect.stringContaining(a.body.id) }
    })
    const b = await post('/v1/incident/tkd', { url: 'https://somethingbad.com', reportedBy: 'john.doe@company.com' })
    expect(b.body.id).not.toBe(a.body.id)
    await post('/v1/incident/monitor', { subject: '192.168.1.1', incidentType: 'ipv4' })
    expect(running.sim.stats.get('POST', '/v1/incident/tkd')).toBe(2)
    expect(running.sim.stats.get('POST', '/v1/incident/monitor')).toBe(1)
    const detail = (await get(`/v1/incident/${a.body.id}`)).body.data
    expect(detail).toMatchObject({ incidentType: 'domain', subject: 'somethingbad.com', url: 'https://somethingbad.com', status: 'pending_review', reportedBy: 'john.doe@company.com' })
  })

  it('moves a created incident along its lifecycle with the clock', async () => {
    const { body } = await post('/v1/incident/monitor', { url: 'suspicious.example' })
    expect((await get(`/v1/incident/${body.id}`)).body.data.status).toBe('pending_review')
    clock.advance(30 * 60_000)
    const detail = (await get(`/v1/incident/${body.id}`)).body.data
    expect(detail.status).toBe('pre_weaponised')
    expect(detail.history).toHaveLength(2)
    const tkd = await post(`/v1/incident/${body.id}/tkd`, undefined)
    expect(tkd).toEqual({ status: 200, body: { message: `You issued a review request to takedown on incidentId: ${body.id}`, id: body.id } })
    expect((await get(`/v1/incident/${body.id}`)).body.data.status).toBe('case_building')
  })

  it.each([
    [{ subject: 'evil.example', incidentType: 'domain' }, "When using the 'subject' field, incidentType must be one of: email, phone, ipv4"],
    [{ url: 'https://evil.example', incidentType: 'domain' }, "When using the 'subject' field, incidentType must be one of: email, phone, ipv4"],
    [{ subject: '+1 415 555', incidentType: 'phone' }, '"subject" must be a valid E.164 phone number'],
    [{ subject: 'not-an-ip', incidentType: 'ipv4' }, '"subject" must be a valid ipv4 address'],
    [{ incidentType: 'email' }, '"subject" is required'],
    [{ reportedBy: 'john.doe@company.com' }, '"url" is required'],
    [{ url: 'https://evil.example', comment: null }, '"comment" must be a string'],
    [{ url: 'not a domain' }, '"url" must be a valid uri or domain']
  ])('rejects %j with a 400 Boom body', async (body, message) => {
    expect(await post('/v1/incident/tkd', body)).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message } })
  })

  it('multipart: accepts allowed files; 413 for 13 files or 10 MB; 400 for a disallowed type', async () => {
    const ok = new FormData()
    ok.append('url', 'https://somethingbad.com')
    ok.append('attachments', new Blob(['%PDF'], { type: 'application/pdf' }), 'file-1.pdf')
    ok.append('attachments', new Blob(['png'], { type: 'image/png' }), 'file-2.png')
    expect((await post('/v1/incident/tkd', ok)).status).toBe(201)

    const many = new FormData()
    many.append('url', 'https://somethingbad.com')
    for (let i = 0; i < 13; i++) many.append('attachments', new Blob(['x'], { type: 'text/plain' }), `f${i}.txt`)
    expect(await post('/v1/incident/tkd', many)).toEqual({ status: 413, body: boom(413) })

    const big = new FormData()
    big.append('url', 'https://somethingbad.com')
    big.append('attachments', new Blob([new Uint8Array(10485760)], { type: 'application/pdf' }), 'big.pdf')
    expect(await post('/v1/incident/tkd', big)).toEqual({
      status: 413,
      body: { statusCode: 413, error: 'Request Entity Too Large', message: 'Payload content length greater than maximum allowed: 10485760' }
    })

    const exe = new FormData()
    exe.append('url', 'https://somethingbad.com')
    exe.append('attachments', new Blob(['MZ'], { type: 'application/x-msdownload' }), 'x.exe')
    expect(await post('/v1/incident/tkd', exe)).toEqual({ status: 400, body: boom(400, 'Unsupported attachment type: application/x-msdownload') })
    expect(running.sim.stats.get('POST', '/v1/incident/tkd')).toBe(4)
  })

  it('comment and attach on an existing incident; empty comment → 400; unknown incident → 404', async () => {
    const { body } = await post('/v1/incident/tkd', { url: 'https://somethingbad.com' })
    expect((await post(`/v1/incident/${body.id}/comment`, { comment: 'more context' })).status).toBe(200)
    expect(await post(`/v1/incident/${body.id}/comment`, { comment: '' })).toEqual({ status: 400, body: boom(400) })
    const form = new FormData()
    form.append('attachments', new Blob(['a,b'], { type: 'text/csv' }), 'ioc.csv')
    expect((await post(`/v1/incident/${body.id}/attach`, form)).status).toBe(200)
    expect((await post('/v1/incident/unknown/safe', undefined)).status).toBe(404)
    const history = (await get(`/v1/incident/${body.id}`)).body.data.history.map((e: { message: string }) => e.message)
    expect(history).toEqual(expect.arrayContaining(['Client comment: more context', '1 attachment(s) added']))
  })
})

describe('phishfort simulator: determinism', () => {
  it('the same seed gives the same data; another seed gives other data', async () => {
    const again = await startSimulator(createPhishfortSimulator({ clock, apiKey: KEY, seed: 3 }))
    const other = await startSimulator(createPhishfortSimulator({ clock, apiKey: KEY, seed: 4, count: 30 }))
    try {
      const mine = (await get('/v1/incidents')).body.data
      const theirs = await (await fetch(`${again.baseUrl}/v1/incidents`, { headers: AUTH })).json() as ListBody
      const others = await (await fetch(`${other.baseUrl}/v1/incidents`, { headers: AUTH })).json() as ListBody
      expect(theirs.data).toEqual(mine)
      expect(others.data).toHaveLength(30)
      expect(others.data[0]?.id).not.toBe(mine[0].id)
    } finally {
      await again.close()
      await other.close()
    }
  })
})
