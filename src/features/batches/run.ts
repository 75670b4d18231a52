/**
 * Working a batch off: one job per item on the jobs port (BullMQ across replicas, or in process), each item through
 * the single-create path (duplicate check, one vendor create) within a share of each vendor's outbound budget.
 *
 * Exactly one vendor create per item, across retries and replica crashes: an item is worked only under a claim
 * (a store key set-if-absent, expiring after `claimMs`, while the item's own deadline is half of that), and a
 * `sent` marker is written right before the vendor create goes out. A later attempt that finds the marker knows
 * the earlier one may have created the case, so it adopts the open case the vendor now has for the target instead
 * of filing a second one.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../clock.js'
import { ConnectorError, notSent } from '../../connectors/connector.js'
import { Cancellation } from '../../connectors/deadline.js'
import { isBudgetRefusal, type OutboundBudget } from '../../connectors/outbound-budget.js'
import { GatewayError, internalError, problemOf, toGatewayError } from '../../domain/problems.js'
import type { JobRunner } from '../../jobs/port.js'
import type { Logger } from '../../logger.js'
import type { Batch, BatchSettings } from '../../schemas/batch.js'
import type { ProviderId } from '../../schemas/provider.js'
import type { CaseWriteService } from '../../services/writes.js'
import { keys } from '../../store/keys.js'
import type { BatchRecords, ItemRecord, Meta } from './records.js'

/** what a measured routing rule draws a batch item's choice from (services/writes.ts `routingKey`) */
export const batchItemRoutingKey = (batchId: string, index: number): string => `batch:${batchId}:${index}`

/** one job per item on the jobs port (BullMQ across replicas, or in process) */
export interface BatchJob { batchId: string, index: number }
export const BATCH_QUEUE = 'batch-item'

export interface BatchRunnerDeps {
  writes: CaseWriteService
  jobs: JobRunner
  clock: Clock
  log: Logger
  settings: BatchSettings
  /** each vendor's outbound budget (providers/build.ts) */
  budgets: Partial<Record<ProviderId, OutboundBudget>>
  /** called once per batch, across replicas, when its last item is final (the feature records `batch.completed`) */
  onCompleted?: (batch: Batch) => Promise<void> | void
}

/** how long a job waits for an item another worker holds before it looks again */
const CLAIM_HELD_RETRY_MS = 2000

export class BatchRunner {
  readonly #records: BatchRecords
  readonly #writes: CaseWriteService
  readonly #clock: Clock
  readonly #log: Logger
  readonly #settings: BatchSettings
  /** per vendor, the batch share of its outbound budget (vendors without a budget: none) */
  readonly #shares: Partial<Record<ProviderId, OutboundBudget>> = {}
  /** item creates are never cut short from outside: a stopping replica waits for them (each has its own deadline) */
  readonly #signal = new Cancellation()
  readonly #jobs: JobRunner
  readonly #onCompleted: (batch: Batch) => Promise<void> | void

  constructor (records: BatchRecords, deps: BatchRunnerDeps) {
    this.#records = records
    this.#onCompleted = deps.onCompleted ?? (() => {})
    this.#jobs = deps.jobs
    this.#writes = deps.writes
    this.#clock = deps.clock
    this.#log = deps.log
    this.#settings = deps.settings
    for (const [id, budget] of Object.entries(deps.budgets)) this.#shares[id as ProviderId] = budget.share('batch', deps.settings.budgetShare)
  }

  /**
   * Defines the item queue on the jobs port (before the runner starts). A job that must wait (nothing was sent,
   * or another worker holds the item) is added again under a new id with a delay, so the port's own retries
   * stay for unexpected failures.
   */
  defineJobs (): void {
    this.#jobs.define<BatchJob & { n?: number }>(BATCH_QUEUE, async (job) => {
      const again = await this.runItem(job)
      if (again === null) return
      const n = (job.n ?? 0) + 1
      await this.#jobs.add(BATCH_QUEUE, { batchId: job.batchId, index: job.index, n }, { jobId: `${job.batchId}-${job.index}-${n}`, delayMs: again.retryInMs })
    }, { concurrency: this.#settings.concurrency, attempts: 5, backoffMs: 2000, lockMs: this.#settings.claimMs })
  }

