/**
 * The watcher ("virtual webhooks"): per provider, a scheduled sync reads the vendor's list over the look-back window
 * and puts every case through the observe step; open cases older than the window are re-read one by one on a slower
 * schedule. The first sync of a provider records its cases silently. A sync that cannot record everything it read
 * (event store down, vendor failing) does not move the provider's checkpoint, and the next tick reads it all again:
 * the observe step is idempotent, so nothing is skipped and nothing is recorded twice.
 *
 * All work runs through the jobs port, so with Redis the ticks are shared by the replicas (BullMQ) and a killed
 * replica's job is finished by another; per-case re-reads (old cases, PhishFort webhooks, the gateway's own writes)
 * are jobs on one queue, deduplicated by case.
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import { ConnectorError, type ConnectorContext, type ProviderConnector, type ProviderPage } from '../connectors/connector.js'
import { Cancellation } from '../connectors/deadline.js'
import type { OutboundBudget } from '../connectors/outbound-budget.js'
import { parseCaseId } from '../domain/case-id.js'
import type { JobRunner } from '../jobs/port.js'
import type { Logger } from '../logger.js'
import type { ObservedVia } from '../schemas/event.js'
import type { ProviderId } from '../schemas/provider.js'
import type { ProviderSet } from '../services/provider-set.js'
import type { EventMetrics } from './metrics.js'
import type { EventService } from './service.js'

export interface WatchOptions {
  /** how far back (by creation) each sync reads the vendor's list */
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
const SYNC = 'watch-sync'
const REFRESH = 'watch-refresh'
const OLD = 'watch-old'

interface SyncJob { provider: ProviderId }
interface RefreshJob { caseId: string, via: ObservedVia }

export interface SyncReport { provider: ProviderId, cases: number, events: number, pages: number }

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
    jobs.define<SyncJob>(SYNC, async ({ provider }) => { await this.sync(provider) }, { concurrency: 3, attempts: 1 })
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

  async #withContext<T> (provider: ProviderId, fn: (ctx: ConnectorContext) => Promise<T>): Promise<T> {
    const budget = this.opts.budgets[provider]
    return await this.providers.withContext(provider, this.#stop, this.log, async ctx => await fn({
      ...ctx, ...(budget === undefined ? {} : { budget })
    }), this.opts.callTimeoutMs)
  }

  /** One full read of a provider's look-back window; the checkpoint moves only when everything read was recorded. */
  async sync (provider: ProviderId): Promise<SyncReport> {
    const connector = this.providers.get(provider)?.connector
    if (connector == null) return { provider, cases: 0, events: 0, pages: 0 }
    const started = performance.now()
    const startedAt = this.clock.now()
    const report: SyncReport = { provider, cases: 0, events: 0, pages: 0 }
    try {
      const checkpoint = await this.events.store.getCheckpoint(provider)
      const silentIfNew = checkpoint?.baselined !== true
      const since = new Date(startedAt - this.opts.lookbackMs).toISOString()
      let pageToken: string | null = null
      do {
        const token: string | null = pageToken
        const page: ProviderPage = await this.#withContext(provider, async ctx => await connector.listCases({ pageToken: token, pageSize: PAGE_SIZE, filters: { since } }, ctx))
        report.pages++
        const recorded = await Promise.all(page.items.map(async c => await this.events.observe(c, 'poll', silentIfNew)))
        report.cases += page.items.length
        report.events += recorded.filter(e => e !== null).length
        pageToken = page.next
      } while (pageToken !== null)
      await this.events.store.setCheckpoint(provider, { lastSyncAt: startedAt, baselined: true })
      this.metrics?.syncDuration.observe({ provider, outcome: 'ok' }, (performance.now() - started) / 1000)
      this.log.debug({ ...report, baseline: silentIfNew }, 'watch sync done')
      return report
    } catch (err) {
      this.metrics?.syncDuration.observe({ provider, outcome: 'failed' }, (performance.now() - started) / 1000)
      if (err instanceof ConnectorError) this.providers.recordError(provider, err)
      this.log.warn({ ...report, err: (err as Error).message }, 'watch sync failed; the checkpoint stays, the next tick reads the window again')
      throw err
    }
  }

  /** Re-reads one case and observes it (old open cases, vendor webhooks, the gateway's own writes). */
  async refresh (caseId: string, via: ObservedVia): Promise<void> {
    const parsed = parseCaseId(caseId)
    const connector = parsed === null ? null : this.providers.get(parsed.provider)?.connector
    if (parsed === null || connector == null) return
    try {
      const detail = await this.#withContext(parsed.provider, async ctx => await connector.getCase(parsed.providerCaseId, { raw: false }, ctx))
      // a webhook announces cases the gateway may not know yet; a write or an old-case re-read never creates one
      await this.events.observe(detail, via, via !== 'webhook')
    } catch (err) {
      if (err instanceof ConnectorError && err.kind === 'not_found') {
        this.log.info({ caseId, via }, 'case to re-read is gone at the vendor')
        return
      }
      throw err
    }
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
