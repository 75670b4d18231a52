/**
 * The milestone store port (ADR 0020): rows of ROW_BYTES in shards named `<provider>:<YYYY-MM>`. Writes are
 * compare-and-set on the whole row so two replicas recording the same case never lose a milestone; reads hand out
 * every row of a shard as one buffer. Two adapters: Redis (redis-store.ts, shared by replicas) and memory (here).
 */
import { ROW_BYTES } from './row.js'

export interface MilestoneStore {
  /** the current row of a case, or null when the case has none yet */
  read (shard: string, caseId: string): Promise<Buffer | null>
  /** writes `row` when the stored row still equals `expected` (null: none stored yet); false when another writer won */
  write (shard: string, caseId: string, expected: Buffer | null, row: Buffer): Promise<boolean>
  /** every shard name held */
  shards (): Promise<string[]>
  /** per named shard (same order), its rows concatenated (ROW_BYTES each, in no particular order; empty when unknown) */
  rows (shards: readonly string[]): Promise<Buffer[]>
  /** names a public suffix id of the rows (row.ts tldId): the dictionary the report reads the suffixes back from */
  nameTld (id: number, suffix: string): Promise<void>
  /** every named public suffix id */
  tlds (): Promise<Map<number, string>>
  /** per named shard (same order), the case id of each row, in the rows' order */
  caseIds (shards: readonly string[]): Promise<string[][]>
}

interface Shard { slots: Map<string, number>, buf: Buffer, n: number }

export class MemoryMilestoneStore implements MilestoneStore {
  readonly #shards = new Map<string, Shard>()
  readonly #tlds = new Map<number, string>()

  async nameTld (id: number, suffix: string): Promise<void> { this.#tlds.set(id, suffix) }
  async tlds (): Promise<Map<number, string>> { return new Map(this.#tlds) }

  async read (shard: string, caseId: string): Promise<Buffer | null> {
    const s = this.#shards.get(shard)
    const slot = s?.slots.get(caseId)
    if (s === undefined || slot === undefined) return null
    return Buffer.from(s.buf.subarray(slot * ROW_BYTES, (slot + 1) * ROW_BYTES))
  }

  async write (shard: string, caseId: string, expected: Buffer | null, row: Buffer): Promise<boolean> {
    let s = this.#shards.get(shard)
    if (s === undefined) {
      s = { slots: new Map(), buf: Buffer.alloc(ROW_BYTES * 64), n: 0 }
      this.#shards.set(shard, s)
    }
    let slot = s.slots.get(caseId)
    if (slot === undefined) {
      if (expected !== null) return false
      slot = s.n++
      s.slots.set(caseId, slot)
      if (s.n * ROW_BYTES > s.buf.length) {
        const grown = Buffer.alloc(s.buf.length * 2)
        s.buf.copy(grown)
        s.buf = grown
      }
    } else if (expected === null || !s.buf.subarray(slot * ROW_BYTES, (slot + 1) * ROW_BYTES).equals(expected)) {
      return false
    }
    row.copy(s.buf, slot * ROW_BYTES)
    return true
  }

  async shards (): Promise<string[]> { return [...this.#shards.keys()] }

  async caseIds (shards: readonly string[]): Promise<string[][]> {
    return shards.map(name => {
      const ids: string[] = []
      for (const [id, slot] of this.#shards.get(name)?.slots ?? []) ids[slot] = id
      return ids
    })
  }

  async rows (shards: readonly string[]): Promise<Buffer[]> {
    return shards.map(name => {
      const s = this.#shards.get(name)
      return s === undefined ? Buffer.alloc(0) : s.buf.subarray(0, s.n * ROW_BYTES)
    })
  }
}
