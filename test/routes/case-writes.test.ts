import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { CaseSchema, type Case } from '../../src/schemas/case.js'
import { ProblemSchema } from '../../src/schemas/problem.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway, CLOUDFLARE_REPORT_OPTIONS } from '../support/app.js'

let gw: TestGateway
beforeAll(async () => { gw = await testGateway({ store: 'redis' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { for (const id of PROVIDER_IDS) gw.sandbox.running[id].sim.faults.clear() })

const post = async (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  await gw.app.inject({ method: 'POST', url, headers: { ...auth(), ...headers }, payload: payload as Record<string, unknown> })

/** vendor write requests the simulators received (every POST, whatever the route) */
function vendorWrites (): number {
  let n = 0
  for (const id of PROVIDER_IDS) {
    for (const [key, count] of gw.sandbox.running[id].sim.stats.counts) if (key.startsWith('POST ')) n += count
  }
  return n
}

function creates (provider: 'phishfort' | 'bforeai' | 'cloudflare'): number {
  let n = 0
  for (const [key, count] of gw.sandbox.running[provider].sim.stats.counts) {
    if (/^POST .*(incident\/(tkd|monitor)$|takedown\/(request|social-media)$|abuse-reports\/:)/.test(key)) n += count
  }
  return n
}

let unique = 0
const url = (): string => `https://login-acme-${Date.now().toString(36)}-${unique++}.example.net/secure`

describe('POST /v1/cases', () => {
  it('creates a case at each vendor and answers 201 with Location', async () => {
    const bodies = [
      { provider: 'phishfort', target: { type: 'url', value: url() }, reportedBy: 'soc@acme.example', comment: 'clone of our login page' },
      { provider: 'bforeai', target: { type: 'url', value: url() }, brand: { id: 501 }, comment: 'clone of our login page' },
      { provider: 'cloudflare', target: { type: 'url', value: url() }, brand: { name: 'Acme Bank' }, providerOptions: CLOUDFLARE_REPORT_OPTIONS }
    ]
    for (const body of bodies) {
      const before = creates(body.provider as 'phishfort')
      const res = await post('/v1/cases', body)
      expect(res.statusCode, res.body).toBe(201)
      const c = res.json() as Case
      expect(Value.Check(CaseSchema, c)).toBe(true)
      expect(c.provider).toBe(body.provider)
      expect(c.target.value).toBe(body.target.value)
      expect(res.headers.location).toBe(`/v1/cases/${c.id}`)
      expect(creates(body.provider as 'phishfort')).toBe(before + 1)
      const read = await gw.app.inject({ method: 'GET', url: res.headers.location as string, headers: auth() })
      expect(read.json().id).toBe(c.id)
    }
  })

  it('routes by target type when no provider is named, and dryRun shows the plan without sending', async () => {
    const phone = await post('/v1/cases', { target: { type: 'phone', value: '+14155550123' } })
    expect(phone.statusCode).toBe(201)
    expect(phone.json().provider).toBe('phishfort')

    const writes = vendorWrites()
    const dry = await post('/v1/cases?dryRun=true', {
      target: { type: 'social', value: 'https://www.facebook.com/fake.acme' }, brand: { id: 501 }, comment: 'fake page', social: { platform: 'Facebook', threatType: 'Impersonation' }
    })
    expect(dry.statusCode, dry.body).toBe(200)
    expect(dry.json()).toMatchObject({
      dryRun: true,
      provider: 'bforeai',
      routedBy: 'rule',
      request: { method: 'POST', path: '/v2/takedown/social-media', body: { platform: 'Facebook', threat_type: 'Impersonation', malicious_url: 'https://www.facebook.com/fake.acme', brand_id: 501 } }
    })
    expect(JSON.stringify(dry.json())).not.toContain('sandbox-bforeai-key')
    expect(vendorWrites()).toBe(writes)
  })

  it('sends attachments as multipart to PhishFort', async () => {
    const boundary = '----gwtest'
    const target = url()
    const parts = [
      `--${boundary}\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${JSON.stringify({ provider: 'phishfort', target: { type: 'url', value: target } })}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="shot.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG fake\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="mail.eml"\r\nContent-Type: message/rfc822\r\n\r\nSubject: phish\r\n`,
      `--${boundary}--\r\n`
    ]
    const before = creates('phishfort')
    const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: parts.join('') })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().target.value).toBe(target)
    expect(creates('phishfort')).toBe(before + 1)
  })

  it('refuses a second open case for the same target with 409 naming it, unless allowDuplicate', async () => {
    const body = { provider: 'phishfort', target: { type: 'url', value: url() } }
    const first = await post('/v1/cases', body)
    expect(first.statusCode).toBe(201)
    const dup = await post('/v1/cases', body)
    expect(dup.statusCode).toBe(409)
    expect(dup.json()).toMatchObject({ code: 'GW_ERR_DUPLICATE_CASE', provider: 'phishfort', existing: first.json().id })
    const again = await post('/v1/cases', { ...body, allowDuplicate: true })
    expect(again.statusCode).toBe(201)
    expect(again.json().id).not.toBe(first.json().id)
  })

  it('200 concurrent identical POSTs with one Idempotency-Key create exactly one case', async () => {
    const before = creates('cloudflare')
    const body = { provider: 'cloudflare', target: { type: 'url', value: url() }, providerOptions: CLOUDFLARE_REPORT_OPTIONS }
    const answers = await Promise.all(Array.from({ length: 200 }, async () => await post('/v1/cases', body, { 'idempotency-key': 'burst-' + String(unique) })))
    expect(creates('cloudflare')).toBe(before + 1)
    const created = answers.filter(a => a.statusCode === 201)
    const inFlight = answers.filter(a => a.statusCode === 409)
    expect(created.length + inFlight.length).toBe(200)
    expect(new Set(created.map(a => a.json().id)).size).toBe(1)
    for (const a of inFlight) expect(a.json().code).toBe('GW_ERR_IDEMPOTENCY_IN_FLIGHT')
    const replay = await post('/v1/cases', body, { 'idempotency-key': 'burst-' + String(unique) })
    expect(replay.statusCode).toBe(201)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json().id).toBe(created[0]!.json().id)
    const changed = await post('/v1/cases', { ...body, comment: 'different' }, { 'idempotency-key': 'burst-' + String(unique) })
    expect(changed.statusCode).toBe(422)
    expect(changed.json().code).toBe('GW_ERR_IDEMPOTENCY_MISMATCH')
    expect(creates('cloudflare')).toBe(before + 1)
  })

  it('a failed validation releases the key so the corrected request goes through', async () => {
    const key = 'fix-and-retry-' + String(unique++)
    const bad = await post('/v1/cases', { provider: 'bforeai', target: { type: 'url', value: url() }, brand: { id: 501 } }, { 'idempotency-key': key })
    expect(bad.statusCode).toBe(400)
    const good = await post('/v1/cases', { provider: 'bforeai', target: { type: 'url', value: url() }, brand: { id: 501 }, comment: 'now with a comment' }, { 'idempotency-key': key })
    expect(good.statusCode).toBe(201)
  })

  it('answers bad input with 400/413/422 and a field path, and no vendor receives anything', async () => {
    const file = (name: string, size: number): string => `--b\r\nContent-Disposition: form-data; name="attachments"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n${'x'.repeat(size)}\r\n`
    const multipart = (files: string[]): string => `--b\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${JSON.stringify({ provider: 'phishfort', target: { type: 'url', value: url() } })}\r\n${files.join('')}--b--\r\n`
    const table: Array<{ name: string, body?: unknown, raw?: string, status: number, path?: string }> = [
      { name: 'bad URL', body: { provider: 'phishfort', target: { type: 'url', value: 'not a url' } }, status: 400, path: '/target/value' },
      { name: '2084-char URL', body: { provider: 'phishfort', target: { type: 'url', value: 'https://a.example/' + 'a'.repeat(2066) } }, status: 400, path: '/target/value' },
      { name: 'ftp URL', body: { provider: 'phishfort', target: { type: 'url', value: 'ftp://a.example/x' } }, status: 400, path: '/target/value' },
      { name: 'non-E.164 phone', body: { target: { type: 'phone', value: '0044 20 7946 0000' } }, status: 400, path: '/target/value' },
      { name: 'bad email', body: { target: { type: 'email', value: 'not-an-email' } }, status: 400, path: '/target/value' },
      { name: 'bad IPv4', body: { target: { type: 'ipv4', value: '300.1.1.1' } }, status: 400, path: '/target/value' },
      { name: 'bad reportedBy', body: { target: { type: 'ipv4', value: '203.0.113.9' }, reportedBy: 'nope' }, status: 400, path: '/reportedBy' },
      { name: 'unknown platform', body: { provider: 'bforeai', target: { type: 'social', value: 'https://x.example/fake' }, brand: { id: 501 }, comment: 'fake', social: { platform: 'MySpace', threatType: 'Impersonation' } }, status: 400, path: '/social/platform' },
      { name: 'missing Cloudflare reporter', body: { provider: 'cloudflare', target: { type: 'url', value: url() }, providerOptions: { justification: 'a long enough justification text' } }, status: 400, path: '/providerOptions/reporter' },
      { name: 'short phishing justification', body: { provider: 'cloudflare', target: { type: 'url', value: url() }, providerOptions: { ...CLOUDFLARE_REPORT_OPTIONS, justification: 'too short' } }, status: 400, path: '/providerOptions/justification' },
      { name: 'null comment', body: { provider: 'phishfort', target: { type: 'url', value: url() }, comment: null }, status: 400, path: '/comment' },
      { name: 'unknown provider', body: { provider: 'nosuch', target: { type: 'url', value: url() } }, status: 400, path: '/provider' },
      { name: 'unknown field', body: { provider: 'phishfort', target: { type: 'url', value: url() }, colour: 'red' }, status: 400, path: '/colour' },
      { name: 'target type the vendor cannot take', body: { provider: 'cloudflare', target: { type: 'email', value: 'a@b.example' } }, status: 422 },
      { name: 'monitor at a vendor without monitoring', body: { provider: 'bforeai', action: 'monitor', target: { type: 'url', value: url() }, brand: { id: 501 }, comment: 'x' }, status: 422 },
      { name: '13 files', raw: multipart(Array.from({ length: 13 }, (_, i) => file(`f${i}.pdf`, 10))), status: 413 },
      { name: '11 MB', raw: multipart([file('a.pdf', 6 * 1024 * 1024), file('b.pdf', 5 * 1024 * 1024)]), status: 413 }
    ]
    const before = vendorWrites()
    for (const row of table) {
      const res = row.raw !== undefined
        ? await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: { ...auth(), 'content-type': 'multipart/form-data; boundary=b' }, payload: row.raw })
        : await post('/v1/cases', row.body)
      expect(res.statusCode, `${row.name}: ${res.body}`).toBe(row.status)
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
      const problem = res.json()
      expect(Value.Check(ProblemSchema, problem), row.name).toBe(true)
      if (row.path !== undefined) expect(problem.errors?.map((e: { path: string }) => e.path), row.name).toContain(row.path)
    }
    expect(vendorWrites()).toBe(before)
  })

  it('a read key cannot write', async () => {
    const res = await post('/v1/cases', { target: { type: 'phone', value: '+14155550100' } }, auth('reader-secret-key'))
    expect(res.statusCode).toBe(403)
  })
})

