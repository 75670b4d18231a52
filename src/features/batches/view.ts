/** Reading batches: one batch, the caller's batches newest first, a batch's items page by page, and cancel. */
import type { Clock } from '../../clock.js'
import { mapLimit } from '../../connectors/map-limit.js'
import { GatewayError } from '../../domain/problems.js'
import type { Logger } from '../../logger.js'
import type { Batch, BatchItem, BatchOutcome, BatchStatus } from '../../schemas/batch.js'
import { keys } from '../../store/keys.js'
import { MGET_CHUNK, type BatchRecords, type ItemRecord, type Meta } from './records.js'

/** batches one list page looks at, in index reads of LIST_CHUNK */
const LIST_SCAN = 500
const LIST_CHUNK = 50

export class BatchViews {
  readonly #records: BatchRecords
  readonly #clock: Clock

  constructor (records: BatchRecords, clock: Clock) {
    this.#records = records
    this.#clock = clock
  }

  async get (id: string): Promise<Batch> {
    return await this.#records.reachable('nothing was read', async () => await this.#records.view(await this.#records.meta(id)))
  }

  /**
   * The batches `owner` submitted, newest first, `status` filtering. A page looks at up to LIST_SCAN batches: a
   * filtered page may hold fewer than `limit` while `nextCursor` is not null. Entries expire with their batches.
   */
  async list (owner: string, q: { status?: BatchStatus, cursor?: string, limit?: number }): Promise<{ items: Batch[], nextCursor: string | null }> {
    return await this.#records.reachable('nothing was read', async () => await this.#list(owner, q))
  }

  async #list (owner: string, q: { status?: BatchStatus, cursor?: string, limit?: number }): Promise<{ items: Batch[], nextCursor: string | null }> {
    const limit = q.limit ?? 20
    let from: number
    if (q.cursor === undefined) {
      from = Number(await this.#records.store.get(keys.batchesOf(owner, 'seq')) ?? 0)
    } else {
      const m = /^n(\d{1,12})$/.exec(q.cursor)
      if (m === null) throw new GatewayError('GW_ERR_BAD_CURSOR', 'This cursor is not one GET /v1/batches gave; start again without one')
      from = Number(m[1])
    }
    const out: Batch[] = []
    let n = from
    for (let scanned = 0; n > 0 && scanned < LIST_SCAN;) {
      const positions = Array.from({ length: Math.min(LIST_CHUNK, n) }, (_, i) => n - i)
      const ids = await this.#records.store.mget(positions.map(p => keys.batchesOf(owner, String(p))))
      // a chunk with no live entry: everything older has expired too (entries expire in the order they were made)
      if (ids.every(id => id === null || id === undefined)) return { items: out, nextCursor: null }
      const metas = await mapLimit(ids, 8, async id => id === null || id === undefined ? null : await this.#records.store.get(keys.batch(id)))
      for (let i = 0; i < positions.length; i++, scanned++) {
        const raw = metas[i]
        if (raw === null || raw === undefined) continue
        if (out.length === limit) return { items: out, nextCursor: `n${positions[i] ?? 0}` }
        const view = await this.#records.view(JSON.parse(raw) as Meta)
        if (q.status === undefined || view.status === q.status) out.push(view)
      }
      n -= positions.length
    }
    return { items: out, nextCursor: n > 0 ? `n${n}` : null }
  }

  async items (id: string, q: { outcome?: BatchOutcome, cursor?: string, limit?: number }): Promise<{ items: BatchItem[], nextCursor: string | null }> {
    return await this.#records.reachable('nothing was read', async () => await this.#items(id, q))
  }

  async #items (id: string, q: { outcome?: BatchOutcome, cursor?: string, limit?: number }): Promise<{ items: BatchItem[], nextCursor: string | null }> {
    const meta = await this.#records.meta(id)
    const indexes = await this.#records.indexes(meta)
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
      const recs = await this.#records.store.mget(chunk.map(i => keys.batch(id, `item:${i}`)))
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
    return await this.#records.reachable('nothing was cancelled', async () => await this.#cancel(id, log))
  }

  async #cancel (id: string, log: Logger): Promise<Batch> {
    const meta = await this.#records.meta(id)
    const view = await this.#records.view(meta)
    if (view.status === 'queued' || view.status === 'running') {
      const ttlMs = Math.max(1000, meta.expiresAt - this.#clock.now())
      await this.#records.store.set(keys.batch(id, 'cancel'), String(this.#clock.now()), { ttlMs, nx: true })
      log.info({ batchId: id, pending: view.counts.pending }, 'batch cancelled; pending items will not be sent')
    }
    return await this.#records.view(meta)
  }
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
