/**
 * A walk over GET /v1/cases, GET /v1/detections and the case export while one provider's base URL is wrong (every
 * list call it gets answers 404): the walk hands out the healthy providers' items, then ends with the "every provider
 * with items left failed" problem carrying the cursor to retry with, instead of empty partial pages for ever. The 404
 * counts toward the provider's circuit and GET /readyz names it as a configuration error.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Value } from 'typebox/value'
import { ManualClock } from '../../src/clock.js'
import { ProblemSchema } from '../../src/schemas/problem.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let sandbox: Sandbox
let wrongSandbox: Sandbox
let gw: TestGateway

beforeAll(async () => {
  const clock = new ManualClock()
  sandbox = await startSandbox(clock, { seed: 7, count: 30 })
  // Cloudflare's base URL points one path segment off: every route the connector calls is a 404
  const wrong = { ...sandbox.endpoints.cloudflare, baseUrl: `${sandbox.endpoints.cloudflare.baseUrl}/v9` }
  wrongSandbox = { ...sandbox, endpoints: { ...sandbox.endpoints, cloudflare: wrong } }
  gw = await testGateway({ clock, sandbox: wrongSandbox, env: { RATE_LIMIT_MAX: '0' } })
})
afterAll(async () => {
  await gw?.close()
  await sandbox?.close()
})

const cloudflareCalls = (): number => sandbox.running.cloudflare.sim.stats.total()

interface Walk { ids: string[], pages: number, last: { statusCode: number, body: Record<string, any> } }

/** Follows nextCursor like a client's `while (nextCursor)` loop, at most 200 pages. */
async function walk (path: string, query: string): Promise<Walk> {
  const ids: string[] = []
  let cursor: string | null = null
  for (let pages = 1; pages <= 200; pages++) {
    const url: string = `${path}?${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const res = await gw.app.inject({ method: 'GET', url, headers: auth() })
    const body = res.json()
    if (res.statusCode !== 200) return { ids, pages, last: { statusCode: res.statusCode, body } }
    ids.push(...body.items.map((i: { id: string }) => i.id))
    cursor = body.nextCursor
    if (cursor === null) return { ids, pages, last: { statusCode: 200, body } }
  }
  throw new Error(`${path}: the walk did not end in 200 pages`)
}

function expectRetryProblem (last: Walk['last']): void {
  expect([502, 503]).toContain(last.statusCode)
  expect(Value.Check(ProblemSchema, last.body)).toBe(true)
  expect(last.body.provider).toBe('cloudflare')
  expect(last.body.detail).toMatch(/^Every provider with items left failed \(cloudflare: /)
  expect(typeof last.body.retryCursor).toBe('string')
}

describe('a walk while one provider\'s list route answers 404', () => {
  it('the case listing ends within the pages the healthy providers need plus one, with a retry cursor', async () => {
    const healthy = await walk('/v1/cases', `limit=20&provider=${PROVIDER_IDS.filter(p => p !== 'cloudflare').join(',')}`)
    expect(healthy.last.statusCode).toBe(200)
    expect(healthy.ids.length).toBeGreaterThan(60)

    const before = cloudflareCalls()
    const all = await walk('/v1/cases', 'limit=20')
    expect(all.pages).toBeLessThanOrEqual(healthy.pages + 1)
    expect(all.ids).toEqual(healthy.ids)
    expectRetryProblem(all.last)
    // the retry cursor repeats the page: the same problem while Cloudflare still fails, with no case handed out twice
    const retry = await gw.app.inject({ method: 'GET', url: `/v1/cases?limit=20&cursor=${encodeURIComponent(all.last.body.retryCursor)}`, headers: auth() })
    expect(retry.statusCode).toBeGreaterThanOrEqual(502)
    expect(retry.json().retryCursor).toEqual(expect.any(String))
    // the 404s opened Cloudflare's circuit (5 consecutive failures): the later pages did not call it
    expect(cloudflareCalls() - before).toBeLessThanOrEqual(5)
    const providers = (await gw.app.inject({ method: 'GET', url: '/v1/providers', headers: auth() })).json()
    expect(providers.items.find((p: { id: string }) => p.id === 'cloudflare')).toMatchObject({ circuit: 'open' })
  })

  it('the detections walk ends the same way', async () => {
    const healthy = await walk('/v1/detections', 'limit=4&provider=bforeai')
    expect(healthy.last.statusCode).toBe(200)
    expect(healthy.pages).toBeGreaterThan(2)
    const all = await walk('/v1/detections', 'limit=4')
    expect(all.pages).toBeLessThanOrEqual(healthy.pages + 1)
    expect(all.ids).toEqual(healthy.ids)
    expectRetryProblem(all.last)
  })

  it.each(['csv', 'ndjson'])('the %s export ends with a problem naming the provider, not a file without its cases', async (format) => {
    const res = await gw.app.inject({ method: 'GET', url: `/v1/cases/export?format=${format}`, headers: auth() })
    expect(res.statusCode).toBeGreaterThanOrEqual(502)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json()).toMatchObject({ provider: 'cloudflare' })
    expect(res.json().detail).toMatch(/answered HTTP 404 to its list route: a configuration error \(check CLOUDFLARE_BASE_URL\)/)
  })

  it('GET /readyz names the misconfigured provider and stays ready', async () => {
    await walk('/v1/cases', 'provider=cloudflare')
    const res = await gw.app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json().configErrors).toEqual({ cloudflare: 'cloudflare answered HTTP 404 to its list route: a configuration error (check CLOUDFLARE_BASE_URL)' })
  })

  it('the start-up log names it once: the watcher\'s first sync reads every provider\'s list at start', async () => {
    const lines: Array<Record<string, unknown>> = []
    const logger = { level: 'info', stream: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>) } } }
    const started = await testGateway({ clock: gw.clock, sandbox: wrongSandbox, logger, env: { WATCH_ENABLED: 'true' } })
    try {
      // the error line of the provider; request lines (the problem answered) are warnings
      const named = (): Array<Record<string, unknown>> => lines.filter(l => l.level === 50 && l.provider === 'cloudflare' && String(l.msg).includes('answered HTTP 404 to its list route'))
      await vi.waitFor(() => { expect(named().length).toBe(1) }, { timeout: 10_000 })
      expect(named()[0]).toMatchObject({ msg: expect.stringContaining('configuration error (check CLOUDFLARE_BASE_URL)') })
      await started.app.inject({ method: 'GET', url: '/v1/cases?provider=cloudflare', headers: auth() })
      expect(named().length).toBe(1)
    } finally {
      await started.close()
    }
  })
})
