/**
 * The per-key rate limit's counter in Redis without a Redis round trip per request. @fastify/rate-limit's own Redis
 * store runs one script per request; at the default 6,000 per minute that script was most of what the shared store
 * cost a reference-data hit (ADR 0029). This store keeps, per key, the count Redis last returned and the requests this
 * process let through since, and adds them to Redis in one INCRBY every `flushMs`, while the key is far from its limit:
 *
 * - fast path: the last known count plus this process's unflushed requests stays under half the limit, fewer than
 *   `max / 100` requests are unflushed, and the window is not about to end → answered from memory;
 * - otherwise (a new key, near the limit, a small limit under 200, the window's end) → the request is added to Redis
 *   with whatever is pending and the answer is Redis's count, exact across replicas as before.
 *
 * So the limit is as exact as before where it matters (from half the limit on, every request is counted in Redis before
 * it is answered); below half of it, replicas see each other's requests up to `flushMs` late. Over-admission would
 * need more than 50 replicas each holding a full batch at the moment the count crosses half the limit.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { Cluster, Redis } from 'ioredis'

/** KEYS: counter. ARGV: 1 window ms, 2 requests to add. Returns {count, ms left in the window}. */
const INCR_BY = `
local n = tonumber(ARGV[2])
local current = redis.call('INCRBY', KEYS[1], n)
local ttl = -1
if current ~= n then ttl = redis.call('PTTL', KEYS[1]) end
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`

type Callback = Parameters<FastifyRateLimitStore['incr']>[1]
type IncrBy = (key: string, windowMs: number, n: number, cb: (err: Error | null, res: [number, number]) => void) => void

interface Counter {
  /** the count Redis last returned */
  known: number
  /** requests let through by this process and not yet added to Redis */
  pending: number
  /** when the window ends (Date.now() ms), from Redis's PTTL */
  endsAt: number
  windowMs: number
}

class Shared {
  readonly counters = new Map<string, Counter>()
  #timer: NodeJS.Timeout | null = null

  constructor (readonly incrBy: IncrBy, readonly flushMs: number) {}

  scheduleFlush (): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => { this.#timer = null; this.flush() }, this.flushMs)
    this.#timer.unref()
  }

  flush (): void {
    const now = Date.now()
    for (const [key, c] of this.counters) {
      if (c.pending === 0) {
        if (c.endsAt <= now) this.counters.delete(key)
        continue
      }
      const n = c.pending
      c.pending = 0
      // a failed flush loses those counts: the plugin skips counting on store errors too (skipOnError)
      this.incrBy(key, c.windowMs, n, (err, res) => { if (err === null) this.#learn(c, res) })
    }
  }

  #learn (c: Counter, res: [number, number]): void {
    const endsAt = Date.now() + Number(res[1])
    // within one window Redis's count only grows (a reply that arrives late is older, not lower); a window ending
    // more than half a window later than the one known is a new window, whose count starts again
    c.known = endsAt - c.endsAt > c.windowMs / 2 ? Number(res[0]) : Math.max(c.known, Number(res[0]))
    c.endsAt = Math.max(c.endsAt, endsAt)
  }

  incr (key: string, cb: Callback, windowMs: number, max: number): void {
    const now = Date.now()
    const c = this.counters.get(key)
    if (c !== undefined && max >= 200 && c.pending < max / 100 && c.known + c.pending + 1 <= max / 2 && now < c.endsAt - this.flushMs) {
      c.pending++
      this.scheduleFlush()
      cb(null, { current: c.known + c.pending, ttl: c.endsAt - now })
      return
    }
    const n = (c?.pending ?? 0) + 1
    if (c !== undefined) c.pending = 0
    this.incrBy(key, windowMs, n, (err, res) => {
      if (err !== null) { cb(err); return }
      let counter = this.counters.get(key)
      if (counter === undefined) {
        counter = { known: 0, pending: 0, endsAt: 0, windowMs }
        this.counters.set(key, counter)
      }
      this.#learn(counter, res)
      // the requests this process let through meanwhile count against this one too
      cb(null, { current: Number(res[0]) + counter.pending, ttl: Number(res[1]) })
    })
  }

  close (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.flush()
  }
}

/**
 * A store class for the plugin's `store` option (it calls `new Store(params)` and `child(route)` per route, like its
 * own Redis store: one counter per key and route, under `nameSpace`).
 */
export function batchedRedisStore (redis: Redis | Cluster, nameSpace: string, opts: { flushMs?: number } = {}): { Store: FastifyRateLimitStoreCtor, close: () => void } {
  const client = redis as unknown as Record<string, unknown>
  if (client.tgwRateLimitBy === undefined) redis.defineCommand('tgwRateLimitBy', { numberOfKeys: 1, lua: INCR_BY })
  const incrBy: IncrBy = (key, windowMs, n, cb) => {
    (client.tgwRateLimitBy as (k: string, w: number, n: number, cb: (err: Error | null, res: [number, number]) => void) => void)(key, windowMs, n, cb)
  }
  const shared = new Shared(incrBy, opts.flushMs ?? 100)
  const make = (prefix: string): FastifyRateLimitStore => ({
    incr: (key, cb, timeWindow, max) => { shared.incr(prefix + key, cb, timeWindow, max) },
    // the plugin hands each route's options with `routeInfo` (its own Redis store keys by it the same way)
    child: (route) => {
      const info = (route as unknown as { routeInfo: { method: string, url: string } }).routeInfo
      return make(`${prefix}${info.method}${info.url}-`)
    }
  })
  return {
    Store: function BatchedRedisStore () { return make(nameSpace) } as unknown as FastifyRateLimitStoreCtor,
    close: () => { shared.close() }
  }
}
