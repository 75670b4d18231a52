/**
 * Bulk submission: a batch of create bodies validated up front exactly like single creates, stored per item, and
 * worked off in the background through the single-create path (duplicate check, one vendor create) within a share
 * of each vendor's outbound budget.
 *
 * Exactly one vendor create per item, across retries and replica crashes: an item is worked only under a claim
 * (a store key set-if-absent, expiring after `claimMs`, while the item's own deadline is half of that), and a
 * `sent` marker is written right before the vendor create goes out. A later attempt that finds the marker knows
 * the earlier one may have created the case, so it adopts the open case the vendor now has for the target instead
 * of filing a second one. Item records are the truth; counts and the batch status are read from them.
 */
import { randomBytes } from 'node:crypto'
import { Cancellation } from '../connectors/deadline.js'
import { ConnectorError, notSent } from '../connectors/connector.js'
import { mapLimit } from '../connectors/map-limit.js'
import { isBudgetRefusal, type OutboundBudget } from '../connectors/outbound-budget.js'
import { GatewayError, internalError, problemOf, toGatewayError } from '../domain/problems.js'
import { normaliseTarget } from '../domain/target.js'
import type { Logger } from '../logger.js'
import type { AppendInput } from '../schemas/event.js'
import type { Clock } from '../clock.js'
import type {
  Batch, BatchDefaults, BatchItem, BatchOutcome, BatchPlan, BatchStatus
} from '../schemas/batch.js'
import type { CreateCaseBody, CreatePlan } from '../schemas/create.js'
import type { Problem } from '../schemas/problem.js'
import type { ProviderId } from '../schemas/provider.js'
import type { KvStore } from '../store/kv-store.js'
import { keys } from '../store/keys.js'
import type { JobRunner } from '../jobs/port.js'
import type { CaseWriteService } from './writes.js'
import type { CancelSignal } from '../connectors/deadline.js'

export interface BatchSettings {
  /** most items one batch may hold */
  maxItems: number
  /** how long a batch and its items are kept */
  retentionMs: number
  /** item jobs one replica works at once */
  concurrency: number
  /** share of each vendor's outbound budget batch work may use (0 < share <= 1) */
  budgetShare: number
  /** how long a claim on an item lasts when its worker dies; an item's deadline is half of it */
  claimMs: number
  /** attempts per item through passing vendor faults (connection lost, timeout, 5xx, 429) before it is `failed` */
  maxAttempts: number
}

/** Field errors of one item against the single-create schema; null when it passes. */
export type ItemValidator = (body: unknown) => Array<{ path: string, message: string }> | null

/** `b_<epoch>_<22 random characters>`; `b_<22 random characters>` while no epoch is known */
function batchId (epoch: string | null): string {
  const random = randomBytes(16).toString('base64url')
  return epoch === null ? `b_${random}` : `b_${epoch}_${random}`
}

/** the epoch a batch id was made in, null for an id without one */
export function epochOfBatch (id: string): string | null {
  const m = /^b_([a-z0-9]{1,12}-[0-9a-f]{6})_[\w-]{22}$/.exec(id)
  return m?.[1] ?? null
}

interface Meta {
  id: string
  createdBy: string
  createdAt: number
  expiresAt: number
  total: number
  /** items folded into an earlier one: final from the start */
  folded: number
  rejected: Batch['rejected']
}

interface ItemRecord {
  index: number
  row: number | null
  body: CreateCaseBody
  provider: ProviderId
  outcome: BatchOutcome
  caseId: string | null
  existing: string | null
  duplicateOf: number | null
  problem: Problem | null
  attempts: number
  updatedAt: number
}

/** one job per item on the jobs port (BullMQ across replicas, or in process) */
export interface BatchJob { batchId: string, index: number }
export const BATCH_QUEUE = 'batch-item'

export interface SubmitInput {
  defaults: BatchDefaults | undefined
  items: Array<Record<string, unknown>>
  /** CSV uploads: the file line of each item */
  rows: number[] | null
}

const MGET_CHUNK = 500
/** the owner's batch counter outlives every batch it numbers (a new count would overwrite live entries) */
const OWNER_SEQ_TTL_MS = 10 * 365 * 86_400_000
/** batches one list page looks at, in index reads of LIST_CHUNK */
const LIST_SCAN = 500
const LIST_CHUNK = 50
/** how long a job waits for an item another worker holds before it looks again */
const CLAIM_HELD_RETRY_MS = 2000

