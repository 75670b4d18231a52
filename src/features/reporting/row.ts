/**
 * One case's milestones as a fixed-width binary row (ADR 0020). Analytics reads every row of the shards a query
 * covers, so a row is 64 bytes with no keys or text: 100,000 cases are 6.4 MB that decode in a few milliseconds,
 * the same bytes in Redis (one string per shard, rows written in place with SETRANGE) and in process memory.
 *
 * Times are epoch milliseconds as float64 (NaN = not reached). Precision is seconds as uint16: 0 for a vendor
 * timestamp, the poll interval for a change the gateway observed by polling, 65535 when unknown.
 */
import { createHash } from 'node:crypto'
import { TARGET_TYPES, type TargetType } from '../../schemas/common.js'
import { UNIFIED_STATUSES, type UnifiedStatus } from '../../schemas/unified-status.js'

export const ROW_BYTES = 64
export const PRECISION_UNKNOWN = 65535
const NONE = 255
/** RowView.firstTerminal of a case that never reached a terminal status */
export const NONE_REACHED = NONE

/** the milestones a row holds, in their slot order */
export const MILESTONES = ['inProgress', 'mitigated', 'takenDown', 'terminal'] as const
export type Milestone = (typeof MILESTONES)[number]

export interface MilestoneTime {
  at: number
  /** 'vendor': the vendor's own timestamp; 'observed': when the gateway saw the change */
  source: 'vendor' | 'observed'
  /** how exact `at` is, in seconds (null when unknown) */
  precisionSeconds: number | null
}

export interface MilestoneRow {
  createdAt: number
  status: UnifiedStatus
  targetType: TargetType
  /** the last event sequence applied (duplicates and replays at or below it are ignored) */
  sequence: number
  /** times the case went from a terminal status back to an open one */
  reopened: number
  /** which terminal status the case reached first, null while it never reached one */
  firstTerminal: UnifiedStatus | null
  milestones: Partial<Record<Milestone, MilestoneTime>>
  /** the id of the target's public suffix (`tldId`, named in the store's dictionary); 0 when the target has none */
  tld?: number
}

/**
 * The 48-bit id a public suffix is stored as in a row (6 of the row's spare bytes): the first bytes of its SHA-1,
 * never 0 (0 is "no suffix", as rows written before the column have). The store's dictionary names it back.
 */
export function tldId (suffix: string): number {
  return createHash('sha1').update(suffix).digest().readUIntLE(0, 6) || 1
}

const OFF = { createdAt: 0, times: 8, sequence: 40, precision: 44, status: 52, firstTerminal: 53, targetType: 54, reopened: 55, vendorFlags: 56, tld: 57 } as const

export function encodeRow (r: MilestoneRow): Buffer {
  const b = Buffer.alloc(ROW_BYTES)
  b.writeDoubleLE(r.createdAt, OFF.createdAt)
  let flags = 0
  MILESTONES.forEach((m, i) => {
    const t = r.milestones[m]
    b.writeDoubleLE(t?.at ?? Number.NaN, OFF.times + i * 8)
    const p = t?.precisionSeconds
    b.writeUInt16LE(p === null || p === undefined ? PRECISION_UNKNOWN : Math.min(PRECISION_UNKNOWN - 1, Math.max(0, Math.round(p))), OFF.precision + i * 2)
    if (t?.source === 'vendor') flags |= 1 << i
  })
  b.writeUInt32LE(Math.min(r.sequence, 0xffffffff), OFF.sequence)
  b[OFF.status] = UNIFIED_STATUSES.indexOf(r.status)
  b[OFF.firstTerminal] = r.firstTerminal === null ? NONE : UNIFIED_STATUSES.indexOf(r.firstTerminal)
  b[OFF.targetType] = TARGET_TYPES.indexOf(r.targetType)
  b[OFF.reopened] = Math.min(r.reopened, 254)
  b[OFF.vendorFlags] = flags
  b.writeUIntLE(r.tld ?? 0, OFF.tld, 6)
  return b
}

