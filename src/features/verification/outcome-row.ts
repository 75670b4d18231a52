/**
 * One case's verified outcome as a fixed-width binary row (ADR 0045), beside the milestone row of reporting (ADR 0020)
 * and in the same shard scheme (`<provider>:<YYYY-MM>` of the creation month): analytics reads every row of the shards
 * a query covers, so a row is 32 bytes with no keys or text.
 *
 * The row is a pure function of the verification record (the record keeps the facts that only grow: the first
 * verifiedDownAt, the first vendor claim, the first dispute, the re-emergences during monitoring), so the store writes
 * it in the same compare-and-set as the record and a retried or replayed write rewrites the same bytes.
 *
 *   0  reportedAt           float64, epoch ms
 *   8  firstDownAt          float64, NaN = never seen down
 *  16  firstVerifiedDownAt  float64, NaN = never verified
 *  24  target type          uint8, index in TARGET_TYPES
 *  25  flags                uint8: 1 the vendor claimed a takedown, 2 disputed, 4 stayed_down
 *  26  monitor re-emergences uint8 (capped at 255)
 *  27  re-emergences        uint8 (capped at 255)
 *  28  reserved             4 bytes, zero
 */
import { TARGET_TYPES } from '../../schemas/common.js'
import type { Verification } from './lifecycle.js'

export const OUTCOME_ROW_BYTES = 32

export const CLAIMED = 1
export const DISPUTED = 2
export const STAYED_DOWN = 4

/** the shard of a case: provider and UTC creation month (null for a record without a readable creation time) */
export function outcomeShard (v: Pick<Verification, 'provider' | 'reportedAt'>): string | null {
  if (!Number.isFinite(v.reportedAt)) return null
  return `${v.provider}:${new Date(v.reportedAt).toISOString().slice(0, 7)}`
}

export function encodeOutcome (v: Verification): Buffer {
  const b = Buffer.alloc(OUTCOME_ROW_BYTES)
  b.writeDoubleLE(v.reportedAt, 0)
  b.writeDoubleLE(v.firstDownAt ?? Number.NaN, 8)
  b.writeDoubleLE(v.firstVerifiedDownAt ?? v.verifiedDownAt ?? Number.NaN, 16)
  b[24] = Math.max(0, TARGET_TYPES.indexOf(v.target.type))
  const claimed = (v.vendorClaimedAt ?? v.vendorDownAt ?? null) !== null
  const disputed = (v.disputedAt ?? null) !== null || v.disputed
  b[25] = (claimed ? CLAIMED : 0) | (disputed ? DISPUTED : 0) | (v.state === 'stayed_down' ? STAYED_DOWN : 0)
  b[26] = Math.min(255, v.monitorReappearances ?? 0)
  b[27] = Math.min(255, v.reappearances)
  return b
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** The rows of a shard as typed arrays, for the hot loop (the milestone rows' RowView, for this layout). */
export class OutcomeView {
  readonly length: number
  readonly #f64: Float64Array
  readonly #u8: Uint8Array

  constructor (rows: Buffer) {
    if (!LITTLE_ENDIAN) throw new Error('outcome rows are little-endian; this host is not')
    const aligned = rows.byteOffset % 8 === 0 ? rows : Buffer.from(rows)
    this.length = Math.floor(aligned.length / OUTCOME_ROW_BYTES)
    this.#f64 = new Float64Array(aligned.buffer, aligned.byteOffset, this.length * (OUTCOME_ROW_BYTES / 8))
    this.#u8 = new Uint8Array(aligned.buffer, aligned.byteOffset, this.length * OUTCOME_ROW_BYTES)
  }

  reportedAt (r: number): number { return this.#f64[r * 4]! }
  firstDownAt (r: number): number { return this.#f64[r * 4 + 1]! }
  verifiedDownAt (r: number): number { return this.#f64[r * 4 + 2]! }
  targetType (r: number): number { return this.#u8[r * OUTCOME_ROW_BYTES + 24]! }
  flags (r: number): number { return this.#u8[r * OUTCOME_ROW_BYTES + 25]! }
  monitorReappearances (r: number): number { return this.#u8[r * OUTCOME_ROW_BYTES + 26]! }
  reappearances (r: number): number { return this.#u8[r * OUTCOME_ROW_BYTES + 27]! }
}
