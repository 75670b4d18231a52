/**
 * THE event-log port: per-case snapshots, one atomic compare-and-record step, a global log ordered by event id and a
 * per-case timeline kept longer. Two adapters with the same behaviour: Redis Streams (shared by replicas) and memory.
 */
import { fingerprinter } from '../domain/fingerprint.js'
import type { ProviderModule } from '../connectors/provider-module.js'
import { PROVIDERS } from '../providers/registry.js'
import type { Case } from '../schemas/case.js'
import { SLA_EVENT_TYPES, TARGET_EVENT_TYPES, type AppendInput, type CaseEvent, type CaseEventType, type Event, type EventType, type GatewayEvent, type ObservedVia, type TargetEventData, type TimelineEvent } from '../schemas/event.js'
import type { UnifiedStatus } from '../schemas/unified-status.js'

/** A case's fingerprint (domain/fingerprint.ts), with the providers whose module says their `updatedAt` is not the same in list and detail. */
export const caseFingerprint = fingerprinter(new Set(PROVIDERS.filter((m: ProviderModule) => m.updatedAtStable === false).map(m => m.id)))

export interface ObserveInput {
  case: Case
  via: ObservedVia
  /** a case the store has never seen is recorded without an event (a provider's first look, a read of an old case) */
  silentIfNew: boolean
  /**
   * epoch ms the gateway could no longer record since (its store was down), null when it could: a status change of a
   * case last recorded before then is flagged `gap` (steps in between may be missing)
   */
  gapSince?: number | null
}

export interface EventFilter {
  types?: ReadonlySet<EventType>
  providers?: ReadonlySet<string>
  caseId?: string
  terminal?: boolean
}

export interface EventRead<E extends Event = Event> {
  items: E[]
  /** the id of the last entry looked at (whether the filter kept it or not); the `after` given when none */
  next: string | null
}

export interface Checkpoint {
  /** epoch ms of the last sync that read the whole window and recorded everything it saw */
  lastSyncAt: number
  /** the first full sync has run: new cases from now on are `case.created` */
  baselined: boolean
  /** vendor calls of that sync: list pages, single reads and the look-ups a listing makes */
  calls?: number
  /** cases open at the vendor as that sync saw them */
  openCases?: number
  /** the cadence (ms) that keeps the sync within the watcher's budget share: the configured one, or stretched */
  intervalMs?: number
}

export interface RetentionOptions {
  /** the global log keeps this long */
  retentionMs: number
  /** a case's timeline (and the snapshot of a terminal case) keeps this long after its last change */
  timelineRetentionMs: number
}

export interface EventStore {
  readonly kind: 'redis' | 'memory'
  /** compare with the snapshot and, atomically, record the change: the event, or null when nothing changed */
  observe: (input: ObserveInput) => Promise<CaseEvent | null>
  /**
   * records an event that is not a case change, without the compare step; null when `key` was recorded already. A
   * target event goes into its case's timeline too.
   */
  append: (input: AppendInput) => Promise<GatewayEvent | null>
  /** events after `after` (exclusive; null = from the oldest kept), oldest first; scans at most `scanLimit` entries */
  read: (after: string | null, limit: number, filter: EventFilter, scanLimit?: number) => Promise<EventRead>
  /** the id of the oldest event the log still holds, null when it is empty */
  oldestId: () => Promise<string | null>
  /** the id of the newest event of the log (of the case's timeline with `caseId`), null when it is empty */
  newestId: (caseId?: string) => Promise<string | null>
  /** one case's events and the target events about it, oldest first */
  timeline: (caseId: string, after: string | null, limit: number) => Promise<EventRead<TimelineEvent>>
  /**
   * Every event recorded by any replica after some moment between the call and its resolution, once each, in id
   * order (one shared reader per process). Resolves to the unsubscribe function once that moment is fixed: a read of
   * the log started after it overlaps the subscription, so replay + subscription leave no gap.
   */
  subscribe: (listener: (event: Event) => void) => Promise<() => void>
  /** ids of open cases created before `beforeMs`, oldest first, from the `offset`-th */
  openCasesCreatedBefore: (beforeMs: number, offset: number, limit: number) => Promise<string[]>
  getCheckpoint: (provider: string) => Promise<Checkpoint | null>
  setCheckpoint: (provider: string, checkpoint: Checkpoint) => Promise<void>
  /** snapshots held, per provider */
  snapshotCounts: () => Promise<Record<string, number>>
  /** the epoch kept in the store (null: none, the store is new or lost its data) */
  readEpoch: () => Promise<string | null>
  /**
   * Keeps `epoch` in the store; the events recorded from now on carry it. On Redis the observe step refuses to record
   * while the stored epoch is another (or gone): no event of a store that lost its data goes out under the old epoch.
   */
  writeEpoch: (epoch: string) => Promise<void>
  /** resolves when the store can take commands, or false after `ms` */
  waitReady?: (ms?: number) => Promise<boolean>
  /** null when the store takes commands, else why not */
  health: () => Promise<string | null>
  /** bounded (a dead or frozen Redis never holds it): `abandoned` is told what it gave up on */
  close: (abandoned?: (what: string) => void) => Promise<void>
}

