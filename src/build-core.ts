/**
 * The shared core, built once per app and handed to every feature as an option (ADR 0037): the status engine, the
 * simulators in sandbox mode, the key-value store, the providers and their outbound budgets, the reference cache,
 * the events engine, the store epoch, idempotency records, the case reads and the case writes. Features never read
 * each other's decorations; what they share is here.
 */
import type { FastifyInstance } from 'fastify'
import type { LookupFunction } from 'node:net'
import { SpeedClock, type Clock } from './clock.js'
import type { Config } from './config.js'
import { buildEvents, type EventsEngine } from './events/build.js'
import { caseObserver } from './events/observer.js'
import type { EventStore } from './events/store.js'
import type { JobRunner } from './jobs/port.js'
import type { GatewayMetrics } from './metrics.js'
import { buildProviders } from './providers/build.js'
import type { Core } from './core/core.js'
import { PROVIDER_MODULES, STATUS_TABLES } from './providers/registry.js'
import { CaseService } from './services/cases.js'
import { Idempotency } from './services/idempotency.js'
import type { LookaheadOptions } from './services/lookahead.js'
import { CaseWriteService } from './services/writes.js'
import { buildTargets, type Targets } from './features/targets/build.js'
import { openCaseIndex } from './features/targets/index-store.js'
import { openVerificationStore, type VerificationStore } from './features/verification/store.js'
import { verificationCaseView } from './features/verification/view.js'
import { MilestoneOutcomeStats } from './features/reporting/outcome-stats.js'
import { RedisMilestoneStore } from './features/reporting/redis-store.js'
import { MemoryMilestoneStore, type MilestoneStore } from './features/reporting/store.js'
import { openSlaStore, type SlaStore } from './features/sla/store.js'
import { slaCaseView } from './features/sla/view.js'
import type { Sandbox } from './simulators/sandbox.js'
import { StatusEngine, type StatusOverrides } from './status/engine.js'
import { SharedCache } from './store/cached.js'
import { openCaseEnrichment } from './core/case-enrichment.js'
import { StoreEpoch } from './store/epoch.js'
import { settleWithin, type Abandoned } from './store/closing.js'
import type { KvStore } from './store/kv-store.js'
import { MemoryKvStore } from './store/memory-kv-store.js'

/** What the caller may build itself (tests); everything else comes from the configuration. */
export interface CoreOptions {
  clock: Clock
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
  /** tests: the random source of measured routing's exploration share (a number in [0, 1)) */
  routingRandom?: () => number
}

/** The core and the simulators it runs against (sandbox mode, tests): only the app shows those (features do not see them). */
export interface BuiltCore extends Core {
  sandbox: Sandbox | null
  /** target intelligence: the index and RDAP enrichment behind relatedCases, enrichment, duplicates and the lookup */
  targets: Targets
  /** verified outcomes: the store the verification feature writes and the cases' verification block reads */
  verificationStore: VerificationStore
  /** the takedown milestones analytics reads and measured routing ranks providers by (ADR 0020, 0047) */
  milestoneStore: MilestoneStore
  /** service levels: the store the sla feature writes and the cases' sla block reads */
  slaStore: SlaStore
}

