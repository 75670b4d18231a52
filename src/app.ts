/**
 * The gateway as a Fastify instance. server.ts only adds the process around it (listen, signals);
 * tests build it directly and talk to it with inject() or over loopback.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fastJsonStringify from 'fast-json-stringify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { SpeedClock, systemClock, type Clock } from './clock.js'
import type { Config } from './config.js'
import { buildProviders } from './providers/build.js'
import { PROVIDER_MODULES, STATUS_TABLES } from './providers/registry.js'
import { REDACT_PATHS, type Logger } from './logger.js'
import { representableDateTime } from './domain/time.js'
import { registerStrictQueryIntegers } from './plugins/strict-query.js'
import { registerJsonBody } from './plugins/json-body.js'
import type { Limits } from './config.js'
import { GatewayMetrics } from './metrics.js'
import { registerAuth } from './plugins/auth.js'
import { registerCancellation } from './plugins/cancellation.js'
import { registerMetrics } from './plugins/metrics.js'
import { BODY_LIMIT_BYTES, clientErrorHandler, frameworkErrors, MAX_RAW_PARAM_LENGTH, registerProblemHandler } from './plugins/problems.js'
import { registerLoadShedding, registerRateLimit } from './plugins/traffic.js'
import { registerSwagger } from './plugins/swagger.js'
import { opsRoutes } from './routes/ops.js'
import { caseReadRoutes } from './routes/v1/cases.js'
import { CaseService } from './services/cases.js'
import { describeOff, type ProviderMode, type ProviderSet } from './services/provider-set.js'
import type { ProviderId } from './schemas/provider.js'
import type { Sandbox } from './simulators/sandbox.js'
import { StatusEngine, type StatusOverrides } from './status/engine.js'
import { referenceRoutes } from './routes/v1/reference.js'
import { providerRoutes } from './routes/v1/providers.js'
import { caseWriteRoutes } from './routes/v1/case-writes.js'
import { detectionRoutes } from './routes/v1/detections.js'
import { brandProtectionRoutes } from './routes/v1/brand-protection.js'
import { DetectionService } from './services/detections.js'
import type { LookaheadOptions } from './services/lookahead.js'
import { BrandProtectionService } from './services/brand-protection.js'
import { registerMultipart } from './plugins/multipart.js'
import { Idempotency } from './services/idempotency.js'
import { CaseWriteService } from './services/writes.js'
import { ReferenceService } from './services/reference.js'
import { SharedCache } from './store/cached.js'
import type { KvStore } from './store/kv-store.js'
import { MemoryKvStore } from './store/memory-kv-store.js'
import { MilestoneRecorder } from './analytics/milestones.js'
import { RedisMilestoneStore } from './analytics/redis-store.js'
import { TakedownAnalytics } from './analytics/report.js'
import { MemoryMilestoneStore } from './analytics/store.js'
import { reportingRoutes } from './routes/v1/reporting.js'
import { backfillMilestones } from './analytics/backfill.js'
import { Cancellation } from './connectors/deadline.js'
import { isTerminal, UNIFIED_STATUSES } from './schemas/unified-status.js'
import { buildEvents, type EventsEngine } from './events/build.js'
import { caseObserver } from './events/observer.js'
import type { EventStore } from './events/store.js'
import type { JobRunner } from './jobs/port.js'
import { eventRoutes } from './routes/v1/events.js'
import { inboundRoutes } from './routes/v1/inbound.js'
import { buildTargets, type Targets } from './features/targets/build.js'
import { targetsFeature } from './features/targets/plugin.js'
import { openCaseIndex } from './features/targets/index-store.js'
import { batchRoutes } from './routes/v1/batches.js'
import { batchCompleted, BatchService } from './services/batches.js'
import { registerWebhooks } from './webhooks/plugin.js'
import type { LookupFunction } from 'node:net'
import { StoreEpoch } from './store/epoch.js'

export interface AppOptions {
  config: Config
  /** pino options, or false; ignored when `loggerInstance` is given */
  logger?: FastifyServerOptions['logger']
  loggerInstance?: Logger
  clock?: Clock
  /** simulators started by the caller (tests); in sandbox mode the app starts its own when absent */
  sandbox?: Sandbox
  statusOverrides?: StatusOverrides
  /** a store built by the caller (tests); otherwise Redis when REDIS_URL is set, else memory */
  store?: KvStore
  /** the event store and jobs runner, built by the caller (tests); otherwise from the configuration */
  eventStore?: EventStore
  jobs?: JobRunner
  /** tests: the resolver the webhook SSRF guard uses */
  webhookLookup?: LookupFunction
  /** the vendor pages listings keep for their next page; `{ pages: 0 }` reads every page from the vendor (tests) */
  lookahead?: LookaheadOptions
  /** tests: the addresses of a host for RDAP hosting lookups (no DNS is asked) */
  resolve?: (host: string) => Promise<string[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    providers: ProviderSet
    statusEngine: StatusEngine
    sandbox: Sandbox | null
    /** per (provider, vendor status) count of statuses the tables do not know */
    unknownStatuses: Map<string, number>
    metrics: GatewayMetrics
    /** readiness turns 503 ("shutting down") while the app keeps serving: the first step of a graceful stop */
    beginShutdown: () => void
    store: KvStore
    referenceCache: SharedCache
    idempotency: Idempotency
    /** request bounds (config.limits) */
    limits: Limits
    /** per-case takedown milestones: the case-events engine feeds it (`milestones.record(event)`) */
    milestones: MilestoneRecorder
    events: EventsEngine
    batches: BatchService
    /** the store epoch: notices a Redis that lost its data (ADR 0032) */
    epoch: StoreEpoch
    /** target intelligence: the index, RDAP enrichment and the registry-hold check for verification */
    targets: Targets
  }
}

