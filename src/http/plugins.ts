/**
 * What every route shares, registered on the root before any feature: problems for every error, the body parsers
 * (JSON with a depth bound, multipart with an in-flight budget; no text/plain), strict query integers, client
 * cancellation, `GET /metrics`, load shedding, CORS (when configured), authentication and its throttle, the rate
 * limit and the OpenAPI document.
 */
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../clock.js'
import type { Config, Limits } from '../config.js'
import type { GatewayMetrics } from '../metrics.js'
import { registerAuth } from '../plugins/auth.js'
import { registerCancellation } from '../plugins/cancellation.js'
import { registerJsonBody } from '../plugins/json-body.js'
import { registerMetrics } from '../plugins/metrics.js'
import { registerMultipart } from '../plugins/multipart.js'
import { registerProblemHandler } from '../plugins/problems.js'
import { registerStrictQueryIntegers } from '../plugins/strict-query.js'
import { registerSwagger } from '../plugins/swagger.js'
import { registerLoadShedding, registerRateLimit } from '../plugins/traffic.js'
import type { KvStore } from '../store/kv-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** request bounds (config.limits): the body parsers read them */
    limits: Limits
  }
}

export async function registerHttp (app: FastifyInstance, config: Config, w: { metrics: GatewayMetrics, store: KvStore, clock: Clock }): Promise<void> {
  registerProblemHandler(app)
  // the API takes JSON (and multipart where an operation takes files): a text/plain body is a 415 naming those,
  // not a string that fails validation as "must be object"
  app.removeContentTypeParser('text/plain')
  registerStrictQueryIntegers(app)
  app.decorate('limits', config.limits)
  registerJsonBody(app, config.limits.jsonMaxDepth)
  registerCancellation(app)
  registerMetrics(app, w.metrics)
  await registerLoadShedding(app, { maxEventLoopDelayMs: config.maxEventLoopDelayMs })
  if (config.corsOrigins.length > 0) {
    // browsers: preflights are answered before auth (they carry no key); the headers a client reads are exposed
    await app.register((await import('@fastify/cors')).default, {
      origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-none-match', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'location', 'etag', 'retry-after', 'idempotent-replayed', 'cache-status'],
      maxAge: 600
    })
  }
  registerAuth(app, config.apiKeys, { failures: config.limits.authFailures, store: w.store, clock: w.clock })
  await registerRateLimit(app, config.rateLimit, w.store)
  await registerSwagger(app)
  await registerMultipart(app, config.limits.uploadMaxInflightBytes)
}
