/**
 * A batch as it is stored: its record (written last, so a batch that can be read has all its items) and one record
 * per item, the truth that counts and the batch status are read from. Submit, run and view (submit.ts, run.ts,
 * view.ts) share it.
 */
import type { Clock } from '../../clock.js'
import { GatewayError } from '../../domain/problems.js'
import type { Batch, BatchOutcome, BatchSettings, BatchStatus } from '../../schemas/batch.js'
import type { CreateCaseBody } from '../../schemas/create.js'
import type { Problem } from '../../schemas/problem.js'
import type { ProviderId } from '../../schemas/provider.js'
import type { KvStore } from '../../store/kv-store.js'
import { keys } from '../../store/keys.js'

/** the epoch a batch id was made in, null for an id without one */
export function epochOfBatch (id: string): string | null {
  const m = /^b_([a-z0-9]{1,12}-[0-9a-f]{6})_[\w-]{22}$/.exec(id)
  return m?.[1] ?? null
}

export interface Meta {
  id: string
  createdBy: string
  createdAt: number
  expiresAt: number
  total: number
  /** items folded into an earlier one: final from the start */
  folded: number
  rejected: Batch['rejected']
}

export interface ItemRecord {
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

export const MGET_CHUNK = 500

/** the store calls batches make */
export type BatchStore = Pick<KvStore, 'get' | 'mget' | 'set' | 'incr' | 'delIfEquals'>

/** errors the store (or the job queue on it) raised: the only ones reported as "the batch store is unreachable" */
const storeFailures = new WeakSet<object>()
export function storeFailure (err: unknown): never {
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

export class BatchRecords {
  readonly store: BatchStore

  constructor (store: KvStore, private readonly clock: Clock, private readonly settings: BatchSettings, private readonly epoch: () => string | null) {
    this.store = marking(store)
  }

  /** Store failures on the request path are a 503 saying what did not happen; anything else keeps its own answer. */
  async reachable<T> (what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (typeof err !== 'object' || err === null || !storeFailures.has(err)) throw err
      throw new GatewayError('GW_ERR_UNAVAILABLE', `The batch store is unreachable (${what}); retry shortly`, { retryAfter: 1, cause: err })
    }
  }

  async putItem (meta: Meta, rec: ItemRecord): Promise<void> {
    const ttlMs = Math.max(1000, meta.expiresAt - this.clock.now())
    await this.store.set(keys.batch(meta.id, `item:${rec.index}`), JSON.stringify(rec), { ttlMs })
  }

  async item (batchId: string, index: number): Promise<ItemRecord | null> {
    const raw = await this.store.get(keys.batch(batchId, `item:${index}`))
    return raw === null ? null : JSON.parse(raw) as ItemRecord
  }

  async meta (id: string): Promise<Meta> {
    const raw = /^b_[\w-]{8,64}$/.test(id) ? await this.store.get(keys.batch(id)) : null
    if (raw === null) {
      const made = epochOfBatch(id)
      if (made !== null && made !== this.epoch() && this.epoch() !== null) {
        throw new GatewayError('GW_ERR_STORE_LOST', `Batch ${id} was made before the gateway's store (Redis) lost its data, and its record went with it; ` +
          'some of its items may have been created at the vendor: check the case list before submitting them again')
      }
      throw new GatewayError('GW_ERR_NOT_FOUND', `No batch ${id} (batches are kept ${Math.round(this.settings.retentionMs / 86_400_000)} days)`)
    }
    return JSON.parse(raw) as Meta
  }

  /** the indexes of the accepted items, in order (rejected ones have no record) */
  async indexes (meta: Meta): Promise<number[]> {
    const rejected = new Set(meta.rejected.map(r => r.index))
    const out: number[] = []
    for (let i = 0; out.length < meta.total; i++) if (!rejected.has(i)) out.push(i)
    return out
  }

  async view (meta: Meta): Promise<Batch> {
    const counts = { created: 0, duplicate: 0, failed: 0, cancelled: 0, pending: 0 }
    let lastUpdate = meta.createdAt
    const indexes = await this.indexes(meta)
    const [cancelRaw] = await this.store.mget([keys.batch(meta.id, 'cancel')])
    for (let at = 0; at < indexes.length; at += MGET_CHUNK) {
      const recs = await this.store.mget(indexes.slice(at, at + MGET_CHUNK).map(i => keys.batch(meta.id, `item:${i}`)))
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