const REQUEST_ID = /^[\w.:@-]{1,128}$/

const INFO_OR_BELOW = new Set(['info', 'debug', 'trace'])

export async function buildApp (opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts
  const clock = opts.clock ?? systemClock
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

  // one compiled serializer per schema object: every route declares the same Problem schema for a dozen statuses,
  // and compiling it once per (route, status) cost memory and start-up time for identical code
  const serializers = new WeakMap<object, (data: unknown) => string>()
  let compiled = 0
  app.setSerializerCompiler(({ schema }) => {
    let fn = serializers.get(schema as object)
    if (fn === undefined) {
      fn = fastJsonStringify(schema as Parameters<typeof fastJsonStringify>[0]) as (data: unknown) => string
      serializers.set(schema as object, fn)
      compiled++
    }
    return fn
  })
  app.addHook('onReady', async () => { app.log.debug({ serializers: compiled }, 'response serializers compiled') })

  const metrics = new GatewayMetrics()
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

  const overrides = opts.statusOverrides ?? config.statusOverrides
  const unknownStatuses = new Map<string, number>()
  const statusEngine = new StatusEngine(STATUS_TABLES, overrides, (provider, providerStatus) => {
    const key = `${provider}:${providerStatus ?? '(none)'}`
    const seen = unknownStatuses.get(key) ?? 0
    unknownStatuses.set(key, seen + 1)
    metrics.unknownStatuses.inc({ provider })
    if (seen === 0) app.log.warn({ provider, providerStatus }, 'provider status has no unified mapping; reported as unknown')
  })

  let sandbox: Sandbox | null = opts.sandbox ?? null
  if (config.sandbox && sandbox === null) {
    // loaded on demand: a live gateway never holds the simulators' code (or ioredis without REDIS_URL) in memory
    const { startSandbox } = await import('./simulators/sandbox.js')
    // SANDBOX_SPEED: the simulators' cases move along that many times faster; new ones keep arriving (events to watch)
    const speed = config.events.sandboxSpeed
    sandbox = await startSandbox(speed > 1 ? new SpeedClock(speed, clock) : clock)
    const owned = sandbox
    const { startSandboxActivity } = await import('./simulators/activity.js')
    const stopActivity = speed > 1 ? startSandboxActivity(owned, 30_000, err => { app.log.debug({ err: err.message }, 'sandbox activity failed') }) : () => {}
    app.addHook('onClose', async () => { stopActivity(); await owned.close() })
  }
  const store: KvStore = opts.store ?? (config.redis === null
    ? new MemoryKvStore(clock)
    : new (await import('./store/redis-kv-store.js')).RedisKvStore(config.redis, config.redisKeyPrefix === '' ? {} : { keyPrefix: config.redisKeyPrefix }))
  if (opts.store === undefined) app.addHook('onClose', async () => { await store.close() })
  if (store.waitReady !== undefined && !(await store.waitReady(2000))) {
    app.log.warn('Redis is not reachable at start; serving from process memory until it is')
  }
  const { providers, dispatchers, budgets } = await buildProviders(config, {
    observer: metrics.upstream,
    status: statusEngine,
    clock,
    store,
    log: app.log,
    ...(sandbox === null ? {} : { sandbox: sandbox.endpoints })
  })
  app.addHook('onClose', async () => { await Promise.all(dispatchers.map(d => d.close())) })

  app.decorate('providers', providers)
  app.decorate('statusEngine', statusEngine)
  app.decorate('sandbox', sandbox)
  app.decorate('unknownStatuses', unknownStatuses)

  registerProblemHandler(app)
  // the API takes JSON (and multipart where an operation takes files): a text/plain body is a 415 naming those,
  // not a string that fails validation as "must be object"
  app.removeContentTypeParser('text/plain')
  registerStrictQueryIntegers(app)
  app.decorate('limits', config.limits)
  registerJsonBody(app, config.limits.jsonMaxDepth)
  registerCancellation(app)
  app.decorate('metrics', metrics)
  registerMetrics(app, metrics)
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
  registerAuth(app, config.apiKeys, { failures: config.limits.authFailures, store, clock })
  await registerRateLimit(app, config.rateLimit, store)
  await registerSwagger(app)
  await registerMultipart(app, config.limits.uploadMaxInflightBytes)

  const referenceCache = new SharedCache(store, clock, app.log, {
    ttlMs: config.referenceTtlMs, staleMs: config.referenceStaleMs, onOutcome: metrics.cacheOutcome
  })
  app.decorate('store', store)
  app.decorate('referenceCache', referenceCache)

  let closing = false
  let epoch: StoreEpoch | null = null
  app.addHook('preClose', async () => { closing = true })
  app.decorate('beginShutdown', () => { closing = true })
  await app.register(opsRoutes, {
    providers: () => Object.fromEntries(providers.all().map(e => [e.id, e.mode])) as Record<ProviderId, ProviderMode>,
    configErrors: () => Object.fromEntries(providers.all().flatMap(e => {
      const error = e.configError?.() ?? null
      return error === null ? [] : [[e.id, `${e.id} ${error}`]]
    })),
    readiness: async () => {
      if (closing) return 'shutting down'
      if (providers.active().length === 0) return `no provider is on: ${providers.all().map(describeOff).join(', ')}`
      const storeProblem = await store.health()
      return storeProblem === null ? null : `${storeProblem} (answers still flow from process memory and the vendors)`
    },
    degraded: () => epoch?.degraded() ?? null
  })
  const events = await buildEvents(app, {
    config,
    clock,
    store,
    providers,
    metrics,
    ...(opts.eventStore === undefined ? {} : { eventStore: opts.eventStore }),
    ...(opts.jobs === undefined ? {} : { jobs: opts.jobs })
  })
  app.decorate('events', events)
  epoch = storeEpoch(app, config, { store, events, clock, metrics })
  // before the watcher starts: its first events carry the epoch
  await epoch.check().catch((err: unknown) => { app.log.warn({ err: (err as Error).message }, 'store epoch: the store did not answer at start; the next check retries') })
  app.decorate('epoch', epoch)
  const observer = caseObserver(events.service, events.watcher, clock)
  // listings keep the vendor page a gateway page read past its last item for the next page (ADR 0030)
  const lookahead = opts.lookahead === undefined ? {} : { lookahead: opts.lookahead }
  // target intelligence: the index and RDAP enrichment behind relatedCases, enrichment and GET /v1/targets/lookup
  const targets = buildTargets(config.targets, {
    store, clock, log: app.log, sandbox: config.sandbox, ...(sandbox?.rdap === undefined ? {} : { sandboxRdap: sandbox.rdap }), ...(opts.resolve === undefined ? {} : { resolve: opts.resolve })
  })
  app.decorate('targets', targets)
  const cases = new CaseService(providers, config.gatewaySecret, {
    views: [targets.view],
    observer,
    clock,
    ...lookahead,
    // vendors without a history of their own: case reads add the status changes the event log recorded
    gatewayHistory: { providers: new Set(Object.values(PROVIDER_MODULES).filter(m => m.historyKept === false).map(m => m.id)), events: events.service }
  })
  await app.register(caseReadRoutes, { cases })
  const idempotency = new Idempotency(store, { clock })
  epoch.onLoss(async () => {
    const n = await idempotency.markLost()
    metrics.storeLostRecords.inc({ kind: 'idempotency_key' }, n)
    if (n > 0) app.log.warn({ keys: n }, 'Idempotency-Key records this replica had made were lost with the store: their replays are refused (409 idempotency-lost)')
  })
  // milestones live beside the other shared state: in Redis when there is one (every replica records and reads the same rows)
  const milestoneStore = store.kind === 'redis' && store.client !== undefined ? new RedisMilestoneStore(store.client) : new MemoryMilestoneStore()
  const analytics = new TakedownAnalytics(milestoneStore, clock)
  const milestones = new MilestoneRecorder(milestoneStore, {
    onTakenDown: ({ provider, targetType, seconds }) => { metrics.timeToTakedown.observe({ provider, target_type: targetType }, seconds) }
  })
  app.decorate('milestones', milestones)
  // each event feeds the milestones once, in the replica that recorded it
  events.service.onRecorded(event => milestones.record(event))
  const openCases = async (): Promise<Array<{ provider: string, status: string, count: number }>> => {
    try {
      const report = await analytics.report({ groupBy: 'provider' })
      return report.groups.flatMap(g => UNIFIED_STATUSES
        .filter(status => !isTerminal(status))
        .map(status => ({ provider: g.key.provider ?? '', status, count: (g.statuses as Record<string, number>)[status] ?? 0 })))
    } catch (err) {
      app.log.warn({ err }, 'open-cases gauge: the milestone store did not answer')
      return []
    }
  }
  metrics.track({ providers, budgets, replays: () => idempotency.replays, openCases })
  app.decorate('idempotency', idempotency)
  const writes = new CaseWriteService(providers, config.routing, observer, { duplicateScope: config.targets.duplicateScope, index: openCaseIndex(targets.index) })
  await app.register(caseWriteRoutes, { writes, idempotency })
  await app.register(targetsFeature, { index: targets.index, rdap: targets.rdap, writes, cases, events: events.service })
  await app.register(referenceRoutes, { reference: new ReferenceService(providers, referenceCache, config.referenceTtlMs) })
  await app.register(providerRoutes, { providers, cache: referenceCache })
  const detections = new DetectionService(providers, store, new CaseWriteService(providers, config.routing, observer, { duplicateScope: config.targets.duplicateScope, index: openCaseIndex(targets.index) }), config.gatewaySecret, { clock, ...lookahead })
  await app.register(detectionRoutes, { detections, idempotency })
  await app.register(brandProtectionRoutes, { brand: new BrandProtectionService(providers), idempotency })
  await app.register(reportingRoutes, { analytics, recorder: milestones, cases, events: events.service, clock })
  if (config.sandbox && opts.sandbox === undefined) {
    // `npm start` in sandbox mode: the seeded cases give the analytics real figures from the first minute
    const stop = new Cancellation()
    app.addHook('onReady', (done) => {
      backfillMilestones({ cases, recorder: milestones, clock }, stop, app.log).then(
        result => { app.log.info(result, 'sandbox: takedown milestones backfilled from the simulators') },
        err => { if (!stop.aborted) app.log.warn({ err }, 'sandbox: the milestones backfill failed') })
      done()
    })
    app.addHook('onClose', (_app, done) => { stop.abort(new Error('closing')); done() })
  }
  await app.register(eventRoutes, { events: events.service, heartbeatMs: config.events.streamHeartbeatMs })
  await app.register(inboundRoutes, { events, store, config, providers, clock })

  // bulk submission: items worked off on the jobs port (BullMQ with Redis, in process without), started with the events engine
  const batches = new BatchService({ store, writes, jobs: events.jobs, clock, log: app.log, settings: config.batches, budgets, epoch: () => epoch?.current ?? null })
  batches.defineJobs()
  // a finished batch is a `batch.completed` event in the log (feed, stream, webhooks)
  batches.onCompleted = async batch => { await events.service.append(batchCompleted(batch)) }
  await app.register(batchRoutes, { batches, idempotency })
  app.decorate('batches', batches)
  await registerWebhooks(app, {
    ...{ config, kv: store, epoch, jobs: events.jobs, events: events.service.store, eventLog: events.service, eventRetentionMs: config.events.retentionMs, clock, metrics },
    ...(opts.webhookLookup === undefined ? {} : { lookup: opts.webhookLookup })
  })
  return app
}

