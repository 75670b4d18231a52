/**
 * Inbound traffic controls: a rate limit per gateway key (429 with Retry-After) counted in the shared
 * Redis when there is one, and load shedding (503) when the event loop falls behind. Both answer through the one
 * error handler, so every refusal is an RFC 9457 problem.
 */
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../domain/problems.js'
import type { KvStore } from '../store/kv-store.js'
import { keys } from '../store/keys.js'
import { batchedRedisStore } from './rate-limit-store.js'

export interface RateLimitOptions {
  /** requests per key per window; 0 = off */
  max: number
  windowMs: number
}

/**
 * Registers the per-key rate limit. Must run before the routes are registered (the plugin hooks routes as they are
 * added) and after auth: it runs as a preHandler, when `req.client` is known. Requests without a key (ops routes,
 * unknown paths) are exempt; /v1 requests without a valid key never get this far (401 in onRequest).
 */
export async function registerRateLimit (app: FastifyInstance, opts: RateLimitOptions, store: KvStore): Promise<void> {
  if (opts.max === 0) return
  const windowText = opts.windowMs % 1000 === 0 ? `${opts.windowMs / 1000} s` : `${opts.windowMs} ms`
  // counted in Redis when there is one, in batches while a key is far from its limit (rate-limit-store.ts)
  const shared = store.client === undefined ? null : batchedRedisStore(store.client, keys.inboundRateLimit())
  if (shared !== null) app.addHook('onClose', (_app, done) => { shared.close(); done() })
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: opts.max,
    timeWindow: opts.windowMs,
    keyGenerator: (req) => req.client ?? req.ip,
    allowList: (req) => req.client === null,
    enableDraftSpec: true,
    // a Redis outage must not take the API down with it: count nothing rather than refuse everything
    skipOnError: true,
    ...(shared !== null ? { store: shared.Store } : {}),
    errorResponseBuilder: (req, ctx) => new GatewayError('GW_ERR_RATE_LIMITED',
      `The key "${req.client ?? 'anonymous'}" may send ${ctx.max} requests per ${windowText}; retry in ${ctx.after}`,
      { retryAfter: Math.max(1, Math.ceil(ctx.ttl / 1000)) })
  })
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
