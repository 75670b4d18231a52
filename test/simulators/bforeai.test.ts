import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { ALREADY_DETECTED_MESSAGE, createBforeaiSimulator } from '../../src/simulators/bforeai/index.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'

const KEY = 'sim-test-key'
let running: RunningSimulator
let clock: ManualClock

beforeAll(async () => {
  clock = new ManualClock()
  running = await startSimulator(createBforeaiSimulator({ clock, apiKey: KEY, seed: 3, count: 40 }))
})
afterAll(async () => { await running.close() })

async function call (method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-authorization': KEY }):
Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(running.baseUrl + path, {
    method,
    redirect: 'manual',
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body))
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers }
}

describe('bforeai simulator: auth', () => {
  it('missing key → 401 {detail}', async () => {
    const res = await call('GET', '/v2/takedown/list', undefined, {})
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ detail: 'Not authenticated' })
  })

  it('wrong key (or a Bearer prefix) → 401 {detail}', async () => {
    for (const value of ['nope', `Bearer ${KEY}`]) {
      const res = await call('GET', '/v2/takedown/statuses', undefined, { 'x-authorization': value })
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ detail: 'Invalid API key' })
    }
  })
})

describe('bforeai simulator: list', () => {
  it('answers the fastapi-pagination envelope with the documented defaults (size 50, created descending)', async () => {
    const res = await call('GET', '/v2/takedown/list')
    expect(res.status).toBe(200)
    expect(Object.keys(res.body).sort()).toEqual(['items', 'page', 'pages', 'size', 'total'])
    expect(res.body).toMatchObject({ total: 40, page: 1, size: 50, pages: 1 })
    const created = res.body.items.map((t: { created: string }) => Date.parse(t.created))
    expect(created).toEqual([...created].sort((a: number, b: number) => b - a))
    expect(Object.keys(res.body.items[0]).sort()).toEqual([
      'attack_id', 'attack_url', 'brand_id', 'brand_name', 'cancellation_reason', 'company_id', 'created', 'description', 'id', 'platform',
      'status_id', 'status_name', 'takedown_type', 'threat_type', 'updated_at', 'user_id', 'value'
    ])
  })

  it('pages by page/size; pages = ceil(total/size); past the end is an empty page', async () => {
    const p3 = await call('GET', '/v2/takedown/list?page=3&size=15')
    expect(p3.body).toMatchObject({ total: 40, page: 3, size: 15, pages: 3 })
    expect(p3.body.items).toHaveLength(10)
    const p9 = await call('GET', '/v2/takedown/list?page=9&size=15')
    expect(p9.body.items).toEqual([])
  })

  it('size and page limits → FastAPI 422 bodies', async () => {
    const big = await call('GET', '/v2/takedown/list?size=101')
    expect(big.status).toBe(422)
    expect(big.body).toEqual({
      detail: [{ loc: ['query', 'size'], msg: 'ensure this value is less than or equal to 100', type: 'value_error.number.not_le', ctx: { limit_value: 100 } }]
    })
    const small = await call('GET', '/v2/takedown/list?size=0&page=0')
    expect(small.body.detail.map((d: { loc: string[] }) => d.loc)).toEqual([['query', 'page'], ['query', 'size']])
    expect(small.body.detail[0]).toMatchObject({ type: 'value_error.number.not_ge', ctx: { limit_value: 1 } })
    const text = await call('GET', '/v2/takedown/list?page=abc&since=yesterday&sort=status')
    expect(text.status).toBe(422)
    expect(text.body.detail.map((d: { type: string }) => d.type).sort()).toEqual(['type_error.enum', 'type_error.integer', 'value_error.datetime'])
  })

  it('filters: brand_name is exact and case-insensitive, brand_id, since/until inclusive, attack_url exact', async () => {
    const all = (await call('GET', '/v2/takedown/list?size=100')).body.items as Array<{ brand_name: string, brand_id: number, created: string, attack_url: string }>
    const byName = (await call('GET', '/v2/takedown/list?size=100&brand_name=ACME%20BANK')).body.items as typeof all
    expect(byName.length).toBe(all.filter(t => t.brand_name === 'Acme Bank').length)
    expect((await call('GET', '/v2/takedown/list?size=100&brand_name=Acme')).body.items).toEqual([])
    const byId = (await call('GET', '/v2/takedown/list?size=100&brand_id=503')).body.items as typeof all
    expect(byId.every(t => t.brand_id === 503)).toBe(true)
    const pivot = all[5]!.created
    const since = (await call('GET', `/v2/takedown/list?size=100&since=${encodeURIComponent(pivot)}`)).body.items as typeof all
    expect(since.length).toBe(all.filter(t => t.created >= pivot).length)
    const until = (await call('GET', `/v2/takedown/list?size=100&until=${encodeURIComponent(pivot)}`)).body.items as typeof all
    expect(until.length).toBe(all.filter(t => t.created <= pivot).length)
    const one = (await call('GET', `/v2/takedown/list?attack_url=${encodeURIComponent(all[3]!.attack_url)}`)).body.items as typeof all
    expect(one.map(t => t.attack_url)).toEqual([all[3]!.attack_url])
  })
})