/** a hop count as Fastify's trust function (what proxy-addr does with a number): the nearest `hops` senders are proxies */
function hopsTrusted (hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops
}

/**
 * The store epoch wired in (ADR 0032): first contact now (or at the first check that reaches the store), checks on a
 * timer and after every reconnect; a loss re-creates the watcher's job schedulers and re-baselines it. The other
 * features register their own heal steps (idempotency, webhooks).
 */
function storeEpoch (app: FastifyInstance, config: Config, w: { store: KvStore, events: EventsEngine, clock: Clock, metrics: GatewayMetrics }): StoreEpoch {
  const { watcher } = w.events
  const epoch = new StoreEpoch({
    kv: w.store, events: w.events.service.store, clock: w.clock, log: app.log, degradedMs: config.storeEpoch.degradedMs, onCounted: () => { w.metrics.storeDataLosses.inc() }
  })
  const schedules = async (): Promise<void> => { if (config.events.watch.enabled) await watcher.start() }
  epoch.onLoss(async loss => {
    await schedules()
    if (loss.eventsLost && config.events.watch.enabled) await watcher.rebaseline(loss.epoch)
  })
  let stop = (): void => {}
  app.addHook('onReady', async () => {
    const eventsClient = (w.events.service.store as { client?: { on: (event: 'ready', fn: () => void) => unknown } }).client
    stop = epoch.start(config.storeEpoch.checkMs, [w.store.client, eventsClient], schedules)
  })
  app.addHook('preClose', async () => { stop() })
  return epoch
}
