/**
 * VendorHttp against undici MockAgent: retries only for idempotent reads, Retry-After and Cloudflare `Ratelimit`,
 * fail-fast when a wait would overrun the deadline, writes never repeated once they may have reached the vendor,
 * error kinds for malformed bodies and hangs, and the outbound budget passed to the client.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MockAgent } from 'undici'
import { ManualClock, systemClock } from '../../src/clock.js'
import { ConnectorError, type ConnectorContext } from '../../src/connectors/connector.js'
import { retryAfterSeconds, VendorHttp } from '../../src/connectors/http.js'
import { isBudgetRefusal, OutboundBudget } from '../../src/connectors/outbound-budget.js'
import { sleep, type CancelSignal } from '../../src/connectors/deadline.js'
import { createLogger } from '../../src/logger.js'
import { MemoryKvStore } from '../../src/store/memory-kv-store.js'
import { silentLog, testCtx } from '../support/connectors.js'

const ORIGIN = 'https://vendor.example'
const JSON_HEADERS = { 'content-type': 'application/json' }
const SECRET = 'vendor-secret-never-in-errors'

let agent: MockAgent
beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
})
afterEach(async () => {
  agent.assertNoPendingInterceptors()
  await agent.close()
})

function http (opts: { timeoutMs?: number, backoffMs?: number, budget?: OutboundBudget, sleep?: (ms: number, signal: CancelSignal) => Promise<void> } = {}): VendorHttp {
  return new VendorHttp({
    provider: 'phishfort',
    baseUrl: `${ORIGIN}/api`,
    dispatcher: agent,
    headers: { 'x-api-key': SECRET },
    timeoutMs: opts.timeoutMs ?? 3000,
    parseError: (_status, body) => (body as { message?: string } | null)?.message ?? null,
    clock: systemClock,
    backoffMs: opts.backoffMs ?? 10,
    budget: opts.budget,
    sleep: opts.sleep
  })
}

const pool = () => agent.get(ORIGIN)

async function failure (p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConnectorError)
  expect(String((err as Error).message)).not.toContain(SECRET)
  return err as ConnectorError
}

describe('VendorHttp retries of idempotent reads', () => {
  it('honours 429 + Retry-After: waits that long, then succeeds', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(429, { message: 'slow down' }, { headers: { ...JSON_HEADERS, 'retry-after': '1' } })
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { ok: true }, { headers: JSON_HEADERS })
    const waits: number[] = []
    const res = await http({ sleep: async ms => { waits.push(ms) } }).call({ method: 'GET', path: '/items' }, testCtx())
    expect(res).toMatchObject({ status: 200, body: { ok: true } })
    expect(waits).toEqual([1000])
  })

  it('honours Cloudflare\'s `Ratelimit: "default";r=0;t=N` when there is no Retry-After', () => {
    expect(retryAfterSeconds({ ratelimit: '"default";r=0;t=30' }, systemClock)).toBe(30)
    expect(retryAfterSeconds({ ratelimit: '"default";r=12;t=30' }, systemClock)).toBeNull()
    const clock = new ManualClock('2026-11-01T00:00:00Z')
    expect(retryAfterSeconds({ 'retry-after': 'Sun, 01 Nov 2026 00:00:20 GMT' }, clock)).toBe(20)
  })

  it('503 then 200: the retry succeeds', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(503, { message: 'maintenance' }, { headers: JSON_HEADERS })
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { ok: 1 }, { headers: JSON_HEADERS })
    const res = await http().call({ method: 'GET', path: '/items' }, testCtx())
    expect(res.body).toEqual({ ok: 1 })
  })

  it('gives up after two retries with kind unavailable', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(503, { message: 'down' }, { headers: JSON_HEADERS }).times(3)
    const err = await failure(http().call({ method: 'GET', path: '/items' }, testCtx()))
    expect([err.kind, err.upstreamStatus]).toEqual(['unavailable', 503])
  })

  it('a Retry-After longer than the remaining deadline fails fast with rate_limited and that retryAfter', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(429, { message: 'slow down' }, { headers: { ...JSON_HEADERS, 'retry-after': '30' } })
    const waits: number[] = []
    const err = await failure(http({ timeoutMs: 2000, sleep: async ms => { waits.push(ms) } }).call({ method: 'GET', path: '/items' }, testCtx()))
    expect(waits).toEqual([])
    expect([err.kind, err.retryAfter, err.upstreamStatus]).toEqual(['rate_limited', 30, 429])
  })

  it('a retry wait ended by the caller (client gone) is a timeout, never a raw AbortError', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(503, { message: 'busy' }, { headers: { ...JSON_HEADERS, 'retry-after': '2' } })
    const controller = new AbortController()
    const ctx: ConnectorContext = { signal: controller.signal, deadline: Date.now() + 5000, log: silentLog }
    const waits: number[] = []
    // the client goes away as the 2 s wait starts: the wait ends then, not after 2 s
    const err = await failure(http({ timeoutMs: 5000, sleep: async (ms, signal) => { waits.push(ms); controller.abort(); await sleep(ms, signal) } }).call({ method: 'GET', path: '/items' }, ctx))
    expect(err.kind).toBe('timeout')
    expect(err.message).toContain('while waiting to retry')
    expect(waits).toEqual([2000])
  })
})

describe('VendorHttp writes', () => {
  it('a POST answered 503 is never retried', async () => {
    pool().intercept({ path: '/api/items', method: 'POST' }).reply(503, { message: 'down' }, { headers: JSON_HEADERS })
    const err = await failure(http().call({ method: 'POST', path: '/items', json: { a: 1 } }, testCtx()))
    expect(err.kind).toBe('unavailable')
  })

  it('a POST answered 429 is never retried', async () => {
    pool().intercept({ path: '/api/items', method: 'POST' }).reply(429, { message: 'slow' }, { headers: { ...JSON_HEADERS, 'retry-after': '1' } })
    const err = await failure(http().call({ method: 'POST', path: '/items', json: { a: 1 } }, testCtx()))
    expect([err.kind, err.retryAfter]).toEqual(['rate_limited', 1])
  })

  it('a POST whose connection was refused before sending is retried once and succeeds', async () => {
    pool().intercept({ path: '/api/items', method: 'POST' }).replyWithError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }))
    pool().intercept({ path: '/api/items', method: 'POST' }).reply(201, { id: 'x1' }, { headers: JSON_HEADERS })
    const res = await http().call({ method: 'POST', path: '/items', json: { a: 1 } }, testCtx())
    expect(res).toMatchObject({ status: 201, body: { id: 'x1' } })
  })

  it('a urlencoded body goes out form-encoded with its content type; a plain-text answer comes back as text', async () => {
    pool().intercept({
      path: '/api/report/',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'attack=https%3A%2F%2Fx.example%2Fa+b&force_auth=true'
    }).reply(200, 'TD_OK\n30480489', { headers: { 'content-type': 'text/plain' } })
    const res = await http().call({ method: 'POST', path: '/report/', urlencoded: { attack: 'https://x.example/a b', force_auth: 'true' }, idempotent: false }, testCtx())
    expect(res).toMatchObject({ status: 200, body: 'TD_OK\n30480489' })
  })

  it('a POST whose connection was reset after sending is not retried (it may have reached the vendor)', async () => {
    pool().intercept({ path: '/api/items', method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
    const err = await failure(http().call({ method: 'POST', path: '/items', json: { a: 1 } }, testCtx()))
    expect(err.kind).toBe('unavailable')
  })
})

describe('VendorHttp error kinds', () => {
  it('malformed JSON in a 200 → protocol, not retried', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, '{"items": [ {"id": "trunc', { headers: JSON_HEADERS })
    const err = await failure(http().call({ method: 'GET', path: '/items' }, testCtx()))
    expect([err.kind, err.upstreamStatus]).toEqual(['protocol', 200])
  })

  it('a hang → timeout within the deadline', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { late: true }, { headers: JSON_HEADERS }).delay(5000)
    const err = await failure(http({ timeoutMs: 300 }).call({ method: 'GET', path: '/items' }, testCtx()))
    // the per-vendor deadline ended it (the 5 s reply never came), not the caller
    expect([err.kind, err.message, err.cancelled]).toEqual(['timeout', 'no answer within 300 ms', false])
    // the delayed reply is still pending inside MockAgent; it was consumed, so no pending interceptor remains
  })

  it('a caller that goes away before the deadline is a cancelled timeout (the breaker ignores it); the deadline itself is not', async () => {
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { late: true }, { headers: JSON_HEADERS }).delay(5000)
    const client = new AbortController()
    const ctx = { ...testCtx(), signal: AbortSignal.any([client.signal, AbortSignal.timeout(3000)]), deadline: Date.now() + 3000 }
    setTimeout(() => client.abort(), 50)
    const err = await failure(http().call({ method: 'GET', path: '/items' }, ctx))
    expect([err.kind, err.cancelled]).toEqual(['timeout', true])
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { late: true }, { headers: JSON_HEADERS }).delay(5000)
    const late = await failure(http({ timeoutMs: 200 }).call({ method: 'GET', path: '/items' }, testCtx()))
    expect([late.kind, late.cancelled]).toEqual(['timeout', false])
  })
})

describe('VendorHttp with an outbound budget', () => {
  function budgeted (limit: number, windowMs: number, log = silentLog): VendorHttp {
    return http({
      budget: new OutboundBudget({ provider: 'phishfort', credential: SECRET, limit, windowMs, store: new MemoryKvStore(systemClock), clock: systemClock, log })
    })
  }

  it('a read over budget fails fast with rate_limited and the gateway\'s own retryAfter, without calling the vendor', async () => {
    const h = budgeted(2, 60_000)
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { ok: true }, { headers: JSON_HEADERS }).times(2)
    await h.call({ method: 'GET', path: '/items' }, testCtx())
    await h.call({ method: 'GET', path: '/items' }, testCtx())
    const err = await failure(h.call({ method: 'GET', path: '/items' }, testCtx()))
    // refused by the budget at once (a read never waits for room), not by the vendor
    expect(isBudgetRefusal(err)).toBe(true)
    expect(err.kind).toBe('rate_limited')
    expect(err.upstreamStatus).toBeNull()
    expect(err.retryAfter).toBeGreaterThan(0)
    expect(err.retryAfter).toBeLessThanOrEqual(60)
  })

  it('a write over budget waits for room within its deadline, then goes out once', async () => {
    const lines: string[] = []
    const h = budgeted(1, 400, createLogger('debug', { write: (line: string) => { lines.push(line) } }))
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { ok: true }, { headers: JSON_HEADERS })
    pool().intercept({ path: '/api/items', method: 'POST' }).reply(201, { id: 'w1' }, { headers: JSON_HEADERS })
    await h.call({ method: 'GET', path: '/items' }, testCtx())
    const res = await h.call({ method: 'POST', path: '/items', json: {} }, testCtx())
    expect(res.status).toBe(201)
    // it waited for the window to move (at most its 400 ms) instead of being refused; afterEach checks one POST went out
    const waits = lines.map(l => JSON.parse(l) as { msg: string, waitMs?: number }).filter(l => l.msg === 'outbound budget spent; write waits for room')
    expect(waits.length).toBeGreaterThan(0)
    for (const w of waits) expect(w.waitMs).toBeLessThanOrEqual(400)
  })

  it('a caller with a share of the budget stops at its share while interactive calls still get the rest', async () => {
    const budget = new OutboundBudget({ provider: 'phishfort', credential: SECRET, limit: 10, windowMs: 60_000, store: new MemoryKvStore(systemClock), clock: systemClock, log: silentLog })
    const h = http({ timeoutMs: 300, budget })
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { ok: true }, { headers: JSON_HEADERS }).times(10)
    const share = budget.share('batch', 0.3)
    for (let i = 0; i < 3; i++) await h.call({ method: 'GET', path: '/items' }, { ...testCtx(), budget: share })
    const err = await failure(h.call({ method: 'GET', path: '/items' }, { ...testCtx(), budget: share }))
    expect(err.kind).toBe('rate_limited')
    expect(err.message).toContain('(3 requests per 60 s')
    // the other 7 of the window stay for interactive calls
    for (let i = 0; i < 7; i++) await h.call({ method: 'GET', path: '/items' }, testCtx())
    expect((await failure(h.call({ method: 'GET', path: '/items' }, testCtx()))).kind).toBe('rate_limited')
  })

  it('a write whose wait would overrun its deadline fails with rate_limited', async () => {
    const h = budgeted(1, 60_000)
    pool().intercept({ path: '/api/items', method: 'GET' }).reply(200, { ok: true }, { headers: JSON_HEADERS })
    await h.call({ method: 'GET', path: '/items' }, testCtx())
    const err = await failure(h.call({ method: 'POST', path: '/items', json: {} }, testCtx()))
    expect(err.kind).toBe('rate_limited')
  })
})