describe('bforeai simulator: one takedown and reference data', () => {
  it('unknown id → 404 {detail:"Takedown not found"}; unknown path → 404 {detail:"Not Found"}', async () => {
    expect(await call('GET', '/v2/takedown/nope')).toMatchObject({ status: 404, body: { detail: 'Takedown not found' } })
    expect(await call('GET', '/v3/nothing')).toMatchObject({ status: 404, body: { detail: 'Not Found' } })
  })

  it('serves the documented reference shapes; takedown_types without the slash redirects (307)', async () => {
    const statuses = (await call('GET', '/v2/takedown/statuses')).body
    expect(statuses[0]).toEqual({ id: 1, name: 'Pending', description: expect.any(String) })
    expect(statuses.map((s: { name: string }) => s.name)).toContain('Escalated to Partner')
    expect((await call('GET', '/v2/takedown/takedown_types/')).body).toEqual(['Infrastructure', 'Social Media'])
    const redirect = await call('GET', '/v2/takedown/takedown_types')
    expect(redirect.status).toBe(307)
    expect(redirect.headers.get('location')).toBe('/api/v2/takedown/takedown_types/')
    expect((await call('GET', '/v2/takedown/social_media/platforms')).body.items).toContain('Facebook')
    expect((await call('GET', '/v2/takedown/social_media/threat_types')).body.items).toContain('Impersonation')
    const reasons = (await call('GET', '/v2/takedown/cancellation_reasons')).body
    expect(reasons[0]).toEqual({ id: 1, reason: expect.any(String), is_active: true })
  })

  it('seeds every status, infrastructure and social takedowns, and a couple without status_name', async () => {
    const items = (await call('GET', '/v2/takedown/list?size=100')).body.items as Array<{ status_id: number, status_name: string | null, platform: string | null, value: { type: string } }>
    expect(new Set(items.map(t => t.status_id)).size).toBe(12)
    expect(new Set(items.map(t => t.value.type))).toEqual(new Set(['url', 'domain', 'social']))
    expect(items.filter(t => t.status_name === null).length).toBeGreaterThanOrEqual(2)
  })
})

