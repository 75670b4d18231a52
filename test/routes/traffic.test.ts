/**
 * Inbound traffic controls: the per-key rate limit (429 problem + Retry-After, IETF draft RateLimit headers, shared by
 * replicas through Redis, ops routes exempt) and load shedding when the event loop lags (503 problem).
 */
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { registerProblemHandler } from '../../src/plugins/problems.js'
import { registerLoadShedding } from '../../src/plugins/traffic.js'
import { ProblemSchema } from '../../src/schemas/problem.js'
import { testGateway, type TestGateway } from '../support/app.js'
import { waitFor } from '../support/wait.js'

const opened: TestGateway[] = []
afterEach(async () => { await Promise.all(opened.splice(0).map(g => g.close())) })

async function gateway (env: Record<string, string>, store: 'memory' | 'redis' = 'memory', redisPrefix?: string): Promise<TestGateway> {
  const gw = await testGateway({ env, store, ...(redisPrefix === undefined ? {} : { redisPrefix }) })
  opened.push(gw)
  return gw
}

/** fresh key names per test: the Redis counters outlive a run */
function keys (): { env: string, a: string, b: string } {
  const id = randomUUID().slice(0, 8)
  return { env: `a${id}:secret-a-${id}:read,b${id}:secret-b-${id}:read`, a: `secret-a-${id}`, b: `secret-b-${id}` }
}

describe('inbound rate limit per gateway key', () => {
  it('answers the draft RateLimit headers, then a 429 problem with Retry-After; other keys and ops routes are unaffected', async () => {
    const k = keys()
    const gw = await gateway({ GATEWAY_API_KEYS: k.env, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' })
    const get = async (url: string, key?: string) => await gw.app.inject({ method: 'GET', url, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
    for (let i = 0; i < 3; i++) {
      const ok = await get('/v1/providers', k.a)
      expect(ok.statusCode).toBe(200)
      expect(ok.headers['ratelimit-limit']).toBe('3')
      expect(ok.headers['ratelimit-remaining']).toBe(String(2 - i))
      expect(Number(ok.headers['ratelimit-reset'])).toBeGreaterThan(0)
    }
    const limited = await get('/v1/providers', k.a)
    expect(limited.statusCode).toBe(429)
    expect(String(limited.headers['content-type'])).toMatch(/^application\/problem\+json/)
    const body = limited.json()
    expect(Value.Check(ProblemSchema, body)).toBe(true)
    expect(body).toMatchObject({ status: 429, code: 'GW_ERR_RATE_LIMITED', requestId: limited.headers['x-request-id'] })
    expect(body.detail).toContain('may send 3 requests per 60 s')
    expect(body.detail).not.toContain(k.a)
    const retryAfter = Number(limited.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(limited.headers['ratelimit-remaining']).toBe('0')
    expect((await get('/v1/providers', k.b)).statusCode).toBe(200)
    for (let i = 0; i < 5; i++) {
      expect((await get('/healthz')).statusCode).toBe(200)
      expect((await get('/readyz')).statusCode).toBe(200)
    }
    // a request without a key is refused by auth (401), never counted against anyone
    expect((await get('/v1/providers')).statusCode).toBe(401)
  })

  it('two replicas on the same Redis share one budget per key', async () => {
    const k = keys()
    const env = { GATEWAY_API_KEYS: k.env, RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '60000' }
    const prefix = `t-${randomUUID()}:`
    const one = await gateway(env, 'redis', prefix)
    const two = await gateway(env, 'redis', prefix)
    const statuses: number[] = []
    for (const app of [one.app, two.app, one.app, two.app, one.app, two.app]) {
      statuses.push((await app.inject({ method: 'GET', url: '/v1/providers', headers: { authorization: `Bearer ${k.a}` } })).statusCode)
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
  })

  it('RATE_LIMIT_MAX=0 turns the limit off', async () => {
    const k = keys()
    const gw = await gateway({ GATEWAY_API_KEYS: k.env, RATE_LIMIT_MAX: '0' })
    const res = await gw.app.inject({ method: 'GET', url: '/v1/providers', headers: { authorization: `Bearer ${k.a}` } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['ratelimit-limit']).toBeUndefined()
  })
})

describe('load shedding', () => {
  it('answers a 503 problem with Retry-After while the event loop lags; /healthz keeps answering', async () => {
    const app = Fastify({ logger: false })
    registerProblemHandler(app)
    await registerLoadShedding(app, { maxEventLoopDelayMs: 50, sampleIntervalMs: 20 })
    app.get('/work', async () => ({ ok: true }))
    app.get('/healthz', async () => ({ status: 'ok' }))
    await app.ready()
    try {
      expect((await app.inject('/work')).statusCode).toBe(200)
      let shed = null
      for (let attempt = 0; attempt < 5 && shed === null; attempt++) {
        const until = Date.now() + 300
        while (Date.now() < until) { /* block the event loop */ }
        await new Promise(resolve => setTimeout(resolve, 0)) // the sampler runs first: it was due long ago
        const [work, health] = await Promise.all([app.inject('/work'), app.inject('/healthz')])
        if (work.statusCode === 503) shed = { work, health }
      }
      expect(shed).not.toBeNull()
      expect(shed!.work.json()).toMatchObject({ status: 503, code: 'GW_ERR_UNAVAILABLE' })
      expect(shed!.work.headers['retry-after']).toBe('5')
      expect(shed!.health.statusCode).toBe(200)
      // once the samples are calm again the work is served (on a loaded machine that can take more than a few samples)
      const served = await waitFor('/work served again once the event loop is calm', async () => (await app.inject('/work')).statusCode === 200)
      expect(served).toBe(true)
    } finally {
      await app.close()
    }
  })
})
