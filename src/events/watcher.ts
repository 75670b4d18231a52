/**
 * The watcher ("virtual webhooks"): per provider, a scheduled sync reads the cases created in the look-back window and
 * the cases open now, whatever their age, and puts every case through the observe step (docs/adr/0031-watch-the-open-set.md).
 * How a vendor's open cases are listed is declared in its provider module (`watch.openSet`): with the vendor's status
 * filter, one walk per query, or, where the list filters by creation only, by walking it back to the oldest case the
 * gateway knows to be open. A case known open that no walk lists any more left the open set: one read tells its final
 * state. The first sync of a provider records its cases silently. A sync that cannot record everything it read (event
 * store down, vendor failing) does not move the provider's checkpoint, and the next tick reads it all again: the
 * observe step is idempotent, so nothing is skipped and nothing is recorded twice.
 *
 * Each sync counts its vendor calls. Where the vendor has a budget, the cadence that keeps that many calls within the
 * watcher's share of it is recorded with the checkpoint; when it is longer than the configured one, ticks that come
 * sooner are skipped (logged once when the cadence changes; /metrics and GET /v1/providers show it).
 *
 * All work runs through the jobs port, so with Redis the ticks are shared by the replicas (BullMQ) and a killed
 * replica's job is finished by another; per-case re-reads (old cases, vendor webhooks, the gateway's own writes)
 * are jobs on one queue, deduplicated by case.
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import { ConnectorError, type CaseFilters, type ConnectorContext, type ProviderConnector, type ProviderPage } from '../connectors/connector.js'
import { Cancellation } from '../connectors/deadline.js'
import { mapLimit } from '../connectors/map-limit.js'
import type { OutboundBudget } from '../connectors/outbound-budget.js'
import { parseCaseId } from '../domain/case-id.js'
import type { JobRunner } from '../jobs/port.js'
import type { Logger } from '../logger.js'
import { PROVIDER_MODULES } from '../providers/registry.js'
import type { Case } from '../schemas/case.js'
import type { ObservedVia } from '../schemas/event.js'
import type { ProviderId } from '../schemas/provider.js'
import type { ProviderSet } from '../services/provider-set.js'
import type { WatchStatus } from '../services/providers.js'
import type { EventMetrics } from './metrics.js'
import type { EventService } from './service.js'
import type { Checkpoint } from './store.js'

export interface WatchOptions {
  /** how far back (by creation) each sync reads the vendor's whole list, whatever the status */
  lookbackMs: number
  /** sync cadence per provider; a provider without one is not watched */
  intervals: Partial<Record<ProviderId, number>>
  /** cadence of the one-by-one re-read of open cases older than the look-back window */
  oldCaseIntervalMs: number
  /** old cases re-read per tick */
  oldCaseBatch: number
  /** the watcher's share of each vendor's budget (null = no budget for that vendor) */
  budgets: Partial<Record<ProviderId, OutboundBudget>>
  /** per vendor page or case read, waiting for budget room included */
  callTimeoutMs: number
}

const PAGE_SIZE = 100
/** single reads of cases that left the open set, in flight at once */
const READ_CONCURRENCY = 4
const SYNC = 'watch-sync'
const REFRESH = 'watch-refresh'
const OLD = 'watch-old'

interface SyncJob { provider: ProviderId }
interface RefreshJob { caseId: string, via: ObservedVia }

export interface SyncReport {
  provider: ProviderId
  cases: number
  events: number
  pages: number
  /** single reads of cases that left the open set */
  reads: number
  /** every vendor call of the sync (pages, reads, look-ups inside a listing) */
  calls: number
  openCases: number
  /** the cadence that keeps `calls` within the watcher's budget share */
  intervalMs: number
}

/**
 * The cadence at which syncs of `calls` vendor calls fit in a budget share: the fewest whole ticks of `configured` such
 * that ceil(window / cadence) + 1 syncs fit (the most the budget's sliding-window estimate can count at once). Syncs
 * of more than half the share wait for room inside; their cadence is at least 2 × window × calls / share.
 */