/** the store calls batches make */
type BatchStore = Pick<KvStore, 'get' | 'mget' | 'set' | 'incr' | 'delIfEquals'>

/** errors the store (or the job queue on it) raised: the only ones reported as "the batch store is unreachable" */
const storeFailures = new WeakSet<object>()
function storeFailure (err: unknown): never {
  const e = err instanceof Error ? err : new Error(String(err))
  storeFailures.add(e)
  throw e
}

/** the store with its failures marked, so a bug (a stack overflow, a record that does not parse) stays a 500 */
function marking (store: KvStore): BatchStore {
  return {
    get: async key => await store.get(key).catch(storeFailure),
    mget: async keys => await store.mget(keys).catch(storeFailure),
    set: async (key, value, opts) => await store.set(key, value, opts).catch(storeFailure),
    incr: async (key, ttlMs) => await store.incr(key, ttlMs).catch(storeFailure),
    delIfEquals: async (key, value) => await store.delIfEquals(key, value).catch(storeFailure)
  }
}

export class BatchService {
  readonly #store: BatchStore
  readonly #writes: CaseWriteService
  readonly #clock: Clock
  readonly #epoch: () => string | null
  readonly #log: Logger
  readonly #settings: BatchSettings
  /** per vendor, the batch share of its outbound budget (vendors without a budget: none) */
  readonly #shares: Partial<Record<ProviderId, OutboundBudget>> = {}
  /** item creates are never cut short from outside: a stopping replica waits for them (each has its own deadline) */
  readonly #signal = new Cancellation()
  readonly #jobs: JobRunner
  /** Called once per batch, across replicas, when its last item is final: the app records `batch.completed` here. */
  onCompleted: (batch: Batch) => Promise<void> | void = () => {}

  constructor (deps: {
    store: KvStore
    writes: CaseWriteService
    jobs: JobRunner
    clock: Clock
    log: Logger
    settings: BatchSettings
    /** each vendor's outbound budget (connectors/build.ts) */
    budgets: Partial<Record<ProviderId, OutboundBudget>>
    /** the store epoch in force (ADR 0032): batch ids carry it, so an id the store lost is told from one that expired */
    epoch?: () => string | null
  }) {
    this.#epoch = deps.epoch ?? (() => null)
    this.#store = marking(deps.store)
    this.#jobs = deps.jobs
    this.#writes = deps.writes
    this.#clock = deps.clock
    this.#log = deps.log
    this.#settings = deps.settings
    for (const [id, budget] of Object.entries(deps.budgets)) this.#shares[id as ProviderId] = budget.share('batch', deps.settings.budgetShare)
  }

