/**
 * One case's milestones as a fixed-width binary row (ADR 0020). Analytics reads every row of the shards a query
 * covers, so a row is 64 bytes with no keys or text: 100,000 cases are 6.4 MB that decode in a few milliseconds,
 * the same bytes in Redis (one string per shard, rows written in place with SETRANGE) and in process memory.
 *
 * Times are epoch milliseconds as float64 (NaN = not reached). Precision is seconds as uint16: 0 for a vendor
 * timestamp, the poll interval for a change the gateway observed by polling, 65535 when unknown.
 */
import { TARGET_TYPES, type TargetType } from '../schemas/common.js'
import { UNIFIED_STATUSES, type UnifiedStatus } from '../schemas/unified-status.js'

export const ROW_BYTES = 64
export const PRECISION_UNKNOWN = 65535
const NONE = 255

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
}

const OFF = { createdAt: 0, times: 8, sequence: 40, precision: 44, status: 52, firstTerminal: 53, targetType: 54, reopened: 55, vendorFlags: 56 } as const

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
    milestones
  }
}

/**
 * The few fields a report reads, straight from the bytes (no object per row): the hot loop of a query over 100k rows.
 * Indexes are those of UNIFIED_STATUSES and TARGET_TYPES.
 */
export const rowFields = {
  createdAt: (b: Buffer, at: number): number => b.readDoubleLE(at + OFF.createdAt),
  time: (b: Buffer, at: number, m: number): number => b.readDoubleLE(at + OFF.times + m * 8),
  precision: (b: Buffer, at: number, m: number): number => b.readUInt16LE(at + OFF.precision + m * 2),
  vendor: (b: Buffer, at: number, m: number): boolean => ((b[at + OFF.vendorFlags] ?? 0) & (1 << m)) !== 0,
  status: (b: Buffer, at: number): number => b[at + OFF.status] ?? 0,
  targetType: (b: Buffer, at: number): number => b[at + OFF.targetType] ?? 0,
  reopened: (b: Buffer, at: number): number => b[at + OFF.reopened] ?? 0
}

/** Shards are per provider and creation month (UTC), so a query reads only the months and providers it covers. */
export function shardOf (provider: string, createdAtMs: number): string {
  return `${provider}:${monthOf(createdAtMs)}`
}

export function monthOf (ms: number): string {
  return new Date(ms).toISOString().slice(0, 7)
}
