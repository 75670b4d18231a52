/**
 * The per-request access line and the request-duration histogram, both written by the one onResponse hook: one line per
 * request with the request id the client sent, the route template and the key's name (never the key); none for the
 * probes, whose routes log at warn; the histogram's buckets cumulative up to `+Inf` = `_count`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
const lines: Array<Record<string, unknown>> = []

beforeAll(async () => {
  gw = await testGateway({ logger: { level: 'info', stream: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>) } } } })
})
afterAll(async () => { await gw?.close() })

const accessLines = (): Array<Record<string, unknown>> => lines.filter(l => l.msg === 'request done')

describe('access line and request histogram', () => {
  it('writes one line per request with the client\'s request id, the route template and the key name, never the key', async () => {
    lines.length = 0
    const res = await gw.app.inject({ url: '/v1/reference/statuses?provider=phishfort', headers: { ...auth('reader-secret-key'), 'x-request-id': 'trace-access-1' } })
    expect(res.statusCode).toBe(200)
    const mine = accessLines().filter(l => l.reqId === 'trace-access-1')
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatchObject({ level: 30, method: 'GET', route: '/v1/reference/:kind', status: 200, client: 'reader' })
    expect(typeof mine[0]!.ms).toBe('number')
    expect(JSON.stringify(lines)).not.toContain('reader-secret-key')

    const denied = await gw.app.inject({ url: '/v1/cases', headers: { authorization: 'Bearer not-a-key-1234', 'x-request-id': 'trace-access-2' } })
    expect(denied.statusCode).toBe(401)
    expect(accessLines().find(l => l.reqId === 'trace-access-2')).toMatchObject({ status: 401, route: '/v1/cases', client: null })
    expect(JSON.stringify(lines)).not.toContain('not-a-key-1234')
  })

  it('writes no access line for the probes and the metrics scrape (their routes log at warn)', async () => {
    lines.length = 0
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      expect((await gw.app.inject({ url, headers: { 'x-request-id': `probe-${url.slice(1)}` } })).statusCode).toBe(200)
    }
    expect(accessLines()).toEqual([])
  })

  it('counts requests per method, route template and status into cumulative buckets', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await gw.app.inject({ url: '/v1/reference/platforms?provider=bforeai', headers: auth() })).statusCode).toBe(200)
    }
    const text = (await gw.app.inject({ url: '/metrics' })).body
    const series = text.split('\n').filter(l => l.startsWith('takedown_gateway_http_request_duration_seconds') && l.includes('route="/v1/reference/:kind"') && l.includes('status_code="200"'))
    const value = (l: string): number => Number(l.slice(l.lastIndexOf(' ') + 1))
    const buckets = series.filter(l => l.includes('_bucket{'))
    expect(buckets).toHaveLength(13) // 12 bounds and +Inf
    const counts = buckets.map(value)
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]!)
    const count = value(series.find(l => l.includes('_count{'))!)
    expect(count).toBeGreaterThanOrEqual(3)
    expect(buckets.at(-1)).toContain('le="+Inf"')
    expect(counts.at(-1)).toBe(count)
    expect(value(series.find(l => l.includes('_sum{'))!)).toBeGreaterThan(0)
    expect(text).toContain('# TYPE takedown_gateway_http_request_duration_seconds histogram')
    expect(text).toContain('# TYPE takedown_gateway_upstream_requests_total counter')
  })
})
