/**
 * Bulk submission: a batch of create bodies validated up front exactly like single creates, stored per item, and
 * worked off in the background through the single-create path (duplicate check, one vendor create) within a share
 * of each vendor's outbound budget. Item records are the truth; counts and the batch status are read from them
 * (records.ts).
 */
import type { CancelSignal } from '../../connectors/deadline.js'
import type { Logger } from '../../logger.js'
import type { Batch, BatchItem, BatchOutcome, BatchPlan, BatchSettings, BatchStatus } from '../../schemas/batch.js'
import type { AppendInput } from '../../schemas/event.js'
import type { KvStore } from '../../store/kv-store.js'
import { BatchRecords } from './records.js'
import { BatchRunner, type BatchJob, type BatchRunnerDeps } from './run.js'
import { BatchSubmitter, type ItemValidator, type SubmitInput } from './submit.js'
import { BatchViews } from './view.js'

/** The batch feature's three parts over one store: submit (submit.ts), run (run.ts) and view (view.ts). */
export class BatchService {
  readonly settings: BatchSettings
  readonly #submitter: BatchSubmitter
  readonly #runner: BatchRunner
  readonly #views: BatchViews

  constructor (deps: BatchRunnerDeps & {
    store: KvStore
    /** the store epoch in force (ADR 0032): batch ids carry it, so an id the store lost is told from one that expired */
    epoch?: () => string | null
  }) {
    const epoch = deps.epoch ?? (() => null)
    const records = new BatchRecords(deps.store, deps.clock, deps.settings, epoch)
    this.settings = deps.settings
    this.#submitter = new BatchSubmitter(records, { ...deps, epoch })
    this.#runner = new BatchRunner(records, deps)
    this.#views = new BatchViews(records, deps.clock)
  }

  defineJobs (): void { this.#runner.defineJobs() }

  async submit (input: SubmitInput, opts: { skipInvalid: boolean, dryRun: boolean, client: string }, validate: ItemValidator,
    signal: CancelSignal, log: Logger): Promise<{ kind: 'plan', plan: BatchPlan } | { kind: 'batch', batch: Batch }> {
    return await this.#submitter.submit(input, opts, validate, signal, log)
  }

  async runItem (job: BatchJob): Promise<{ retryInMs: number } | null> { return await this.#runner.runItem(job) }

  async get (id: string): Promise<Batch> { return await this.#views.get(id) }

  async list (owner: string, q: { status?: BatchStatus, cursor?: string, limit?: number }): Promise<{ items: Batch[], nextCursor: string | null }> {
    return await this.#views.list(owner, q)
  }

  async items (id: string, q: { outcome?: BatchOutcome, cursor?: string, limit?: number }): Promise<{ items: BatchItem[], nextCursor: string | null }> {
    return await this.#views.items(id, q)
  }

  async cancel (id: string, log: Logger): Promise<Batch> { return await this.#views.cancel(id, log) }
}

/** The `batch.completed` event of a finished batch, keyed by the batch id: one event per batch, whichever replica records it. */
export function batchCompleted (b: Batch): AppendInput {
  return {
    type: 'batch.completed',
    key: `batch.completed:${b.id}`,
    occurredAt: b.completedAt ?? b.createdAt,
    data: {
      batch: { id: b.id, status: b.status, total: b.total, counts: b.counts, createdAt: b.createdAt, completedAt: b.completedAt, link: b.links.self },
      owner: b.createdBy
    }
  }
}