describe('actions on existing cases', () => {
  async function firstCase (provider: string, status?: string): Promise<Case> {
    const res = await gw.app.inject({ method: 'GET', url: `/v1/cases?provider=${provider}&limit=100${status === undefined ? '' : `&status=${status}`}`, headers: auth() })
    return res.json().items[0] as Case
  }

  it('cancels a BforeAI takedown with a valid reason; refuses an unknown reason and PhishFort with 422', async () => {
    const created = await post('/v1/cases', { provider: 'bforeai', target: { type: 'url', value: url() }, brand: { id: 502 }, comment: 'to cancel' })
    const id = created.json().id as string
    const badReason = await post(`/v1/cases/${id}/cancel`, { reasonId: 99 })
    expect(badReason.statusCode).toBe(400)
    expect(badReason.json().errors[0].path).toBe('/reasonId')
    const res = await post(`/v1/cases/${id}/cancel`, { reasonId: 1, description: 'false positive' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ id, status: 'cancelled', terminal: true })

    const pf = await firstCase('phishfort')
    const no = await post(`/v1/cases/${pf.id}/cancel`, { reasonId: 1 })
    expect(no.statusCode).toBe(422)
    expect(no.json()).toMatchObject({ code: 'GW_ERR_UNSUPPORTED', provider: 'phishfort' })
    expect(no.json().detail).toMatch(/mark-safe/)
  })

  it('comments, attachments and actions on PhishFort; appeal on Cloudflare; 422 elsewhere; 404 for unknown cases', async () => {
    const pf = await firstCase('phishfort')
    expect((await post(`/v1/cases/${pf.id}/comments`, { comment: 'more context' })).statusCode).toBe(202)
    const safe = await post(`/v1/cases/${pf.id}/actions/mark-safe`, {})
    expect(safe.statusCode, safe.body).toBe(202)
    const attach = await gw.app.inject({
      method: 'POST',
      url: `/v1/cases/${pf.id}/attachments`,
      headers: { ...auth(), 'content-type': 'multipart/form-data; boundary=z' },
      payload: '--z\r\nContent-Disposition: form-data; name="attachments"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nevidence\r\n--z--\r\n'
    })
    expect(attach.statusCode, attach.body).toBe(202)
    expect(attach.json()).toMatchObject({ caseId: pf.id, action: 'attachments', accepted: true })

    const cf = await firstCase('cloudflare', 'mitigated,taken_down')
    const detail = (await gw.app.inject({ method: 'GET', url: `/v1/cases/${cf.id}`, headers: auth() })).json()
    const mitigation = detail.mitigations[0]
    const appeal = await post(`/v1/cases/${cf.id}/appeal`, { appeals: [{ id: mitigation.id, reason: 'removed' }] })
    expect(appeal.statusCode, appeal.body).toBe(202)

    const bf = await firstCase('bforeai')
    expect((await post(`/v1/cases/${bf.id}/comments`, { comment: 'x' })).statusCode).toBe(422)
    expect((await post(`/v1/cases/${bf.id}/actions/takedown`, {})).statusCode).toBe(422)
    expect((await post(`/v1/cases/${pf.id}/appeal`, { type: 'content_removed' })).statusCode).toBe(422)
    expect((await post('/v1/cases/phishfort:nope404/comments', { comment: 'x' })).statusCode).toBe(404)
  })

  it('a provider that cannot do a write says so before it asks for the body, and names the actions it has', async () => {
    const writes = vendorWrites()
    const nc = await firstCase('netcraft')
    const cancel = await post(`/v1/cases/${nc.id}/cancel`, {})
    expect(cancel.statusCode, cancel.body).toBe(422)
    expect(cancel.json()).toMatchObject({ code: 'GW_ERR_UNSUPPORTED', provider: 'netcraft', detail: 'netcraft cannot cancel cases' })
    const bf = await firstCase('bforeai')
    expect((await post(`/v1/cases/${bf.id}/comments`, {})).json()).toMatchObject({ status: 422, detail: 'bforeai cannot take comments' })
    expect((await post(`/v1/cases/${bf.id}/appeal`, {})).json()).toMatchObject({ status: 422, detail: 'bforeai cannot take appeals of mitigations' })

    const pf = await firstCase('phishfort')
    const action = await post(`/v1/cases/${pf.id}/actions/escalate`, {})
    expect(action.statusCode).toBe(422)
    expect(action.json()).toMatchObject({
      detail: 'phishfort cannot do "escalate" on an existing case; its actions are takedown, monitor, mark-safe',
      allowed: ['takedown', 'monitor', 'mark-safe']
    })
    expect((await post(`/v1/cases/${bf.id}/actions/takedown`, {})).json()).toMatchObject({ detail: 'bforeai cannot do "takedown" on an existing case; it takes no actions on existing cases', allowed: [] })
    expect(vendorWrites()).toBe(writes)
  })
})