export function decodeRow (b: Buffer, at = 0): MilestoneRow {
  const milestones: MilestoneRow['milestones'] = {}
  const flags = b[at + OFF.vendorFlags] ?? 0
  MILESTONES.forEach((m, i) => {
    const time = b.readDoubleLE(at + OFF.times + i * 8)
    if (Number.isNaN(time)) return
    const p = b.readUInt16LE(at + OFF.precision + i * 2)
    milestones[m] = { at: time, source: (flags & (1 << i)) !== 0 ? 'vendor' : 'observed', precisionSeconds: p === PRECISION_UNKNOWN ? null : p }
  })
  const firstTerminal = b[at + OFF.firstTerminal] ?? NONE
  return {
    createdAt: b.readDoubleLE(at + OFF.createdAt),
    status: UNIFIED_STATUSES[b[at + OFF.status] ?? 0] ?? 'unknown',
    targetType: TARGET_TYPES[b[at + OFF.targetType] ?? 0] ?? 'url',
    sequence: b.readUInt32LE(at + OFF.sequence),
    reopened: b[at + OFF.reopened] ?? 0,
    firstTerminal: firstTerminal === NONE ? null : UNIFIED_STATUSES[firstTerminal] ?? null,
    milestones,
    tld: b.readUIntLE(at + OFF.tld, 6)
  }
}

/**
 * The rows of a shard as typed arrays, for the hot loop of a query over 100k rows: no object and no bounds-checked
 * Buffer read per field. Typed arrays read the platform's byte order; the rows are little-endian, as every platform
 * Node ships for in practice (x64, arm64) is; a big-endian host is refused rather than misread.
 */
export class RowView {
  readonly length: number
  readonly #f64: Float64Array
  readonly #u16: Uint16Array
  readonly #u8: Uint8Array

  constructor (rows: Buffer) {
    if (!LITTLE_ENDIAN) throw new Error('milestone rows are little-endian; this host is not')
    // a typed array needs its start aligned to 8 bytes: a Buffer from a pool or a socket may not be
    const aligned = rows.byteOffset % 8 === 0 ? rows : Buffer.from(rows)
    this.length = Math.floor(aligned.length / ROW_BYTES)
    this.#f64 = new Float64Array(aligned.buffer, aligned.byteOffset, this.length * (ROW_BYTES / 8))
    this.#u16 = new Uint16Array(aligned.buffer, aligned.byteOffset, this.length * (ROW_BYTES / 2))
    this.#u8 = new Uint8Array(aligned.buffer, aligned.byteOffset, this.length * ROW_BYTES)
  }

  createdAt (r: number): number { return this.#f64[r * 8]! }
  /** the time of MILESTONES[m], NaN when not reached */
  time (r: number, m: number): number { return this.#f64[r * 8 + 1 + m]! }
  precision (r: number, m: number): number { return this.#u16[r * 32 + OFF.precision / 2 + m]! }
  vendor (r: number, m: number): boolean { return (this.#u8[r * ROW_BYTES + OFF.vendorFlags]! & (1 << m)) !== 0 }
  /** index in UNIFIED_STATUSES */
  status (r: number): number { return this.#u8[r * ROW_BYTES + OFF.status]! }
  /** index in TARGET_TYPES */
  targetType (r: number): number { return this.#u8[r * ROW_BYTES + OFF.targetType]! }
  reopened (r: number): number { return this.#u8[r * ROW_BYTES + OFF.reopened]! }
  /** index in UNIFIED_STATUSES of the first terminal status the case reached, NONE_REACHED while none */
  firstTerminal (r: number): number { return this.#u8[r * ROW_BYTES + OFF.firstTerminal]! }
  /** the public suffix's id (tldId), 0 for none */
  tld (r: number): number {
    const u = this.#u8
    const at = r * ROW_BYTES + OFF.tld
    return (u[at]! | (u[at + 1]! << 8) | (u[at + 2]! << 16)) + (u[at + 3]! | (u[at + 4]! << 8) | (u[at + 5]! << 16)) * 0x1000000
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Shards are per provider and creation month (UTC), so a query reads only the months and providers it covers. */
export function shardOf (provider: string, createdAtMs: number): string {
  return `${provider}:${monthOf(createdAtMs)}`
}

export function monthOf (ms: number): string {
  return new Date(ms).toISOString().slice(0, 7)
}
