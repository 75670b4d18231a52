/**
 * Inbound traffic controls: a rate limit per gateway key (429 with Retry-After) counted in the shared
 * Redis when there is one, and load shedding (503) when the event loop falls behind. Both answer through the one
 * error handler, so every refusal is an RFC 9457 problem.
 */
import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, preHandlerHookHandler } from 'fastify'
import { GatewayError } from '../domain/problems.js'
import type { KvStore } from '../store/kv-store.js'
import { keys } from '../store/keys.js'
import { batchedRedisStore } from './rate-limit-store.js'

export interface RateLimitOptions {
  /** requests per key per window; 0 = off */
  max: number
  windowMs: number
}

/** The counter a rate limit asks: `incr` answers the key's count in the window (this request included) and the ms left. */
type Counter = Pick<FastifyRateLimitStore, 'incr'>

/**
 * Per key, the requests of the current fixed window, in this process (no Redis): a window starts with the key's
 * first request after the previous one ended. Keys are gateway key names, so there are as many as configured keys.
 */
export function localCounter (): Counter {
  const windows = new Map<string, { count: number, startedAt: number }>()
  return {
    incr: (key, cb, windowMs) => {
      const now = Date.now()
      let w = windows.get(key)
      if (w === undefined || w.startedAt + windowMs <= now) windows.set(key, w = { count: 0, startedAt: now })
      w.count++
      cb(null, { current: w.count, ttl: w.startedAt + windowMs - now })
    }
  }
}

/**
 * Registers the per-key rate limit. Must run before the routes are registered (routes get the check as they are
 * added) and after auth: it runs as a preHandler, when `req.client` is known. Requests without a key (ops routes,
 * unknown paths) are exempt; /v1 requests without a valid key never get this far (401 in onRequest).
 *
 * Every answer carries the IETF draft RateLimit headers (`ratelimit-limit`, `-remaining`, `-reset` in seconds); a
 * refusal adds Retry-After. A callback hook rather than @fastify/rate-limit's async one (same headers, counts and
 * refusals): the plugin's chain of awaits cost every request about nine promises.
 */
export async function registerRateLimit (app: FastifyInstance, opts: RateLimitOptions, store: KvStore): Promise<void> {
  if (opts.max === 0) return
  const { max, windowMs } = opts
  const windowText = windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`
  // counted in Redis when there is one, in batches while a key is far from its limit (rate-limit-store.ts)
  const shared = store.client === undefined ? null : batchedRedisStore(store.client, keys.inboundRateLimit())
  if (shared !== null) app.addHook('onClose', (_app, done) => { shared.close(); done() })
  const counter: Counter = shared?.counter ?? localCounter()
  const check: preHandlerHookHandler = (req, reply, done) => {
    const client = req.client
    if (client === null) { done(); return }
    counter.incr(client, (err, res) => {
      // a store outage must not take the API down with it: count nothing rather than refuse everything
      const current = err === null && res !== undefined ? res.current : 0
      const ttl = err === null && res !== undefined ? res.ttl : 0
      const reset = Math.ceil(ttl / 1000)
      if (current <= max) {
        reply.header('ratelimit-limit', max).header('ratelimit-remaining', max - current).header('ratelimit-reset', reset)
        done()
        return
      }
      reply.header('ratelimit-limit', max).header('ratelimit-remaining', 0).header('ratelimit-reset', reset).header('retry-after', reset)
      done(new GatewayError('GW_ERR_RATE_LIMITED',
        `The key "${client}" may send ${max} requests per ${windowText}; retry in ${spelledOut(reset * 1000)}`,
        { retryAfter: Math.max(1, reset) }))
    }, windowMs, max)
  }
  app.addHook('onRoute', (route) => {
    const existing = route.preHandler
    route.preHandler = existing === undefined ? [check] : [...(Array.isArray(existing) ? existing : [existing]), check]
  })
}

/** A duration as the refusal words it: the largest unit, rounded ("59 seconds", "1 minute", "2 hours"). */
export function spelledOut (ms: number): string {
  if (ms < 1000) return `${ms} ms`
  const units: Array<[number, string]> = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']]
  for (const [size, name] of units) {
    if (ms < size) continue
    const n = Math.round(ms / size)
    return `${n} ${name}${n === 1 ? '' : 's'}`
  }
  return `${ms} ms`
}

export interface LoadSheddingOptions {
  /** event-loop delay (ms) above which requests get 503; 0 = off */
  maxEventLoopDelayMs: number
  /** how often the delay is sampled (default 1000 ms) */
  sampleIntervalMs?: number
  /** Retry-After of the 503 (default 5 s) */
  retryAfterSeconds?: number
}

/** Sheds load with a 503 problem while the event loop lags; `/healthz` keeps answering (the process is alive). */
export async function registerLoadShedding (app: FastifyInstance, opts: LoadSheddingOptions): Promise<void> {
  if (opts.maxEventLoopDelayMs === 0) return
  const retryAfter = opts.retryAfterSeconds ?? 5
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    sampleInterval: opts.sampleIntervalMs ?? 1000,
    pressureHandler: async (req, _reply, type, value) => {
      if (req.url === '/healthz') return
      throw new GatewayError('GW_ERR_UNAVAILABLE',
        `The gateway is overloaded (${type} ${typeof value === 'number' ? Math.round(value) : '?'}); retry in ${retryAfter} s`,
        { retryAfter })
    }
  })
}
