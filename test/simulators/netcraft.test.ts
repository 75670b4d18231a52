/** The Netcraft simulator's wire format over loopback: what a client sees, quirks included. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'
import { createNetcraftSimulator, UNAUTHORISED_BODY } from '../../src/simulators/netcraft/index.js'

const KEY = 'sim-netcraft-key'
const AUTH = { authorization: `Bearer ${KEY}` }
const MIN = 60_000

let running: RunningSimulator
let clock: ManualClock
beforeEach(async () => {
  clock = new ManualClock()
  running = await startSimulator(createNetcraftSimulator({ clock, apiKey: KEY, seed: 3, count: 20 }))
})
afterEach(async () => { await running.close() })

async function get (path: string, headers: Record<string, string> = AUTH): Promise<{ status: number, body: any }> {
  const res = await fetch(running.baseUrl + path, { headers })
  return { status: res.status, body: await res.json() }
}
async function post (path: string, body: URLSearchParams | FormData | string, type?: string): Promise<{ status: number, type: string, text: string }> {
  const res = await fetch(running.baseUrl + path, { method: 'POST', headers: { ...AUTH, ...(type === undefined ? {} : { 'content-type': type }) }, body })
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() }
}
const form = (fields: Record<string, string>): URLSearchParams => new URLSearchParams(fields)

describe('netcraft simulator', () => {
  it('answers 401 with its small JSON body to a missing or wrong Bearer key', async () => {
    expect(await get('/attacks/', {})).toEqual({ status: 401, body: UNAUTHORISED_BODY })
    expect((await get('/attacks/', { authorization: 'Bearer nope' })).status).toBe(401)
  })

  it('lists a bare array with the live spellings: string ids, "0"/"1" flags, display statuses, " UTC" times, "" for unset', async () => {
    const { status, body } = await get('/attacks/?sort=id&dir=asc&page_size=1')
    expect(status).toBe(200)
    expect(Array.isArray(body)).toBe(true)
    expect(body).toHaveLength(21)
    const first = body[0]
    expect(first.id).toMatch(/^\d{8}$/)
    expect(['0', '1']).toContain(first.authgiven)
    expect(first.date_submitted).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/)
    expect(first.certificate_revoked).toBe('Not revoked')
    const ipHosts = body.filter((r: { hostname: string }) => /^[\d.]+$/.test(r.hostname))
    expect(ipHosts.length).toBeGreaterThan(0)
    for (const t of ipHosts) expect(t.domain).toBe('')
    const unverified = body.find((t: { status: string }) => t.status === 'Unverified')
    expect(unverified.date_authed).toBe('')
    expect(new Set(body.map((t: { status: string }) => t.status))).toContain('Inactive (Monitoring)')
    const ids = body.map((t: { id: string }) => Number(t.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    // id_after is exclusive; max_results caps the answer; statuses take slugs
    const after = (await get(`/attacks/?sort=id&id_after=${ids[4] as number}&max_results=3`)).body.map((t: { id: string }) => Number(t.id))
    expect(after).toEqual(ids.slice(5, 8))
    const resolved = (await get('/attacks/?statuses=resolved_monitoring,stale')).body.map((t: { status: string }) => t.status)
    expect(new Set(resolved)).toEqual(new Set(['Monitoring', 'Stale']))
  })

  it('report/ answers text/plain TD_OK with a new id, TD_EXISTS for the same attack (any encoding), and authorises on force_auth', async () => {
    const attack = 'https://login-acme.example.org/secure'
    const ok = await post('/report/', form({ attack, comment: 'phish', force_auth: 'False' }))
    expect(ok.status).toBe(200)
    expect(ok.type).toMatch(/^text\/plain/)
    const [code, id] = ok.text.split('\n')
    expect(code).toBe('TD_OK')
    expect(id).toMatch(/^\d{8}$/)
    clock.advance(11 * MIN)
    const waiting = (await get(`/attacks/?id=${id as string}`)).body[0]
    expect([waiting.status, waiting.authgiven]).toEqual(['Verified', '0'])
    const multipart = new FormData()
    multipart.append('attack', 'HTTPS://LOGIN-ACME.example.org/secure/')
    multipart.append('comment', 'again')
    multipart.append('force_auth', 'True')
    multipart.append('evidence', new Blob(['png']), 'shot.png')
    expect((await post('/report/', multipart)).text).toBe(`TD_EXISTS\n${id as string}`)
    const authorised = (await get(`/attacks/?id=${id as string}`)).body[0]
    expect([authorised.authgiven, authorised.authorisation_source]).toEqual(['1', 'customer'])
    const json = await post('/report/', JSON.stringify({ attack, comment: 'json body' }), 'application/json')
    expect(json.text).toBe(`TD_EXISTS\n${id as string}`)
    expect((await post('/report/', form({ attack: 'https://x.verify-hold.example/', comment: 'c' }))).text).toBe('TD_VERIFY')
    expect((await post('/report/', form({ comment: 'no attack' }))).text).toMatch(/^TD_ERROR/)
  })

  it('notes: integer ids, times without the suffix; escalate only once authorised, adding its note', async () => {
    const id = (await post('/report/', form({ attack: 'https://esc.example.org/', comment: 'c', force_auth: 'true' }))).text.split('\n')[1] as string
    const refused = await post('/escalate/', form({ takedown_id: id }))
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.text)).toMatchObject({ error_code: 'TD_ERROR' })
    clock.advance(11 * MIN)
    expect(JSON.parse((await post('/escalate/', form({ takedown_id: id }))).text)).toEqual({ status: 'TD_OK' })
    const note = JSON.parse((await post('/notes/', form({ takedown_id: id, text: 'hello', notify: 'true' }))).text)
    expect(Number.isInteger(note.note_id)).toBe(true)
    const notes = (await get(`/notes/?takedown_id=${id}`)).body
    expect(notes.map((n: { note: string }) => n.note)).toEqual(['Takedown escalated from automated to managed', 'hello'])
    expect(notes[0].takedown_id).toBe(Number(id))
    expect(notes[0].time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    const record = (await get(`/attacks/?id=${id}`)).body[0]
    expect([record.escalated, record.escalation_source, record.managed]).toEqual(['1', 'customer', true])
  })

  it('attack types: a bare array with boolean flags, filtered by them', async () => {
    const all = (await get('/attack-types/')).body
    expect(all[0]).toMatchObject({ name: 'phishing_url', base_type: 'url', automated: true })
    const auto = (await get('/attack-types/?auto_authorise=true')).body
    expect(auto.every((t: { auto_authorise: boolean }) => t.auto_authorise)).toBe(true)
    expect(auto.length).toBeLessThan(all.length)
  })
})
