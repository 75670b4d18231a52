/**
 * The Fastify instance the gateway runs in, before any feature: its options (request ids, validation, limits,
 * timeouts, framework refusals as problems), one compiled serializer per response schema, and the per-request hooks
 * (the X-Request-Id header, closing a connection left with an unread body, the access line and the request histogram).
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fastJsonStringify from 'fast-json-stringify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { representableDateTime } from '../domain/time.js'
import { REDACT_PATHS, type Logger } from '../logger.js'
import type { GatewayMetrics } from '../metrics.js'
import { BODY_LIMIT_BYTES, clientErrorHandler, frameworkErrors, MAX_RAW_PARAM_LENGTH } from '../plugins/problems.js'

export interface ServerOptions {
  config: Config
  /** pino options, or false; ignored when `loggerInstance` is given */
  logger?: FastifyServerOptions['logger']
  loggerInstance?: Logger
}

const REQUEST_ID = /^[\w.:@-]{1,128}$/

const INFO_OR_BELOW = new Set(['info', 'debug', 'trace'])

export function createServer (opts: ServerOptions, metrics: GatewayMetrics): FastifyInstance {
  const { config } = opts
  const app = Fastify({
    ...(opts.loggerInstance !== undefined
      ? { loggerInstance: opts.loggerInstance }
      : { logger: opts.logger ?? { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } } }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    ajv: {
      // verbose: a validation issue carries its schema and value, so a problem can name an anyOf's alternatives
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true, verbose: true },
      // date-time values must be instants Date can represent (no leap second 23:59:60 reaching `new Date().toISOString()`)
      onCreate: (ajv) => {
        const base = ajv.formats['date-time'] as { validate: (s: string) => boolean, compare?: (a: string, b: string) => number | undefined }
        ajv.addFormat('date-time', { ...base, type: 'string', validate: representableDateTime(base.validate) })
      }
    },
    bodyLimit: BODY_LIMIT_BYTES,
    // the client address behind the configured reverse proxies (TRUST_PROXY): what the auth throttle counts per
    trustProxy: typeof config.trustProxy === 'number' ? hopsTrusted(config.trustProxy) : config.trustProxy,
    // ids of up to 1024 characters (the OpenAPI maxLength) stay reachable even when every character is percent-encoded
    routerOptions: { maxParamLength: MAX_RAW_PARAM_LENGTH },
    // a whole request (headers and body) must arrive within REQUEST_TIMEOUT_MS, checked every second (Node's default
    // check runs every 30 s); the 408 is answered by clientErrorHandler and the connection closed
    // (also given to the server at creation: set only afterwards, Node's check never expires a request whose headers
    // have arrived, measured on Node 20.20)
    requestTimeout: config.limits.requestTimeoutMs,
    http: { connectionsCheckingInterval: 1000, requestTimeout: config.limits.requestTimeoutMs },
    // router and HTTP-parser refusals answer as problems with a request id, like everything else
    frameworkErrors,
    clientErrorHandler,
    // 'idle': on close, idle keep-alive sockets go at once, in-flight requests finish (true would cut them off)
    forceCloseConnections: 'idle',
    // while closing, a request that still arrives on an open keep-alive socket is served, not refused with a bare 503
    return503OnClosing: false,
    // one access line per request (below) instead of Fastify's two: half the log volume on the hot path
    logController: new LogController({ disableRequestLogging: true })
  }).withTypeProvider<TypeBoxTypeProvider>()

  // one serializer per schema object: every route declares the same Problem schema for a dozen statuses, and
  // compiling it once per (route, status) cost memory and start-up time for identical code. Each is compiled on its
  // first response, not at start: most (route, status) pairs never answer in a process's life, and their generated
  // code was ~2 MB of live heap after start-up
  const serializers = new WeakMap<object, (data: unknown) => string>()
  let declared = 0
  app.setSerializerCompiler(({ schema }) => {
    let fn = serializers.get(schema as object)
    if (fn === undefined) {
      fn = compiledOnFirstUse(schema as Parameters<typeof fastJsonStringify>[0])
      serializers.set(schema as object, fn)
      declared++
    }
    return fn
  })
  app.addHook('onReady', async () => { app.log.debug({ serializers: declared }, 'response serializers declared, each compiled on its first response') })

  // callback hooks, one per phase: each async hook costs a promise and a microtask on every request
  app.addHook('onRequest', (req, reply, done) => { reply.header('x-request-id', req.id); done() })
  // a request refused before its body was read (401, 413, 415 ...) leaves unread bytes on the connection: close it after
  // the answer instead of waiting for the rest of the body
  app.addHook('onSend', (req, reply, payload, done) => {
    if (!req.raw.complete && (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0')) reply.header('connection', 'close')
    done(null, payload)
  })
  // the access line's fields are never secret (the key's name, not the key): it skips redaction, which costs about
  // 2 µs a line for the nested paths it would look through; reqId goes in the line as the request's logger would put it
  const access = app.log.child({}, { redact: [] })
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? '(unmatched)'
    metrics.request(req.method, route, reply.statusCode, reply.elapsedTime / 1000)
    // the route's own level still decides (probes and /metrics log at warn)
    if (INFO_OR_BELOW.has(req.log.level)) access.info({ reqId: req.id, method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime), client: req.client }, 'request done')
    done()
  })
  return app
}

/** fast-json-stringify's serializer for `schema`, built by the first call (the same function from then on) */
export function compiledOnFirstUse (schema: Parameters<typeof fastJsonStringify>[0]): (data: unknown) => string {
  let serialize: ((data: unknown) => string) | undefined
  return (data) => {
    serialize ??= fastJsonStringify(schema) as (data: unknown) => string
    return serialize(data)
  }
}

/** a hop count as Fastify's trust function (what proxy-addr does with a number): the nearest `hops` senders are proxies */
function hopsTrusted (hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops
}
