/**
 * The batched Redis counter of the inbound rate limit: two "replicas" (two stores on their own connections to one Redis)
 * together let exactly `max` requests through per window, while a key far from its limit costs Redis a call per batch,
 * not per request. Real Redis; the store is driven the way @fastify/rate-limit drives it (incr → current > max = 429).
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { batchedRedisStore } from '../../src/plugins/rate-limit-store.js'

const clients: Redis[] = []
afterAll(() => { for (const c of clients) c.disconnect() })

function replica (ns: string): { incr: (key: string, max: number, windowMs?: number) => Promise<{ current: number, ttl: number }>, calls: () => number, close: () => void } {
  const redis = new Redis(inject('redisUrl'))
  clients.push(redis)
  const { Store, close } = batchedRedisStore(redis, ns, { flushMs: 20 })
  const client = redis as unknown as Record<string, (...a: unknown[]) => unknown>
  const original = client.tgwRateLimitBy!
  let calls = 0
  client.tgwRateLimitBy = (...a: unknown[]) => { calls++; return original.apply(redis, a) }
  const store = new Store({}).child({ routeInfo: { method: 'GET', url: '/v1/things' } } as never)
  return {
    incr: async (key, max, windowMs = 60_000) => await new Promise((resolve, reject) => {
      store.incr(key, (err, res) => { if (err !== null) reject(err); else resolve(res!) }, windowMs, max)
    }),
    calls: () => calls,
    close
  }
}

async function run (replicas: Array<ReturnType<typeof replica>>, key: string, max: number, requests: number): Promise<number> {
  let admitted = 0
  for (let i = 0; i < requests; i++) {
    const r = await replicas[i % replicas.length]!.incr(key, max)
    if (r.current <= max) admitted++
    // now and then a pause longer than the flush interval, as between bursts of real traffic
    if (i % 97 === 0) await new Promise(resolve => setTimeout(resolve, 30))
  }
  return admitted
}

describe('batched Redis rate-limit store', () => {
  it('two replicas let exactly max requests through, with far fewer Redis calls than requests below half the limit', async () => {
    const ns = `test:rl:${randomUUID()}:`
    const a = replica(ns)
    const b = replica(ns)
    const max = 1000
    const admitted = await run([a, b], 'key-1', max, 1300)
    expect(admitted).toBe(max)
    // the first half (500 requests) is counted in batches of up to max/100 (43 calls measured); from half the limit
    // on, every request (the 300 refused ones too) is a call of its own
    const calls = a.calls() + b.calls()
    expect(calls).toBeLessThanOrEqual(1300 - max / 2 + 100)
    expect(calls).toBeGreaterThanOrEqual(1300 - max / 2)
    a.close(); b.close()
  })

  it('a small limit is counted in Redis on every request (exact from the first one)', async () => {
    const ns = `test:rl:${randomUUID()}:`
    const a = replica(ns)
    const b = replica(ns)
    const admitted = await run([a, b], 'key-2', 12, 30)
    expect(admitted).toBe(12)
    expect(a.calls() + b.calls()).toBe(30)
    a.close(); b.close()
  })

  it('counts what a replica let through locally: after a flush Redis holds every admitted request', async () => {
    const ns = `test:rl:${randomUUID()}:`
    const a = replica(ns)
    for (let i = 0; i < 40; i++) await a.incr('key-3', 1000)
    await new Promise(resolve => setTimeout(resolve, 60))
    const redis = new Redis(inject('redisUrl'))
    clients.push(redis)
    expect(Number(await redis.get(`${ns}GET/v1/things-key-3`))).toBe(40)
    const ttl = await redis.pttl(`${ns}GET/v1/things-key-3`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
    a.close()
  })

  it('a key that passed half its limit in one window is counted in batches again in the next', async () => {
    const ns = `test:rl:${randomUUID()}:`
    const a = replica(ns)
    const windowMs = 400
    for (let i = 0; i < 700; i++) await a.incr('key-5', 1000, windowMs)
    await new Promise(resolve => setTimeout(resolve, windowMs + 100))
    const before = a.calls()
    let last = 0
    for (let i = 0; i < 200; i++) last = (await a.incr('key-5', 1000, windowMs)).current
    expect(last).toBe(200) // counted from zero in the new window
    // batches of up to 10 (max / 100): far fewer calls than the 200 requests
    expect(a.calls() - before).toBeLessThanOrEqual(40)
    a.close()
  })

  it('a new window starts from zero once the old one has expired', async () => {
    const ns = `test:rl:${randomUUID()}:`
    const a = replica(ns)
    const first = await a.incr('key-4', 5, 50)
    expect(first.current).toBe(1)
    for (let i = 0; i < 5; i++) await a.incr('key-4', 5, 50)
    expect((await a.incr('key-4', 5, 50)).current).toBe(7)
    await new Promise(resolve => setTimeout(resolve, 80))
    expect((await a.incr('key-4', 5, 50)).current).toBe(1)
    a.close()
  })
})