  get settings (): BatchSettings { return this.#settings }

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

  // ---- submission -----------------------------------------------------------------------------------------------

  async submit (input: SubmitInput, opts: { skipInvalid: boolean, dryRun: boolean, client: string }, validate: ItemValidator,
    signal: CancelSignal, log: Logger): Promise<{ kind: 'plan', plan: BatchPlan } | { kind: 'batch', batch: Batch }> {
    const n = input.items.length
    if (n > this.#settings.maxItems) {
      throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `A batch holds at most ${this.#settings.maxItems} items (got ${n}); split it`)
    }
    const rowOf = (i: number): number | null => input.rows?.[i] ?? null
    const where = (i: number): string => input.rows === null ? `/items/${i}` : `/rows/${rowOf(i) ?? i}`
    const bodies = input.items.map(item => merge(input.defaults, item))
    // every item through the single-create checks: the schema, then target rules, routing and provider options
    const checked = await mapLimit(bodies, 8, async (body): Promise<{ plan: CreatePlan } | { errors: Array<{ path: string, message: string }> }> => {
      const errors = validate(body)
      if (errors !== null) return { errors }
      try {
        const result = await this.#writes.create(body as CreateCaseBody, [], { dryRun: true, checkDuplicate: false }, signal, log)
        if (result.kind !== 'plan') throw new Error('unreachable: a dry run created a case')
        return { plan: result.plan }
      } catch (err) {
        if (!(err instanceof GatewayError) || err.statusCode >= 500) throw err
        return { errors: err.extras.errors ?? [{ path: err.extras.provider === undefined ? '/' : '/provider', message: err.message }] }
      }
    })
    const rejected: Batch['rejected'] = []
    checked.forEach((c, i) => { if ('errors' in c) rejected.push({ index: i, row: rowOf(i), errors: c.errors }) })
    if (rejected.length > 0 && (!opts.skipInvalid || rejected.length === n)) {
      const errors = rejected.flatMap(r => r.errors.map(e => ({ path: where(r.index) + (e.path === '/' ? '' : e.path), message: e.message })))
      const named = rejected.slice(0, 10).map(r => (r.row === null ? `item ${r.index}` : `row ${r.row}`) + `: ${r.errors.map(e => `${e.path} ${e.message}`).join(', ')}`)
      throw new GatewayError('GW_ERR_VALIDATION',
        `${rejected.length} of ${n} items are invalid, nothing was sent${opts.skipInvalid ? '' : ' (skipInvalid=true accepts the valid ones)'}: ${named.join('; ')}` +
        (rejected.length > 10 ? `; and ${rejected.length - 10} more` : ''), { errors })
    }

    // in-batch duplicates: the same target at the same provider is sent once
    const first = new Map<string, number>()
    const accepted: Array<{ index: number, body: CreateCaseBody, plan: CreatePlan, duplicateOf: number | null }> = []
    checked.forEach((c, i) => {
      if (!('plan' in c)) return
      const body = bodies[i] as CreateCaseBody
      const key = `${c.plan.provider}|${body.action ?? 'takedown'}|${body.target.type}|${normaliseTarget(body.target.type, body.target.value)}`
      const earlier = body.allowDuplicate === true ? undefined : first.get(key)
      if (earlier === undefined) first.set(key, i)
      accepted.push({ index: i, body, plan: c.plan, duplicateOf: earlier ?? null })
    })
    if (opts.dryRun) {
      return {
        kind: 'plan',
        plan: {
          dryRun: true,
          items: accepted.map(a => {
            const { dryRun: _d, ...plan } = a.plan
            return { index: a.index, row: rowOf(a.index), duplicateOf: a.duplicateOf, plan }
          }),
          rejected
        }
      }
    }

    return { kind: 'batch', batch: await this.#reachable('the batch was not accepted', async () => await this.#record(accepted, rejected, rowOf, opts.client, log)) }
  }

  async #record (accepted: Array<{ index: number, body: CreateCaseBody, plan: CreatePlan, duplicateOf: number | null }>, rejected: Batch['rejected'],
    rowOf: (i: number) => number | null, client: string, log: Logger): Promise<Batch> {
    const now = this.#clock.now()
    const meta: Meta = {
      id: batchId(this.#epoch()),
      createdBy: client,
      createdAt: now,
      expiresAt: now + this.#settings.retentionMs,
      total: accepted.length,
      folded: accepted.filter(a => a.duplicateOf !== null).length,
      rejected
    }
    // item records first, the batch record last: a batch that can be read has all its items
    await mapLimit(accepted, 32, async a => {
      const rec: ItemRecord = {
        index: a.index,
        row: rowOf(a.index),
        body: a.body,
        provider: a.plan.provider,
        outcome: a.duplicateOf === null ? 'pending' : 'duplicate',
        caseId: null,
        existing: null,
        duplicateOf: a.duplicateOf,
        problem: null,
        attempts: 0,
        updatedAt: now
      }
      await this.#putItem(meta, rec)
    })
    await this.#store.set(keys.batch(meta.id), JSON.stringify(meta), { ttlMs: this.#settings.retentionMs })
    // the owner's list: the n-th batch of a key is entry n, so newest first is counting down
    const { value: n } = await this.#store.incr(keys.batchesOf(client, 'seq'), OWNER_SEQ_TTL_MS)
    await this.#store.set(keys.batchesOf(client, String(n)), meta.id, { ttlMs: this.#settings.retentionMs })
    await mapLimit(accepted.filter(a => a.duplicateOf === null), 32, async a => {
      await this.#jobs.add<BatchJob>(BATCH_QUEUE, { batchId: meta.id, index: a.index }, { jobId: `${meta.id}-${a.index}` }).catch(storeFailure)
    })
    log.info({ batchId: meta.id, items: meta.total, folded: meta.folded, rejected: rejected.length }, 'batch accepted')
    return await this.#view(meta)
  }

  // ---- reads and cancel -----------------------------------------------------------------------------------------

  async get (id: string): Promise<Batch> {
    return await this.#reachable('nothing was read', async () => await this.#view(await this.#meta(id)))
  }

  /**
   * The batches `owner` submitted, newest first, `status` filtering. A page looks at up to LIST_SCAN batches: a
   * filtered page may hold fewer than `limit` while `nextCursor` is not null. Entries expire with their batches.
   */
  async list (owner: string, q: { status?: BatchStatus, cursor?: string, limit?: number }): Promise<{ items: Batch[], nextCursor: string | null }> {
    return await this.#reachable('nothing was read', async () => await this.#list(owner, q))
  }

  async #list (owner: string, q: { status?: BatchStatus, cursor?: string, limit?: number }): Promise<{ items: Batch[], nextCursor: string | null }> {
    const limit = q.limit ?? 20
    let from: number
    if (q.cursor === undefined) {
      from = Number(await this.#store.get(keys.batchesOf(owner, 'seq')) ?? 0)
    } else {
      const m = /^n(\d{1,12})$/.exec(q.cursor)
      if (m === null) throw new GatewayError('GW_ERR_BAD_CURSOR', 'This cursor is not one GET /v1/batches gave; start again without one')
      from = Number(m[1])
    }
    const out: Batch[] = []
    let n = from
    for (let scanned = 0; n > 0 && scanned < LIST_SCAN;) {
      const positions = Array.from({ length: Math.min(LIST_CHUNK, n) }, (_, i) => n - i)
      const ids = await this.#store.mget(positions.map(p => keys.batchesOf(owner, String(p))))
      // a chunk with no live entry: everything older has expired too (entries expire in the order they were made)
      if (ids.every(id => id === null || id === undefined)) return { items: out, nextCursor: null }
      const metas = await mapLimit(ids, 8, async id => id === null || id === undefined ? null : await this.#store.get(keys.batch(id)))
      for (let i = 0; i < positions.length; i++, scanned++) {
        const raw = metas[i]
        if (raw === null || raw === undefined) continue
        if (out.length === limit) return { items: out, nextCursor: `n${positions[i] ?? 0}` }
        const view = await this.#view(JSON.parse(raw) as Meta)
        if (q.status === undefined || view.status === q.status) out.push(view)
      }
      n -= positions.length
    }
    return { items: out, nextCursor: n > 0 ? `n${n}` : null }
  }

  async items (id: string, q: { outcome?: BatchOutcome, cursor?: string, limit?: number }): Promise<{ items: BatchItem[], nextCursor: string | null }> {
    return await this.#reachable('nothing was read', async () => await this.#items(id, q))
  }

  async #items (id: string, q: { outcome?: BatchOutcome, cursor?: string, limit?: number }): Promise<{ items: BatchItem[], nextCursor: string | null }> {
    const meta = await this.#meta(id)
    const indexes = await this.#indexes(meta)
    let from = 0
    if (q.cursor !== undefined) {
      const m = /^i(\d{1,6})$/.exec(q.cursor)
      from = m === null ? -1 : indexes.indexOf(Number(m[1]))
      if (from < 0) throw new GatewayError('GW_ERR_BAD_CURSOR', 'This cursor does not belong to this batch; start again without one')
    }
    const limit = q.limit ?? 100
    const out: BatchItem[] = []
    let next: string | null = null
    for (let at = from; at < indexes.length && next === null; at += MGET_CHUNK) {
      const chunk = indexes.slice(at, at + MGET_CHUNK)
      const recs = await this.#store.mget(chunk.map(i => keys.batch(id, `item:${i}`)))
      for (let k = 0; k < recs.length; k++) {
        const raw = recs[k]
        if (raw === null || raw === undefined) continue
        const rec = JSON.parse(raw) as ItemRecord
        if (q.outcome !== undefined && rec.outcome !== q.outcome) continue
        if (out.length === limit) { next = `i${rec.index}`; break }
        out.push(publicItem(rec))
      }
    }
    return { items: out, nextCursor: next }
  }

  async cancel (id: string, log: Logger): Promise<Batch> {
    return await this.#reachable('nothing was cancelled', async () => await this.#cancel(id, log))
  }

  async #cancel (id: string, log: Logger): Promise<Batch> {
    const meta = await this.#meta(id)
    const view = await this.#view(meta)
    if (view.status === 'queued' || view.status === 'running') {
      const ttlMs = Math.max(1000, meta.expiresAt - this.#clock.now())
      await this.#store.set(keys.batch(id, 'cancel'), String(this.#clock.now()), { ttlMs, nx: true })
      log.info({ batchId: id, pending: view.counts.pending }, 'batch cancelled; pending items will not be sent')
    }
    return await this.#view(meta)
  }

  // ---- the item worker ------------------------------------------------------------------------------------------

  /** Works one item; null when it is final, else when to look again. Safe to run twice and on any replica. */
  async runItem (job: BatchJob): Promise<{ retryInMs: number } | null> {
    const { batchId, index } = job
    const rawMeta = await this.#store.get(keys.batch(batchId))
    if (rawMeta === null) return null // expired or never stored
    const meta = JSON.parse(rawMeta) as Meta
    const rec = await this.#item(batchId, index)
    if (rec === null) return null
    if (rec.outcome !== 'pending') {
      await this.#finished(meta)
      return null
    }
    const log = this.#log.child({ batchId, index })
    if (await this.#store.get(keys.batch(batchId, 'cancel')) !== null) {
      await this.#settle(meta, { ...rec, outcome: 'cancelled', updatedAt: this.#clock.now() })
      return null
    }
    const claimKey = keys.batch(batchId, `claim:${index}`)
    const token = randomBytes(12).toString('base64url')
    if (!await this.#store.set(claimKey, token, { ttlMs: this.#settings.claimMs, nx: true })) {
      return { retryInMs: CLAIM_HELD_RETRY_MS } // another worker has it (or a dead one, until its claim expires)
    }
    const sentKey = keys.batch(batchId, `sent:${index}`)
    const mayHaveBeenSent = await this.#store.get(sentKey) !== null
    let settled: ItemRecord
    let sentNow = false
    try {
      const result = await this.#writes.create(rec.body, [], {
        dryRun: false,
        ...(this.#shares[rec.provider] === undefined ? {} : { budget: this.#shares[rec.provider] }),
        adopt: mayHaveBeenSent,
        timeoutMs: Math.floor(this.#settings.claimMs / 2),
        beforeSubmit: async () => {
          await this.#store.set(sentKey, String(this.#clock.now()), { ttlMs: Math.max(1000, meta.expiresAt - this.#clock.now()) })
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
        await this.#putItem(meta, { ...rec, attempts, updatedAt: this.#clock.now() })
        await this.#store.delIfEquals(claimKey, token)
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
    await this.#store.delIfEquals(claimKey, token)
    return null
  }

  // ---- internals ------------------------------------------------------------------------------------------------

  /** Store failures on the request path are a 503 saying what did not happen; anything else keeps its own answer. */
  async #reachable<T> (what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (typeof err !== 'object' || err === null || !storeFailures.has(err)) throw err
      throw new GatewayError('GW_ERR_UNAVAILABLE', `The batch store is unreachable (${what}); retry shortly`, { retryAfter: 1, cause: err })
    }
  }

  async #settle (meta: Meta, rec: ItemRecord): Promise<void> {
    await this.#putItem(meta, rec)
    await this.#finished(meta)
  }

  /** After an item became final: when every item is, the batch completes (once, across replicas). */
  async #finished (meta: Meta): Promise<void> {
    const ttlMs = Math.max(1000, meta.expiresAt - this.#clock.now())
    const { value } = await this.#store.incr(keys.batch(meta.id, 'done'), ttlMs)
    if (value < meta.total - meta.folded) return
    // the counter is a hint (a retried job counts twice); the item records decide
    const view = await this.#view(meta)
    if (view.counts.pending > 0) return
    if (!await this.#store.set(keys.batch(meta.id, 'completed'), String(this.#clock.now()), { ttlMs, nx: true })) return
    const done = await this.#view(meta)
    this.#log.info({ batchId: meta.id, counts: done.counts, status: done.status }, 'batch completed')
    try {
      await this.onCompleted(done)
    } catch (err) {
      this.#log.error({ err, batchId: meta.id }, 'recording batch.completed failed')
    }
  }

  async #putItem (meta: Meta, rec: ItemRecord): Promise<void> {
    const ttlMs = Math.max(1000, meta.expiresAt - this.#clock.now())
    await this.#store.set(keys.batch(meta.id, `item:${rec.index}`), JSON.stringify(rec), { ttlMs })
  }

  async #item (batchId: string, index: number): Promise<ItemRecord | null> {
    const raw = await this.#store.get(keys.batch(batchId, `item:${index}`))
    return raw === null ? null : JSON.parse(raw) as ItemRecord
  }

  async #meta (id: string): Promise<Meta> {
    const raw = /^b_[\w-]{8,64}$/.test(id) ? await this.#store.get(keys.batch(id)) : null
    if (raw === null) {
      const made = epochOfBatch(id)
      if (made !== null && made !== this.#epoch() && this.#epoch() !== null) {
        throw new GatewayError('GW_ERR_STORE_LOST', `Batch ${id} was made before the gateway's store (Redis) lost its data, and its record went with it; ` +
          'some of its items may have been created at the vendor: check the case list before submitting them again')
      }
      throw new GatewayError('GW_ERR_NOT_FOUND', `No batch ${id} (batches are kept ${Math.round(this.#settings.retentionMs / 86_400_000)} days)`)
    }
    return JSON.parse(raw) as Meta
  }

  /** the indexes of the accepted items, in order (rejected ones have no record) */
  async #indexes (meta: Meta): Promise<number[]> {
    const rejected = new Set(meta.rejected.map(r => r.index))
    const out: number[] = []
    for (let i = 0; out.length < meta.total; i++) if (!rejected.has(i)) out.push(i)
    return out
  }