export function cadenceWithin (configured: number, calls: number, share: { limit: number, windowMs: number } | undefined): number {
  if (share === undefined || calls === 0) return configured
  for (let every = configured; ; every += configured) {
    if ((Math.ceil(share.windowMs / every) + 1) * calls <= share.limit) return every
    if (2 * calls > share.limit && every * share.limit >= 2 * share.windowMs * calls) return every
  }
}

export class Watcher {
  readonly #stop = new Cancellation()
  #oldOffset = 0

  constructor (
    private readonly providers: ProviderSet,
    private readonly events: EventService,
    private readonly jobs: JobRunner,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: EventMetrics | null,
    private readonly opts: WatchOptions
  ) {
    jobs.define<SyncJob>(SYNC, async ({ provider }) => { await this.tick(provider) }, { concurrency: 3, attempts: 1 })
    jobs.define<RefreshJob>(REFRESH, async ({ caseId, via }) => { await this.refresh(caseId, via) }, { concurrency: 4, attempts: 5, backoffMs: 2000 })
    jobs.define(OLD, async () => { await this.enqueueOldCases() }, { attempts: 1 })
  }

  /** the providers watched: active and with a cadence */
  watched (): Array<{ id: ProviderId, connector: ProviderConnector, everyMs: number }> {
    return this.providers.active()
      .filter(e => this.opts.intervals[e.id] !== undefined)
      .map(e => ({ id: e.id, connector: e.connector, everyMs: this.opts.intervals[e.id] as number }))
  }

  async start (): Promise<void> {
    for (const { id, everyMs } of this.watched()) await this.jobs.schedule(`watch-${id}`, everyMs, SYNC, { provider: id })
    await this.jobs.schedule('watch-old-cases', this.opts.oldCaseIntervalMs, OLD, {})
  }

