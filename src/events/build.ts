/**
 * Wires the events engine into an app: the event store (Redis Streams when a Redis is configured, else memory), the
 * jobs runner (BullMQ with Redis, else in-process), the watcher and its budget shares, the metrics, the durability
 * check. The shared core (build-core.ts) calls buildEvents once; the events feature registers the routes over it.
 */
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { OutboundBudget } from '../connectors/outbound-budget.js'
import type { JobRunner } from '../jobs/port.js'
import type { GatewayMetrics } from '../metrics.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import type { ProviderSet } from '../services/provider-set.js'
import type { Abandoned } from '../store/closing.js'
import type { KvStore } from '../store/kv-store.js'
import { MemoryEventStore } from './memory-store.js'
import { EventMetrics } from './metrics.js'
import { EventService } from './service.js'
import type { EventStore } from './store.js'
import { Watcher } from './watcher.js'
import type { WatchStatus } from '../services/providers.js'

export interface EventsEngine {
  service: EventService
  watcher: Watcher
  jobs: JobRunner
}

export interface BuildEventsOptions {
  config: Config
  clock: Clock
  store: KvStore
  providers: ProviderSet
  metrics: GatewayMetrics
  /** built by the caller (tests); otherwise from the configuration */
  eventStore?: EventStore
  jobs?: JobRunner
  /** close steps name what they gave up on at their deadline */
  abandoned?: Abandoned
}

export async function buildEvents (app: FastifyInstance, opts: BuildEventsOptions): Promise<EventsEngine> {
  const { config, clock } = opts
  const retention = { retentionMs: config.events.retentionMs, timelineRetentionMs: config.events.timelineRetentionMs }
  const eventsTarget = config.events.redisUrl ?? config.redis
  let eventStore = opts.eventStore
  if (eventStore === undefined) {
    if (eventsTarget === null) {
      eventStore = new MemoryEventStore(clock, retention)
    } else {
      const { RedisEventStore } = await import('./redis-store.js')
      const redisStore = new RedisEventStore(eventsTarget, { keyPrefix: config.redisKeyPrefix, clock, log: app.log, retention })
      eventStore = redisStore
      if (!(await redisStore.waitReady(2000))) {
        app.log.warn('the event store\'s Redis is not reachable at start; event routes answer 503 and the watcher waits until it is')
      } else {
        try {
          await checkEviction(app, await redisStore.maxmemoryPolicy(), config.events.redisUrl !== null)
        } catch (err) {
          await redisStore.close()
          throw err
        }
      }
    }
    const owned = eventStore
    app.addHook('onClose', async () => { await owned.close(opts.abandoned) })
  }
  let jobs = opts.jobs
  if (jobs === undefined) {
    const jobsTarget = config.redis ?? (config.events.redisUrl === null ? null : { kind: 'url' as const, url: config.events.redisUrl })
    jobs = jobsTarget === null
      ? new (await import('../jobs/memory.js')).MemoryJobRunner(app.log)
      : new (await import('../jobs/bullmq.js')).BullJobRunner(jobsTarget, { redisKeyPrefix: config.redisKeyPrefix, log: app.log })
  }
  const store = eventStore
  const metrics = new EventMetrics(opts.metrics.registry, {
    now: () => clock.now(),
    lastSyncs: async () => {
      const out: Record<string, number | null> = {}
      await Promise.all(PROVIDER_IDS.map(async id => {
        try { out[id] = (await store.getCheckpoint(id))?.lastSyncAt ?? null } catch { out[id] = null }
      }))
      return out
    },
    snapshots: async () => { try { return await store.snapshotCounts() } catch { return null } },
    watch: async (): Promise<WatchStatus[]> => await watcher.status()
  })
  const service = new EventService(store, {
    clock,
    retention,
    metrics,
    log: app.log,
    ownsCaseId: id => opts.providers.resolveCaseId(id) !== null,
    gapWindowMs: 2 * Math.max(60_000, ...Object.values(config.events.watch.intervals))
  })
  const watcher: Watcher = new Watcher(opts.providers, service, jobs, clock, app.log, metrics, {
    lookbackMs: config.events.watch.lookbackMs,
    intervals: config.events.watch.intervals,
    oldCaseIntervalMs: config.events.watch.oldCaseIntervalMs,
    oldCaseBatch: config.events.watch.oldCaseBatch,
    budgets: watcherBudgets(config, opts.store, clock, app),
    callTimeoutMs: 6 * 60_000
  })
  const runner = jobs
  app.addHook('onReady', async () => {
    await runner.start()
    if (config.events.watch.enabled) await watcher.start()
  })
  // stop taking work before the connections close (also a runner the caller gave); a BullMQ job cut short is picked up by another replica
  app.addHook('preClose', async () => { watcher.close(); await runner.close(opts.abandoned) })
  return { service, watcher, jobs }
}

/** The watcher's share of each vendor budget, counted apart from (and on top of) the vendor budget itself. */
function watcherBudgets (config: Config, store: KvStore, clock: Clock, app: FastifyInstance): Partial<Record<ProviderId, OutboundBudget>> {
  const out: Partial<Record<ProviderId, OutboundBudget>> = {}
  for (const id of PROVIDER_IDS) {
    const p = config.providers[id]
    if (p.outboundBudget === null) continue
    out[id] = new OutboundBudget({
      provider: id,
      credential: `${p.credential ?? 'sandbox'}\u0000watcher`,
      limit: Math.max(1, Math.floor(p.outboundBudget.limit * config.events.watch.budgetSharePercent / 100)),
      windowMs: p.outboundBudget.windowMs,
      store,
      clock,
      log: app.log
    })
  }
  return out
}

/**
 * Events and snapshots must never be evicted. On the shared Redis a wrong policy is a warning (the cache and the
 * rate limits may want an LRU policy); on a Redis given to the events alone, the gateway refuses to start.
 */
async function checkEviction (app: FastifyInstance, policy: string | null, dedicated: boolean): Promise<void> {
  if (policy === null || policy === 'noeviction') return
  const msg = `Redis maxmemory-policy is "${policy}": under memory pressure it may evict events and case snapshots (lost or repeated events). Set maxmemory-policy noeviction and turn on AOF (appendonly yes).`
  if (dedicated) throw new Error(`EVENTS_REDIS_URL: ${msg}`)
  app.log.warn(msg)
}