  async #view (meta: Meta): Promise<Batch> {
    const counts = { created: 0, duplicate: 0, failed: 0, cancelled: 0, pending: 0 }
    let lastUpdate = meta.createdAt
    const indexes = await this.#indexes(meta)
    const [cancelRaw] = await this.#store.mget([keys.batch(meta.id, 'cancel')])
    for (let at = 0; at < indexes.length; at += MGET_CHUNK) {
      const recs = await this.#store.mget(indexes.slice(at, at + MGET_CHUNK).map(i => keys.batch(meta.id, `item:${i}`)))
      for (const raw of recs) {
        // an item record that expired before its batch is counted as still pending
        const rec = raw === null || raw === undefined ? null : JSON.parse(raw) as ItemRecord
        counts[rec?.outcome ?? 'pending']++
        if (rec !== null && rec.updatedAt > lastUpdate) lastUpdate = rec.updatedAt
      }
    }
    const cancelled = cancelRaw !== null && cancelRaw !== undefined
    let status: BatchStatus
    if (cancelled) status = 'cancelled'
    else if (counts.pending === 0) status = 'completed'
    else status = counts.pending + counts.duplicate === meta.total && counts.duplicate === meta.folded ? 'queued' : 'running'
    const iso = (raw: string | null | undefined): string | null => raw === null || raw === undefined ? null : new Date(Number(raw)).toISOString()
    const self = `/v1/batches/${meta.id}`
    return {
      id: meta.id,
      status,
      total: meta.total,
      counts,
      rejected: meta.rejected,
      createdBy: meta.createdBy,
      createdAt: new Date(meta.createdAt).toISOString(),
      cancelledAt: iso(cancelRaw),
      // when the last item became final
      completedAt: counts.pending === 0 ? new Date(lastUpdate).toISOString() : null,
      expiresAt: new Date(meta.expiresAt).toISOString(),
      links: { self, items: `${self}/items` }
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

function merge (defaults: BatchDefaults | undefined, item: Record<string, unknown>): Record<string, unknown> {
  if (defaults === undefined) return { ...item }
  const out: Record<string, unknown> = { ...defaults, ...item }
  for (const k of ['brand', 'providerOptions', 'social'] as const) {
    const d = defaults[k]
    const own = item[k]
    if (d !== undefined && typeof own === 'object' && own !== null && !Array.isArray(own)) out[k] = { ...d, ...own }
  }
  return out
}

function publicItem (rec: ItemRecord): BatchItem {
  return {
    index: rec.index,
    row: rec.row,
    target: { type: rec.body.target.type, value: rec.body.target.value },
    provider: rec.provider,
    outcome: rec.outcome,
    caseId: rec.caseId,
    existing: rec.existing,
    duplicateOf: rec.duplicateOf,
    problem: rec.problem,
    updatedAt: new Date(rec.updatedAt).toISOString()
  }
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
