/**
 * Fixed-width rows in process memory, one growing buffer per shard with a slot per case id: the in-process twin of
 * the Redis layout the analytics stores use (a hash of case id → slot beside a string of rows, written with SETRANGE).
 */
interface Shard { slots: Map<string, number>, buf: Buffer, n: number }

export class SlottedRows {
  readonly #shards = new Map<string, Shard>()

  constructor (readonly rowBytes: number) {}

  /** a copy of the case's row, null when the shard has none */
  get (shard: string, caseId: string): Buffer | null {
    const s = this.#shards.get(shard)
    const slot = s?.slots.get(caseId)
    if (s === undefined || slot === undefined) return null
    return Buffer.from(s.buf.subarray(slot * this.rowBytes, (slot + 1) * this.rowBytes))
  }

  has (shard: string, caseId: string): boolean { return this.#shards.get(shard)?.slots.has(caseId) ?? false }

  /**
   * Writes the case's row. With `expected` given it is a compare-and-set: null means "no row yet", a buffer the row
   * it must still hold; a mismatch writes nothing and answers false.
   */
  put (shard: string, caseId: string, row: Buffer, expected?: Buffer | null): boolean {
    let s = this.#shards.get(shard)
    if (s === undefined) {
      s = { slots: new Map(), buf: Buffer.alloc(this.rowBytes * 64), n: 0 }
      this.#shards.set(shard, s)
    }
    const width = this.rowBytes
    let slot = s.slots.get(caseId)
    if (slot === undefined) {
      if (expected != null) return false
      slot = s.n++
      s.slots.set(caseId, slot)
      if (s.n * width > s.buf.length) {
        const grown = Buffer.alloc(s.buf.length * 2)
        s.buf.copy(grown)
        s.buf = grown
      }
    } else if (expected !== undefined && (expected === null || !s.buf.subarray(slot * width, (slot + 1) * width).equals(expected))) {
      return false
    }
    row.copy(s.buf, slot * width)
    return true
  }

  shards (): string[] { return [...this.#shards.keys()] }

  /** the shard's case ids in their rows' order */
  caseIds (shard: string): string[] {
    const ids: string[] = []
    for (const [id, slot] of this.#shards.get(shard)?.slots ?? []) ids[slot] = id
    return ids
  }

  /** the shard's rows concatenated, a view of the live buffer (empty when unknown) */
  rows (shard: string): Buffer {
    const s = this.#shards.get(shard)
    return s === undefined ? Buffer.alloc(0) : s.buf.subarray(0, s.n * this.rowBytes)
  }
}