describe('bforeai simulator: writes', () => {
  it('validates like pydantic: missing fields, long URL, bad integer, bad JSON', async () => {
    const missing = await call('POST', '/v2/takedown/request', { url: 'https://a.example/x', brand_id: 501 })
    expect(missing.status).toBe(422)
    expect(missing.body).toEqual({ detail: [{ loc: ['body', 'comment'], msg: 'field required', type: 'value_error.missing' }] })
    const long = await call('POST', '/v2/takedown/request', { url: 'https://a.example/' + 'x'.repeat(2100), brand_id: 'five', comment: 'c' })
    expect(long.body.detail).toEqual([
      { loc: ['body', 'url'], msg: 'ensure this value has at most 2083 characters', type: 'value_error.any_str.max_length', ctx: { limit_value: 2083 } },
      { loc: ['body', 'brand_id'], msg: 'value is not a valid integer', type: 'type_error.integer' }
    ])
    const bad = await call('POST', '/v2/takedown/request', '{not json')
    expect(bad.status).toBe(422)
    expect(bad.body.detail[0]).toMatchObject({ type: 'value_error.jsondecode' })
  })

  it('social: platform outside the enum → 422 type_error.enum with the permitted values', async () => {
    const res = await call('POST', '/v2/takedown/social-media', { threat_type: 'Impersonation', platform: 'MySpace', malicious_url: 'https://myspace.com/x', brand_id: 501, comment: 'c' })
    expect(res.status).toBe(422)
    expect(res.body.detail[0]).toMatchObject({ loc: ['body', 'platform'], type: 'type_error.enum' })
    expect(res.body.detail[0].msg).toContain("'Facebook'")
  })

  it('request → 200 Takedown (Pending), counted in the stats; the same URL again → 202 {message}', async () => {
    const sim = running.sim
    const before = sim.stats.get('POST', '/api/v2/takedown/request')
    const body = { url: 'https://fresh-acme.example.org/login', brand_id: 501, comment: 'phishing' }
    const res = await call('POST', '/v2/takedown/request', body)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ attack_url: body.url, brand_id: 501, brand_name: 'Acme Bank', status_name: 'Pending', takedown_type: 'Infrastructure' })
    const again = await call('POST', '/v2/takedown/request', body)
    expect(again).toMatchObject({ status: 202, body: { message: ALREADY_DETECTED_MESSAGE } })
    expect(sim.stats.get('POST', '/api/v2/takedown/request')).toBe(before + 2)
    clock.advance(3_600_000)
    expect((await call('GET', `/v2/takedown/${res.body.id as string}`)).body.status_name).toBe('In Progress')
  })

  it('unknown brand → 400 {detail}', async () => {
    const res = await call('POST', '/v2/takedown/request', { url: 'https://x.example/y', brand_id: 9, comment: 'c' })
    expect(res).toMatchObject({ status: 400, body: { detail: expect.stringContaining('Brand 9') } })
  })

  it('cancel: documented answer; inactive reason and final statuses → 400 {detail}', async () => {
    const created = (await call('POST', '/v2/takedown/request', { url: 'https://cancel-me.example/a', brand_id: 502, comment: 'c' })).body
    const inactive = await call('POST', `/v2/takedown/${created.id as string}/cancel`, { cancel_reason_id: 4 })
    expect(inactive).toMatchObject({ status: 400, body: { detail: 'Invalid cancellation reason' } })
    const ok = await call('POST', `/v2/takedown/${created.id as string}/cancel`, { cancel_reason_id: 2, description: 'authorised' })
    expect(ok.body).toEqual({ message: expect.any(String), takedown_id: created.id, new_status: 'Cancelled', description: 'authorised' })
    const after = (await call('GET', `/v2/takedown/${created.id as string}`)).body
    expect(after).toMatchObject({ status_name: 'Cancelled', cancellation_reason: 'Authorised use of the brand' })
    const twice = await call('POST', `/v2/takedown/${created.id as string}/cancel`, { cancel_reason_id: 2 })
    expect(twice).toMatchObject({ status: 400, body: { detail: 'Takedown cannot be cancelled in its current status' } })
    expect(await call('POST', '/v2/takedown/nope/cancel', { cancel_reason_id: 1 })).toMatchObject({ status: 404, body: { detail: 'Takedown not found' } })
    expect(await call('POST', '/v2/takedown/nope/cancel', {})).toMatchObject({ status: 422 })
  })

  it('injected faults use the vendor error body', async () => {
    running.sim.faults.add({ status: 503, times: 1, retryAfter: 5 })
    const res = await call('GET', '/v2/takedown/statuses')
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(res.body).toEqual({ detail: 'injected fault: HTTP 503' })
  })
})