export async function buildCore (app: FastifyInstance, config: Config, metrics: GatewayMetrics, opts: CoreOptions): Promise<BuiltCore> {
  const { clock } = opts
  const abandoned = closeReport(app)
  const unknownStatuses = new Map<string, number>()
  const statusEngine = new StatusEngine(STATUS_TABLES, opts.statusOverrides ?? config.statusOverrides, (provider, providerStatus) => {
    const key = `${provider}:${providerStatus ?? '(none)'}`
    const seen = unknownStatuses.get(key) ?? 0
    unknownStatuses.set(key, seen + 1)
    metrics.unknownStatuses.inc({ provider })
    if (seen === 0) app.log.warn({ provider, providerStatus }, 'provider status has no unified mapping; reported as unknown')
  })
  const sandbox = opts.sandbox ?? (config.sandbox ? await startSandbox(app, config, clock) : null)
  const store = await openStore(app, config, clock, opts.store, abandoned)
  const { providers, dispatchers, budgets } = await buildProviders(config, {
    observer: metrics.upstream,
    status: statusEngine,
    clock,
    store,
    log: app.log,
    ...(sandbox === null ? {} : { sandbox: sandbox.endpoints })
  })
  app.addHook('onClose', async () => {
    await Promise.all(dispatchers.map(async d => {
      if (await settleWithin(d.close())) return
      abandoned('vendor calls still in flight (their connections were destroyed)')
      await d.destroy()
    }))
  })
  const referenceCache = new SharedCache(store, clock, app.log, {
    ttlMs: config.referenceTtlMs, staleMs: config.referenceStaleMs, onOutcome: metrics.cacheOutcome
  })
  let closing = false
  app.addHook('preClose', async () => { closing = true })

  const events = await buildEvents(app, {
    config,
    clock,
    store,
    providers,
    metrics,
    abandoned,
    ...(opts.eventStore === undefined ? {} : { eventStore: opts.eventStore }),
    ...(opts.jobs === undefined ? {} : { jobs: opts.jobs })
  })
  const epoch = storeEpoch(app, config, { store, events, clock, metrics })
  // before the watcher starts: its first events carry the epoch
  await epoch.check().catch((err: unknown) => { app.log.warn({ err: (err as Error).message }, 'store epoch: the store did not answer at start; the next check retries') })
  const observer = caseObserver(events.service, events.watcher, clock)
  // listings keep the vendor page a gateway page read past its last item for the next page (ADR 0030)
  const lookahead = opts.lookahead === undefined ? {} : { lookahead: opts.lookahead }
  const caseEnrichment = openCaseEnrichment(store)
  const targets = buildTargets(config.targets, {
    store, caseEnrichment, clock, log: app.log, sandbox: config.sandbox, ...(sandbox?.rdap === undefined ? {} : { sandboxRdap: sandbox.rdap }), ...(opts.resolve === undefined ? {} : { resolve: opts.resolve })
  })
  const verificationStore = openVerificationStore(store, clock, { historyLimit: config.verify.historyLimit, retentionMs: config.verify.retentionDays * 86_400_000 })
  const slaStore = openSlaStore(store, clock)
  const cases = new CaseService(providers, config.gatewaySecret, {
    views: [targets.view, verificationCaseView({ store: verificationStore, log: app.log }), slaCaseView({ store: slaStore, policy: config.sla.policy, clock, log: app.log })],
    observer,
    clock,
    ...lookahead,
    // vendors without a history of their own: case reads add the status changes the event log recorded
    gatewayHistory: { providers: new Set(Object.values(PROVIDER_MODULES).filter(m => m.historyKept === false).map(m => m.id)), events: events.service }
  })
  // milestones live beside the other shared state: in Redis when there is one (every replica records and reads the same rows)
  const milestoneStore = store.kind === 'redis' && store.client !== undefined ? new RedisMilestoneStore(store.client) : new MemoryMilestoneStore()
  const outcomeStats = new MilestoneOutcomeStats(milestoneStore, clock, {
    // with verification on, a case the gateway's probes verified down is timed by that (ADR 0042)
    ...(config.verify.enabled ? { verifiedDownAt: async ids => (await verificationStore.getMany(ids)).map(v => v?.verifiedDownAt ?? null) } : {})
  })
  const idempotency = new Idempotency(store, { clock })
  epoch.onLoss(async () => {
    const n = await idempotency.markLost()
    metrics.storeLostRecords.inc({ kind: 'idempotency_key' }, n)
    if (n > 0) app.log.warn({ keys: n }, 'Idempotency-Key records this replica had made were lost with the store: their replays are refused (409 idempotency-lost)')
  })
  metrics.track({ providers, budgets, replays: () => idempotency.replays })
  return {
    clock,
    metrics,
    statusEngine,
    unknownStatuses,
    sandbox,
    ownSandbox: config.sandbox && opts.sandbox === undefined,
    store,
    providers,
    budgets,
    referenceCache,
    events,
    epoch,
    idempotency,
    caseEnrichment,
    cases,
    writes: new CaseWriteService(providers, config.routing, observer, {
      duplicateScope: config.targets.duplicateScope,
      index: openCaseIndex(targets.index),
      companions: config.companions,
      measured: { settings: config.measuredRouting, stats: outcomeStats, ...(opts.routingRandom === undefined ? {} : { random: opts.routingRandom }) }
    }),
    targets,
    verificationStore,
    milestoneStore,
    slaStore,
    lookahead,
    ...(opts.webhookLookup === undefined ? {} : { webhookLookup: opts.webhookLookup }),
    abandoned,
    closing: () => closing,
    beginShutdown: () => { closing = true }
  }
}

/**
 * What the close gave up on: every close step has a deadline (a Redis that died or froze must not hold a shutdown,
 * src/store/closing.ts) and names what it abandoned at it. Registered first, this hook runs last: one line for all.
 */
function closeReport (app: FastifyInstance): Abandoned {
  const abandoned: string[] = []
  app.addHook('onClose', async () => {
    if (abandoned.length > 0) app.log.warn({ abandoned }, 'closed without waiting for everything: these were abandoned at their close deadline')
  })
  return what => { abandoned.push(what) }
}

/** Sandbox mode: the simulators on loopback ports, started here and closed with the app. */
async function startSandbox (app: FastifyInstance, config: Config, clock: Clock): Promise<Sandbox> {
  // loaded on demand: a live gateway never holds the simulators' code (or ioredis without REDIS_URL) in memory
  const { startSandbox } = await import('./simulators/sandbox.js')
  // SANDBOX_SPEED: the simulators' cases move along that many times faster; new ones keep arriving (events to watch)
  const speed = config.events.sandboxSpeed
  const sandbox = await startSandbox(speed > 1 ? new SpeedClock(speed, clock) : clock)
  const { startSandboxActivity } = await import('./simulators/activity.js')
  const stopActivity = speed > 1 ? startSandboxActivity(sandbox, 30_000, err => { app.log.debug({ err: err.message }, 'sandbox activity failed') }) : () => {}
  app.addHook('onClose', async () => { stopActivity(); await sandbox.close() })
  return sandbox
}

/** The key-value store: the caller's (tests), else Redis when REDIS_URL is set, else process memory. */
async function openStore (app: FastifyInstance, config: Config, clock: Clock, given: KvStore | undefined, abandoned: Abandoned): Promise<KvStore> {
  const store: KvStore = given ?? (config.redis === null
    ? new MemoryKvStore(clock)
    : new (await import('./store/redis-kv-store.js')).RedisKvStore(config.redis, config.redisKeyPrefix === '' ? {} : { keyPrefix: config.redisKeyPrefix }))
  if (given === undefined) app.addHook('onClose', async () => { await store.close(abandoned) })
  if (store.waitReady !== undefined && !(await store.waitReady(2000))) {
    app.log.warn('Redis is not reachable at start; serving from process memory until it is')
  }
  return store
}

/**
 * The store epoch wired in (ADR 0032): first contact now (or at the first check that reaches the store), checks on a
 * timer and after every reconnect; a loss re-creates the watcher's job schedulers and re-baselines it. The features
 * register their own heal steps (idempotency above, webhooks).
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