  close (): void { this.#stop.abort(new Error('shutting down')) }

  /**
   * After the event log's store lost its data (ADR 0032): its checkpoints are gone, so the next sync of each provider
   * records what it reads silently, as a first look. That sync is queued now rather than at the next tick.
   */
  async rebaseline (epoch: string): Promise<void> {
    this.#oldOffset = 0
    for (const { id } of this.watched()) await this.jobs.add<SyncJob>(SYNC, { provider: id }, { jobId: `rebaseline-${id}-${epoch}` })
  }

  /** Each watched provider's cadence, open-set size and cost, as the last sync (of any replica) recorded them. */
  async status (): Promise<WatchStatus[]> {
    return await Promise.all(this.watched().map(async ({ id, everyMs }) => {
      const cp = await this.events.store.getCheckpoint(id).catch(() => null)
      return {
        provider: id,
        intervalMs: everyMs,
        effectiveIntervalMs: Math.max(everyMs, cp?.intervalMs ?? everyMs),
        openCases: cp?.openCases ?? null,
        cycleCalls: cp?.calls ?? null,
        lastSyncAt: cp?.lastSyncAt ?? null
      }
    }))
  }

  /** The scheduled sync: skipped while the stretched cadence has not passed since the last one; null when skipped. */
  async tick (provider: ProviderId): Promise<SyncReport | null> {
    const configured = this.opts.intervals[provider]
    if (configured === undefined) return null
    const cp = await this.events.store.getCheckpoint(provider)
    // half a tick of slack: ticks do not come exactly on time
    if (cp?.intervalMs !== undefined && cp.intervalMs > configured && this.clock.now() - cp.lastSyncAt < cp.intervalMs - configured / 2) return null
    return await this.sync(provider, cp)
  }

  async #withContext<T> (provider: ProviderId, fn: (ctx: ConnectorContext) => Promise<T>, count?: () => void): Promise<T> {
    const budget = this.opts.budgets[provider]
    const counted = count === undefined
      ? budget
      : { acquire: async (o: Parameters<OutboundBudget['acquire']>[0]) => { count(); await budget?.acquire(o) } }
    return await this.providers.withContext(provider, this.#stop, this.log, async ctx => await fn({
      ...ctx, ...(counted === undefined ? {} : { budget: counted })
    }), this.opts.callTimeoutMs)
  }

  /**
   * One sync of a provider: its look-back window, its open set, one read of each case that left it. The checkpoint
   * moves only when everything read was recorded. `known`: the checkpoint the caller has just read (a tick), so it is
   * not read twice.
   */
  async sync (provider: ProviderId, known?: Checkpoint | null): Promise<SyncReport> {
    const configured = this.opts.intervals[provider] ?? 60_000
    const report: SyncReport = { provider, cases: 0, events: 0, pages: 0, reads: 0, calls: 0, openCases: 0, intervalMs: configured }
    const connector = this.providers.get(provider)?.connector
    if (connector == null) return report
    const started = performance.now()
    const startedAt = this.clock.now()
    const count = (): void => { report.calls++ }
    try {
      const checkpoint = known !== undefined ? known : await this.events.store.getCheckpoint(provider)
      const baseline = checkpoint?.baselined !== true
      const windowStart = startedAt - this.opts.lookbackMs
      // open cases the gateway knows of that the look-back window no longer holds (none known before the first sync)
      const knownOld = baseline ? [] : await this.#openCreatedBefore(provider, windowStart)
      const seen = new Set<string>()
      const open = new Set<string>()
      const observe = async (c: Case): Promise<void> => {
        if (seen.has(c.id)) return
        seen.add(c.id)
        if (!c.terminal) open.add(c.id)
        report.cases++
        // a case created before the window that the gateway does not know is a backlog case, never a new one
        if (await this.events.observe(c, 'poll', baseline || Date.parse(c.createdAt) < windowStart) !== null) report.events++
      }
      /** pages through one listing; stops after the page `done` says is the last one needed */
      const walk = async (filters: CaseFilters, done?: (page: ProviderPage) => boolean): Promise<void> => {
        let pageToken: string | null = null
        do {
          const token: string | null = pageToken
          const page: ProviderPage = await this.#withContext(provider, async ctx => await connector.listCases({ pageToken: token, pageSize: PAGE_SIZE, filters }, ctx), count)
          report.pages++
          await Promise.all(page.items.map(observe))
          pageToken = done?.(page) === true ? null : page.next
        } while (pageToken !== null)
      }
      const since = new Date(windowStart).toISOString()
      const openSet = PROVIDER_MODULES[provider].watch.openSet
      // a first sync looks for open cases of any age (a backlog older than the gateway); later ones when some are known
      const readOld = baseline || knownOld.length > 0
      if (openSet.by === 'creation') {
        const pending = new Set(knownOld)
        await walk(readOld ? {} : { since }, page => {
          for (const c of page.items) pending.delete(c.id)
          const oldest = page.items.at(-1)
          return !baseline && pending.size === 0 && (oldest === undefined || Date.parse(oldest.createdAt) < windowStart)
        })
      } else {
        await walk({ since })
        if (readOld) for (const vendor of openSet.queries) await walk({ vendor, until: since })
      }
      // known open, listed by no walk: it left the open set; one read tells how (a case the vendor lost is left alone)
      const left = knownOld.filter(id => !seen.has(id))
      await mapLimit(left, READ_CONCURRENCY, async id => {
        report.reads++
        const c = await this.#read(id, 'poll', count)
        if (c !== null) await observe(c)
      })
      report.openCases = open.size
      report.intervalMs = baseline ? configured : cadenceWithin(configured, report.calls, this.opts.budgets[provider])
      if (report.intervalMs > configured && report.intervalMs !== checkpoint?.intervalMs) {
        this.log.warn({ provider, calls: report.calls, openCases: report.openCases, intervalMs: configured, effectiveIntervalMs: report.intervalMs },
          'the open set costs more vendor calls per sync than the watcher\'s budget share allows at the configured cadence; syncs run less often')
      }
      await this.events.store.setCheckpoint(provider, { lastSyncAt: startedAt, baselined: true, calls: report.calls, openCases: report.openCases, intervalMs: report.intervalMs })
      this.metrics?.syncDuration.observe({ provider, outcome: 'ok' }, (performance.now() - started) / 1000)
      this.log.debug({ ...report, baseline }, 'watch sync done')
      return report
    } catch (err) {
      this.metrics?.syncDuration.observe({ provider, outcome: 'failed' }, (performance.now() - started) / 1000)
      if (err instanceof ConnectorError) this.providers.recordError(provider, err)
      this.log.warn({ ...report, err: (err as Error).message }, 'watch sync failed; the checkpoint stays, the next tick reads it all again')
      throw err
    }
  }

  /** ids of the provider's open cases created before `beforeMs`, as the event store knows them */
  async #openCreatedBefore (provider: ProviderId, beforeMs: number): Promise<string[]> {
    const ids: string[] = []
    for (let offset = 0; ; offset += 5000) {
      const chunk = await this.events.store.openCasesCreatedBefore(beforeMs, offset, 5000)
      for (const id of chunk) if (parseCaseId(id)?.provider === provider) ids.push(id)
      if (chunk.length < 5000) return ids
    }
  }

  /** One case from the vendor; null when the vendor no longer knows it. */
  async #read (caseId: string, via: ObservedVia, count?: () => void): Promise<Case | null> {
    const parsed = parseCaseId(caseId)
    const connector = parsed === null ? null : this.providers.get(parsed.provider)?.connector
    if (parsed === null || connector == null) return null
    try {
      return await this.#withContext(parsed.provider, async ctx => await connector.getCase(parsed.providerCaseId, { raw: false }, ctx), count)
    } catch (err) {
      if (err instanceof ConnectorError && err.kind === 'not_found') {
        this.log.info({ caseId, via }, 'case to re-read is gone at the vendor')
        return null
      }
      throw err
    }
  }

  /** Re-reads one case and observes it (old open cases, vendor webhooks, the gateway's own writes). */
  async refresh (caseId: string, via: ObservedVia): Promise<void> {
    const detail = await this.#read(caseId, via)
    // a webhook announces cases the gateway may not know yet; a write or an old-case re-read never creates one
    if (detail !== null) await this.events.observe(detail, via, via !== 'webhook')
  }

  /** Queues a re-read of one case; the same case waiting twice for the same reason runs once. */
  async touch (caseId: string, via: ObservedVia): Promise<void> {
    const id = createHash('sha1').update(caseId).digest('base64url')
    await this.jobs.add<RefreshJob>(REFRESH, { caseId, via }, { jobId: `${via}-${id}` })
  }

  /** Like touch, for request paths: a failure is logged, never the client's problem. */
  touchQuietly (caseId: string, via: ObservedVia): void {
    this.touch(caseId, via).catch((err: unknown) => {
      this.log.warn({ caseId, via, err: (err as Error).message }, 'could not queue a re-read of the case; the watcher will catch the change')
    })
  }

  async enqueueOldCases (): Promise<number> {
    const watched = new Set(this.watched().map(w => w.id))
    // a different slice each tick, so every old open case comes round
    const ids = await this.events.store.openCasesCreatedBefore(this.clock.now() - this.opts.lookbackMs, this.#oldOffset, this.opts.oldCaseBatch)
    this.#oldOffset = ids.length < this.opts.oldCaseBatch ? 0 : this.#oldOffset + ids.length
    let queued = 0
    for (const id of ids) {
      const provider = parseCaseId(id)?.provider
      if (provider === undefined || !watched.has(provider)) continue
      await this.touch(id, 'poll')
      queued++
    }
    return queued
  }
}
