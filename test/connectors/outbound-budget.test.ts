/**
 * The outbound budget shared by replicas through Redis: far from its limit a call costs one round trip (counted at
 * once); near it, the counters are read first, so a refused call is not counted; a count another replica pushed past
 * half the limit is seen on the next call.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { isBudgetRefusal, OutboundBudget } from '../../src/connectors/outbound-budget.js'
import type { KvStore } from '../../src/store/kv-store.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'
import { silentLog } from '../support/connectors.js'

const WINDOW = 60_000
// the start of a window, so `elapsed` is 0 and the previous window weighs fully
const T0 = 1_000 * WINDOW

/** the store's commands, as the budget issued them */
function counting (store: KvStore): { store: KvStore, calls: string[] } {
  const calls: string[] = []
  const wrapped: KvStore = Object.create(store) as KvStore
  wrapped.get = async key => { calls.push('get'); return await store.get(key) }
  wrapped.incr = async (key, ttl) => { calls.push('incr'); return await store.incr(key, ttl) }
  return { store: wrapped, calls }
}

const read = { write: false, deadline: Number.MAX_SAFE_INTEGER, signal: new AbortController().signal }

async function refused (p: Promise<void>): Promise<boolean> {
  try { await p; return false } catch (err) { if (isBudgetRefusal(err)) return true; throw err }
}

describe('outbound budget over Redis', () => {
  const stores: RedisKvStore[] = []
  afterEach(async () => { await Promise.all(stores.splice(0).map(async s => { await s.close() })) })

  async function replicas (n: number, limit: number, clock: ManualClock): Promise<Array<{ budget: OutboundBudget, calls: string[] }>> {
    const prefix = `t-ob-${randomUUID()}:`
    return await Promise.all(Array.from({ length: n }, async () => {
      const redis = new RedisKvStore(inject('redisUrl'), { keyPrefix: prefix })
      stores.push(redis)
      expect(await redis.waitReady(2000)).toBe(true)
      const { store, calls } = counting(redis)
      return { budget: new OutboundBudget({ provider: 'phishfort', credential: 'k', limit, windowMs: WINDOW, store, clock, log: silentLog }), calls }
    }))
  }

  it('far from the limit a call is one incr; from half the limit on the counters are read before counting', async () => {
    const clock = new ManualClock(T0)
    const [a] = await replicas(1, 10, clock)
    await a!.budget.acquire(read)
    expect(a!.calls).toEqual(['get', 'get', 'incr'])
    a!.calls.length = 0
    for (let i = 0; i < 4; i++) await a!.budget.acquire(read) // counts 2..5: within half of 10
    expect(a!.calls).toEqual(['incr', 'incr', 'incr', 'incr'])
    a!.calls.length = 0
    for (let i = 0; i < 5; i++) await a!.budget.acquire(read) // counts 6..10: past half, read first
    expect(a!.calls).toEqual(Array(5).fill(['get', 'get', 'incr']).flat())
    a!.calls.length = 0
    expect(await refused(a!.budget.acquire(read))).toBe(true)
    // a refused call reads and does not count
    expect(a!.calls).toEqual(['get', 'get'])
    expect(await a!.budget.remaining()).toBe(0)
  })

  it('a replica that last saw a low count still refuses once another replica has spent the window', async () => {
    const clock = new ManualClock(T0)
    const [a, b] = await replicas(2, 10, clock)
    await a!.budget.acquire(read) // a sees 1
    for (let i = 0; i < 9; i++) await b!.budget.acquire(read) // b takes the rest
    a!.calls.length = 0
    expect(await refused(a!.budget.acquire(read))).toBe(true)
    // counted at once (a's last look said 1 of 10), judged on the count Redis returned: refused
    expect(a!.calls).toEqual(['incr'])
    // and from then on a reads first, so further refusals are not counted
    a!.calls.length = 0
    expect(await refused(a!.budget.acquire(read))).toBe(true)
    expect(a!.calls).toEqual(['get', 'get'])
  })

  it('a new window is read once, with the previous window weighing in', async () => {
    const clock = new ManualClock(T0)
    const [a] = await replicas(1, 10, clock)
    for (let i = 0; i < 4; i++) await a!.budget.acquire(read)
    clock.advance(WINDOW) // the next window starts: the previous one (4) still weighs fully
    a!.calls.length = 0
    await a!.budget.acquire(read) // 1 + 4 = 5: read, then counted
    await a!.budget.acquire(read) // 2 + 4 = 6 > 5: past half, read again
    expect(a!.calls).toEqual(['get', 'get', 'incr', 'get', 'get', 'incr'])
    clock.advance(WINDOW / 2) // half the previous window has gone: 2 + 4 × 0.5 = 4, plus one = 5 ≤ 5
    a!.calls.length = 0
    await a!.budget.acquire(read)
    expect(a!.calls).toEqual(['incr'])
  })
})