  /** Works one item; null when it is final, else when to look again. Safe to run twice and on any replica. */
  async runItem (job: BatchJob): Promise<{ retryInMs: number } | null> {
    const { batchId, index } = job
    const rawMeta = await this.#records.store.get(keys.batch(batchId))
    if (rawMeta === null) return null // expired or never stored
    const meta = JSON.parse(rawMeta) as Meta
    const rec = await this.#records.item(batchId, index)
    if (rec === null) return null
    if (rec.outcome !== 'pending') {
      await this.#finished(meta)
      return null
    }
    const log = this.#log.child({ batchId, index })
    if (await this.#records.store.get(keys.batch(batchId, 'cancel')) !== null) {
      await this.#settle(meta, { ...rec, outcome: 'cancelled', updatedAt: this.#clock.now() })
      return null
    }
    const claimKey = keys.batch(batchId, `claim:${index}`)
    const token = randomBytes(12).toString('base64url')
    if (!await this.#records.store.set(claimKey, token, { ttlMs: this.#settings.claimMs, nx: true })) {
      return { retryInMs: CLAIM_HELD_RETRY_MS } // another worker has it (or a dead one, until its claim expires)
    }
    const sentKey = keys.batch(batchId, `sent:${index}`)
    const mayHaveBeenSent = await this.#records.store.get(sentKey) !== null
    let settled: ItemRecord
    let sentNow = false
    try {
      const result = await this.#writes.create(rec.body, [], {
        dryRun: false,
        ...(this.#shares[rec.provider] === undefined ? {} : { budget: this.#shares[rec.provider] }),
        adopt: mayHaveBeenSent,
        routingKey: batchItemRoutingKey(batchId, index),
        timeoutMs: Math.floor(this.#settings.claimMs / 2),
        beforeSubmit: async () => {
          await this.#records.store.set(sentKey, String(this.#clock.now()), { ttlMs: Math.max(1000, meta.expiresAt - this.#clock.now()) })
          sentNow = true
        }
      }, this.#signal, log)
      if (result.kind !== 'created') throw new Error('unreachable: a batch item returned a plan')
      if (result.adopted === true) log.info({ caseId: result.case.id }, 'batch item adopted the case an interrupted attempt created')
      settled = { ...rec, outcome: 'created', caseId: result.case.id, updatedAt: this.#clock.now() }
    } catch (err) {
      const attempts = rec.attempts + 1
      // a passing fault: try again later (after the create was sent, the next attempt adopts the case if it exists)
      if (transient(err, sentNow) && attempts < this.#settings.maxAttempts) {
        await this.#records.putItem(meta, { ...rec, attempts, updatedAt: this.#clock.now() })
        await this.#records.store.delIfEquals(claimKey, token)
        const retryAfter = err instanceof ConnectorError && err.retryAfter !== null ? err.retryAfter * 1000 : 1000 * 2 ** attempts
        log.debug({ attempts, retryInMs: retryAfter, err: (err as Error).message }, 'batch item not sent; retrying later')
        return { retryInMs: retryAfter }
      }
      if (err instanceof GatewayError && err.code === 'GW_ERR_DUPLICATE_CASE') {
        settled = { ...rec, attempts, outcome: 'duplicate', existing: err.extras.existing ?? null, updatedAt: this.#clock.now() }
      } else {
        const at = { url: `/v1/batches/${batchId}/items`, id: `${batchId}/${index}` }
        const gw = toGatewayError(err) ?? internalError(at.id)
        const { problem } = problemOf(gw, at)
        if (problem.status >= 500) log.warn({ code: problem.code, provider: problem.provider }, `batch item failed: ${problem.detail}`)
        settled = { ...rec, attempts, outcome: 'failed', problem, updatedAt: this.#clock.now() }
      }
    }
    await this.#settle(meta, settled)
    await this.#records.store.delIfEquals(claimKey, token)
    return null
  }

  async #settle (meta: Meta, rec: ItemRecord): Promise<void> {
    await this.#records.putItem(meta, rec)
    await this.#finished(meta)
  }

  /** After an item became final: when every item is, the batch completes (once, across replicas). */
  async #finished (meta: Meta): Promise<void> {
    const ttlMs = Math.max(1000, meta.expiresAt - this.#clock.now())
    const { value } = await this.#records.store.incr(keys.batch(meta.id, 'done'), ttlMs)
    if (value < meta.total - meta.folded) return
    // the counter is a hint (a retried job counts twice); the item records decide
    const view = await this.#records.view(meta)
    if (view.counts.pending > 0) return
    if (!await this.#records.store.set(keys.batch(meta.id, 'completed'), String(this.#clock.now()), { ttlMs, nx: true })) return
    const done = await this.#records.view(meta)
    this.#log.info({ batchId: meta.id, counts: done.counts, status: done.status }, 'batch completed')
    try {
      await this.#onCompleted(done)
    } catch (err) {
      this.#log.error({ err, batchId: meta.id }, 'recording batch.completed failed')
    }
  }
}

/**
 * A failure worth another attempt of the item, which then runs the whole create again (its duplicate check first):
 * - before the create was sent (`sent` false) nothing can have been filed, so every passing fault of the checks'
 *   reads counts: connection lost, timeout, 5xx, 429, our own budget or circuit saying wait;
 * - after it, a create the vendor cannot have acted on (connection refused, 429), one whose answer never came
 *   (timeout, connection lost: the next attempt adopts what it may have created), and one the vendor answered 503
 *   with Retry-After (it says it did not take the request now; vendors' API documentation asks for retries of
 *   5xx, and the adopting attempt still finds the case should one exist).
 * A refusal of the request itself (400, 401, 404, 422) or an unparseable answer is final.
 */
function transient (err: unknown, sent: boolean): boolean {
  if (!(err instanceof ConnectorError)) return false
  if (isBudgetRefusal(err) || notSent(err)) return true
  if (!sent) return err.kind === 'unavailable' || err.kind === 'timeout' || err.kind === 'rate_limited'
  return err.kind === 'timeout' || (err.kind === 'unavailable' && (err.upstreamStatus === null || (err.upstreamStatus === 503 && err.retryAfter !== null)))
}
