/**
 * The milestone store port (ADR 0020): rows of ROW_BYTES in shards named `<provider>:<YYYY-MM>`. Writes are
 * compare-and-set on the whole row so two replicas recording the same case never lose a milestone; reads hand out
 * every row of a shard as one buffer. Two adapters: Redis (redis-store.ts, shared by replicas) and memory (here).
 */
import { SlottedRows } from '../../store/slotted-rows.js'
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

export class MemoryMilestoneStore implements MilestoneStore {
  readonly #rows = new SlottedRows(ROW_BYTES)
  readonly #tlds = new Map<number, string>()

  async nameTld (id: number, suffix: string): Promise<void> { this.#tlds.set(id, suffix) }
  async tlds (): Promise<Map<number, string>> { return new Map(this.#tlds) }

  async read (shard: string, caseId: string): Promise<Buffer | null> { return this.#rows.get(shard, caseId) }

  async write (shard: string, caseId: string, expected: Buffer | null, row: Buffer): Promise<boolean> {
    return this.#rows.put(shard, caseId, row, expected)
  }

  async shards (): Promise<string[]> { return this.#rows.shards() }

  async caseIds (shards: readonly string[]): Promise<string[][]> { return shards.map(name => this.#rows.caseIds(name)) }

  async rows (shards: readonly string[]): Promise<Buffer[]> { return shards.map(name => this.#rows.rows(name)) }
}
