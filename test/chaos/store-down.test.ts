/**
 * Every route with the gateway's Redis stopped (SIGKILL): each answers 503 with Retry-After, or works where it needs
 * no store; never 500. `/metrics` answers 200, and a gauge whose collect step could not read the store says so.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownRedisGateway, type OwnRedisGateway } from '../support/own-redis-gateway.js'

const headers = { authorization: 'Bearer ops-secret-key' }

/** Every route as `METHOD path`, read from Fastify's route tree (HEAD routes answer like their GET). */
function registeredRoutes (app: FastifyInstance): Array<{ method: string, url: string }> {
  const out: Array<{ method: string, url: string }> = []
  const tree = app.printRoutes({ commonPrefix: false })
  let stack: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)(?:[├└]── )(\S+) \(([^)]+)\)/.exec(line)
    const seg = /^([│ ]*)(?:[├└]── )(\S+)/.exec(line)
    if (seg === null) continue
    const depth = (seg[1] as string).length / 4
    stack = stack.slice(0, depth)
    stack.push(seg[2] as string)
    if (m === null) continue
    for (const method of (m[3] as string).split(', ')) if (method !== 'HEAD' && method !== 'OPTIONS') out.push({ method, url: stack.join('') })
  }
  return out
}

describe('every route with the store stopped', () => {
  let gw: OwnRedisGateway
  let app: FastifyInstance

  beforeAll(async () => {
    gw = await ownRedisGateway({ jobs: 'memory', env: { WATCH_ENABLED: 'false' } })
    app = gw.app
  })
  afterAll(async () => { await gw.close() })

  /** a request body for each operation: the first JSON example of the OpenAPI document */
  function exampleBody (method: string, url: string): unknown {
    const doc = app.swagger() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { example?: unknown, examples?: Record<string, { value: unknown }> }> } }>> }
    const content = doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.requestBody?.content['application/json']
    if (content === undefined) return undefined
    return content.example ?? Object.values(content.examples ?? {})[0]?.value
  }

  it('answers 503 with Retry-After (or works) on every route, and /metrics answers 200', async () => {
    // real ids made while the store was up
    const caseId = ((await app.inject({ url: '/v1/cases?provider=phishfort&limit=1', headers })).json().items[0] as { id: string }).id
    const detectionId = ((await app.inject({ url: '/v1/detections?limit=1', headers })).json().items[0] as { id: string }).id
    const endpoint = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers, payload: { url: 'http://127.0.0.1:9/hook' } })
    expect(endpoint.statusCode).toBe(201)
    const batch = await app.inject({ method: 'POST', url: '/v1/batches', headers, payload: { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: 'https://a.example/' } }] } })
    expect(batch.statusCode).toBe(202)
    const param: Array<[string, string]> = [
      ['/v1/webhook-endpoints', endpoint.json().id], ['/v1/batches', batch.json().id], ['/v1/detections', encodeURIComponent(detectionId)],
      ['/v1/brand-monitors', 'logo:201'], ['/v1/cases', encodeURIComponent(caseId)]
    ]
    const routes = registeredRoutes(app)
    expect(routes.length).toBeGreaterThan(40)
    gw.redis.kill('SIGKILL')
    for (let i = 0; i < 50 && (await gw.store.health()) === null; i++) await new Promise(resolve => setTimeout(resolve, 20))

    const wrong: string[] = []
    for (const { method, url } of routes) {
      const id = param.find(([prefix]) => url.startsWith(prefix))?.[1] ?? ''
      const path = url.replace(':action', 'escalate').replace(':kind', 'statuses').replace(':eventId', '1-0').replace(/:\w+/g, id).replace('*', 'x') +
        (url === '/v1/scans' && method === 'GET' ? '?url=https%3A%2F%2Facme-login.example%2F' : '') +
        (url === '/v1/targets/lookup' ? '?value=acme-login.example' : '')
      const body = exampleBody(method, url)
      const res = await app.inject({ method: method as 'GET', url: path, headers: { ...headers, 'idempotency-key': `k-${wrong.length}-${url}` }, ...(body === undefined ? {} : { payload: body as object }) })
      // works (a 4xx the request itself earns: no signature, an unknown static file), or 503 with Retry-After; never 500 or 400
      const ok = res.statusCode === 503 ? res.headers['retry-after'] !== undefined : res.statusCode < 500 && res.statusCode !== 400
      if (!ok) wrong.push(`${method} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    }
    expect(wrong).toEqual([])

    const scrape = await app.inject({ url: '/metrics', headers })
    expect(scrape.statusCode).toBe(200)
    expect(scrape.body).toContain('takedown_gateway_metric_unavailable{metric="takedown_gateway_webhook_endpoints"} 1')
    expect(scrape.body).toMatch(/^takedown_gateway_http_request_duration_seconds_count\{/m)
  })
})
