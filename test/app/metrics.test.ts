/**
 * GET /metrics: Prometheus text with every family fed by a scenario over the simulators; route templates,
 * never raw URLs; one registry per app.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
let other: TestGateway

beforeAll(async () => {
  gw = await testGateway({ env: { CIRCUIT_FAILURE_THRESHOLD: '2', REFERENCE_TTL_MS: '60000', PHISHFORT_TIMEOUT_MS: '400' } })
  other = await testGateway()
})
afterAll(async () => {
  await gw?.close()
  await other?.close()
})

/** `name{labels} value` samples of one scrape, without comments */
async function scrape (t: TestGateway = gw): Promise<{ text: string, samples: Array<{ name: string, labels: Record<string, string>, value: number }> }> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics' })
  expect(res.statusCode).toBe(200)
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  const samples = res.body.split('\n').filter(l => l !== '' && !l.startsWith('#')).map(line => {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!
    return { name: m[1]!, labels, value: Number(m[3]) }
  })
  return { text: res.body, samples }
}

function sum (samples: Awaited<ReturnType<typeof scrape>>['samples'], name: string, match: Record<string, string> = {}): number {
  return samples.filter(s => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0)
}

const P = 'takedown_gateway_'

describe('GET /metrics', () => {
  it('needs no key and is documented under Operations without security', async () => {
    expect((await gw.app.inject({ url: '/metrics' })).statusCode).toBe(200)
    const doc = (await gw.app.inject({ url: '/openapi.json' })).json()
    expect(doc.paths['/metrics'].get).toMatchObject({ operationId: 'metrics', tags: ['Operations'], security: [] })
  })

  it('counts every family after a scenario', async () => {
    const h = auth()
    // reads and a 404 on an unknown path
    const list = await gw.app.inject({ url: '/v1/cases?limit=100', headers: h })
    const items = list.json().items as Array<{ id: string, provider: string }>
    const pf = items.find(c => c.provider === 'phishfort')!
    expect((await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(pf.id)}`, headers: h })).statusCode).toBe(200)
    await gw.app.inject({ url: '/no/such/path' })
    // reference cache: miss and collapsed (concurrent), hit, then stale-while-revalidate after the TTL
    await Promise.all([1, 2].map(async () => await gw.app.inject({ url: '/v1/reference/takedown-types?provider=bforeai', headers: h })))
    await gw.app.inject({ url: '/v1/reference/takedown-types?provider=bforeai', headers: h })
    gw.clock.advance(61_000)
    await gw.app.inject({ url: '/v1/reference/takedown-types?provider=bforeai', headers: h })
    // retries: one 429 then success
    gw.sandbox.running.bforeai.sim.faults.add({ method: 'GET', status: 429, retryAfter: 0, times: 1 })
    expect((await gw.app.inject({ url: '/v1/cases?provider=bforeai&limit=5', headers: h })).statusCode).toBe(200)
    // idempotency replay
    const body = { provider: 'phishfort', target: { type: 'url', value: 'https://metrics-replay.example.net/login' } }
    const headers = { ...h, 'idempotency-key': 'metrics-1' }
    expect((await gw.app.inject({ method: 'POST', url: '/v1/cases', headers, payload: body })).statusCode).toBe(201)
    expect((await gw.app.inject({ method: 'POST', url: '/v1/cases', headers, payload: body })).headers['idempotent-replayed']).toBe('true')
    // PhishFort hangs past its timeout twice: timeouts, and its circuit opens
    gw.sandbox.running.phishfort.sim.faults.add({ hang: true, times: 2 })
    for (let i = 0; i < 2; i++) expect((await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(pf.id)}`, headers: h })).statusCode).toBe(504)
    gw.sandbox.running.phishfort.sim.faults.clear()

    const { text, samples } = await scrape()
    mkdirSync(join(process.cwd(), 'test-artifacts'), { recursive: true })
    writeFileSync(join(process.cwd(), 'test-artifacts', 'metrics-sample.txt'), text) // git-ignored; a sample for review
    const http = `${P}http_request_duration_seconds_count`
    expect(sum(samples, http, { route: '/v1/cases', method: 'GET', status_code: '200' })).toBeGreaterThanOrEqual(2)
    expect(sum(samples, http, { route: '/v1/cases/:id', status_code: '200' })).toBe(1)
    expect(sum(samples, http, { route: '/v1/cases/:id', status_code: '504' })).toBe(2)
    expect(sum(samples, http, { route: '/v1/cases', method: 'POST', status_code: '201' })).toBe(2)
    expect(sum(samples, http, { route: '(unmatched)', status_code: '404' })).toBe(1)
    expect(text).not.toContain(pf.id) // route templates only, never ids
    expect(text).not.toContain('/no/such/path')

    expect(sum(samples, `${P}upstream_requests_total`, { provider: 'phishfort', method: 'GET', outcome: 'ok' })).toBeGreaterThan(0)
    expect(sum(samples, `${P}upstream_requests_total`, { provider: 'phishfort', method: 'POST', outcome: 'ok' })).toBe(1) // replay: no second create
    expect(sum(samples, `${P}upstream_requests_total`, { provider: 'bforeai', outcome: 'rate_limited' })).toBe(1)
    expect(sum(samples, `${P}upstream_requests_total`, { provider: 'phishfort', outcome: 'timeout' })).toBe(2)
    expect(sum(samples, `${P}upstream_request_duration_seconds_count`, { provider: 'cloudflare', outcome: 'ok' })).toBeGreaterThan(0)
    expect(sum(samples, `${P}upstream_request_duration_seconds_sum`, { provider: 'phishfort', outcome: 'timeout' })).toBeGreaterThanOrEqual(0.7)
    expect(sum(samples, `${P}upstream_retries_total`, { provider: 'bforeai', method: 'GET', kind: 'rate_limited' })).toBe(1)

    expect(sum(samples, `${P}circuit_state`, { provider: 'phishfort' })).toBe(2)
    expect(sum(samples, `${P}circuit_state`, { provider: 'cloudflare' })).toBe(0)
    const budget = sum(samples, `${P}outbound_budget_remaining`, { provider: 'cloudflare' })
    expect(budget).toBeGreaterThan(1100)
    expect(budget).toBeLessThan(1200) // Cloudflare's default budget, some of it spent

    const cache = `${P}reference_cache_requests_total`
    for (const outcome of ['miss', 'collapsed', 'hit', 'stale-while-revalidate']) {
      expect(sum(samples, cache, { provider: 'bforeai', kind: 'takedown-types', outcome }), outcome).toBe(1)
    }
    expect(sum(samples, `${P}unknown_provider_statuses_total`)).toBeGreaterThan(0)
    expect(sum(samples, `${P}idempotency_replays_total`)).toBe(1)
    expect(sum(samples, `${P}process_cpu_user_seconds_total`)).toBeGreaterThan(0)
    expect(sum(samples, `${P}nodejs_heap_size_used_bytes`)).toBeGreaterThan(0)
  })

  it('keeps one registry per app: another gateway in the same process counts only its own requests', async () => {
    const { samples } = await scrape(other)
    expect(sum(samples, `${P}http_request_duration_seconds_count`, { route: '/v1/cases' })).toBe(0)
    expect(sum(samples, `${P}idempotency_replays_total`)).toBe(0)
    await other.app.inject({ url: '/v1/providers', headers: auth() })
    expect(sum((await scrape(other)).samples, `${P}http_request_duration_seconds_count`, { route: '/v1/providers' })).toBe(1)
  })
})