/** What one snapshot holds (the memory adapter's record; the Redis hash has the same fields). */
export interface Snapshot {
  /** epoch ms of the last change recorded (gap detection) */
  at?: number
  fp: string
  seq: number
  status: UnifiedStatus
  providerStatus: string | null
  terminal: boolean
  updatedAt: string | null
}

/**
 * The compare step as a pure function (the Redis adapter runs the same rules in Lua): null = unchanged, 'silent' =
 * first sight recorded without an event, else the event's type, sequence and vendor time.
 * - A read that lacks the vendor status the snapshot has (a view without it, a status list not readable) says
 *   nothing about the case: unchanged, the snapshot stays.
 * - `case.status_changed` when the unified status changed; a vendor status of its own (the same unified status) is
 *   `case.updated`, like a history step.
 */
export function decide (prev: Snapshot | undefined, next: Case, fp: string, silentIfNew: boolean):
null | 'silent' | { type: CaseEventType, sequence: number, occurredAt: string | null } {
  if (prev?.fp === fp) return null
  if (prev === undefined) return silentIfNew ? 'silent' : { type: 'case.created', sequence: 1, occurredAt: next.createdAt }
  if (next.providerStatus === null && prev.providerStatus !== null) return null
  const type: CaseEventType = prev.terminal && !next.terminal
    ? 'case.reopened'
    : prev.status !== next.status ? 'case.status_changed' : 'case.updated'
  const occurredAt = next.updatedAt !== null && next.updatedAt !== prev.updatedAt ? next.updatedAt : null
  return { type, sequence: prev.seq + 1, occurredAt }
}

/** the gap rule (the Redis script runs the same): a status change of a case last recorded before the store went down */
export function isGap (prev: Snapshot, type: CaseEventType, gapSince: number | null | undefined): boolean {
  return gapSince !== null && gapSince !== undefined && type !== 'case.updated' && (prev.at ?? 0) < gapSince
}

export function snapshotOf (c: Case, seq: number, at: number): Snapshot {
  return { at, fp: caseFingerprint(c), seq, status: c.status, providerStatus: c.providerStatus, terminal: c.terminal, updatedAt: c.updatedAt }
}

export function matchesFilter (e: Event, f: EventFilter): boolean {
  if (f.types !== undefined && !f.types.has(e.type)) return false
  // a target event is matched on its case's id and provider; the other case filters keep case events only
  if (e.case === null) {
    const about = caseOfTargetEvent(e)
    if (about === null || f.terminal !== undefined) return f.providers === undefined && f.caseId === undefined && f.terminal === undefined
    return (f.providers === undefined || f.providers.has(about.provider)) && (f.caseId === undefined || f.caseId === about.caseId)
  }
  if (f.providers !== undefined && !f.providers.has(e.case.provider)) return false
  if (f.caseId !== undefined && e.case.id !== f.caseId) return false
  if (f.terminal !== undefined && e.case.terminal !== f.terminal) return false
  return true
}

/** Event ids are `<ms>-<n>` (a Redis Stream entry id): compared as two integers. */
export function compareIds (a: string, b: string): number {
  const [am = 0, an = 0] = a.split('-').map(Number)
  const [bm = 0, bn = 0] = b.split('-').map(Number)
  return am !== bm ? am - bm : an - bn
}

/** the event an append records, given its id and time */
export function gatewayEventOf (input: AppendInput, id: string, observedAt: string): GatewayEvent {
  return { id, occurredAt: input.occurredAt, observedAt, observedVia: 'gateway' as const, case: null, type: input.type, data: input.data } as GatewayEvent
}

const ABOUT_A_CASE: ReadonlySet<string> = new Set([...TARGET_EVENT_TYPES, ...SLA_EVENT_TYPES])

/** the case a target or service-level event is about (its timeline holds it too), null for other events of the gateway */
export function caseOfTargetEvent (e: { type: string, data?: unknown }): { caseId: string, provider: string } | null {
  return ABOUT_A_CASE.has(e.type) ? e.data as TargetEventData : null
}

export function idTime (id: string): number {
  return Number(id.slice(0, id.indexOf('-')))
}
