/**
 * The milestones recorder (ADR 0020): fed one case-change event at a time (`events.subscribe(e => milestones.record(e))`),
 * it keeps per case when it was created, first went in_progress, first mitigated, first taken down, first reached a
 * terminal status (and which), how often it was reopened, and where each time came from.
 *
 * Times: the vendor's own timestamp where the case carries one (`takedownStartedAt`, `resolvedAt`, the event's
 * `occurredAt`, and what the provider module's `milestones` declares: mitigation effective dates, an `updatedAt` that
 * moves with the status only), else the gateway's observation time, whose precision is the poll interval for a poll, 0 for a webhook or the
 * gateway's own write, unknown for a single read.
 */
import type { Case, CaseDetail } from '../../schemas/case.js'
import type { ProviderId } from '../../schemas/provider.js'
import { isTerminal, type UnifiedStatus } from '../../schemas/unified-status.js'
import type { MilestoneDating } from '../../connectors/provider-module.js'
import { PROVIDER_MODULES } from '../../providers/registry.js'
import { decodeRow, encodeRow, shardOf, tldId, type Milestone, type MilestoneRow, type MilestoneTime } from './row.js'
import type { MilestoneStore } from './store.js'

/** The fields of a case-change event the recorder reads (the event engine's model; a structural type). */
export interface CaseChangeEvent {
  type: 'case.created' | 'case.status_changed' | 'case.updated' | 'case.reopened'
  /** the vendor's time of the change, where it has one */
  occurredAt: string | null
  /** when the gateway saw it */
  observedAt: string
  observedVia: 'poll' | 'webhook' | 'read' | 'gateway'
  case: Pick<Case, 'id' | 'provider' | 'status' | 'createdAt' | 'updatedAt'> & { target: Pick<Case['target'], 'type' | 'publicSuffix'> } &
  Partial<Pick<CaseDetail, 'takedownStartedAt' | 'resolvedAt' | 'mitigations'>>
  previous: { status: UnifiedStatus, providerStatus: string | null } | null
  sequence: number
}

export interface RecorderOptions {
  /** seconds between two polls of a provider's list: the precision of a change first seen by a poll */
  pollIntervalSeconds?: Partial<Record<ProviderId, number>>
  /** called once per case, when it first reaches taken_down (the Prometheus histogram) */
  onTakenDown?: (c: { provider: string, targetType: string, seconds: number }) => void
}

/** status → the milestones reaching it sets (each only the first time) */
const REACHES: Partial<Record<UnifiedStatus, Milestone[]>> = {
  in_progress: ['inProgress'],
  mitigated: ['mitigated'],
  taken_down: ['takenDown'],
  failed: ['terminal'],
  cancelled: ['terminal'],
  closed: ['terminal']
}

export type RecordOutcome = 'recorded' | 'duplicate'

/** rows remembered at most (64 bytes each): a case changing again after more cases than this pays one read */
const WRITTEN_MAX = 10_000

export class MilestoneRecorder {
  readonly #store: MilestoneStore
  readonly #namedTlds = new Set<number>()
  readonly #opts: RecorderOptions
  /** case id → the row this recorder last wrote for it, the newest WRITTEN_MAX */
  readonly #written = new Map<string, Buffer>()

  constructor (store: MilestoneStore, opts: RecorderOptions = {}) {
    this.#store = store
    this.#opts = opts
  }

  /**
   * Applies one event; an event at or below the case's last applied sequence is a duplicate and changes nothing.
   * Sequence 0 with `observedVia: 'read'` is a backfill (backfill.ts): it only adds cases never recorded.
   */
  async record (event: CaseChangeEvent): Promise<RecordOutcome> {
    const createdAt = Date.parse(event.case.createdAt)
    if (Number.isNaN(createdAt)) throw new TypeError(`case ${event.case.id} has an unreadable createdAt`)
    const shard = shardOf(event.case.provider, createdAt)
    const id = event.case.id
    // compare-and-set: another replica may record the same case meanwhile; then read again and re-apply. The first
    // try skips the read where the row can be told without it: the row this recorder last wrote for the case, or none
    // for a case's first event (a guess the compare-and-set checks: a wrong one costs the read it saved)
    for (let attempt = 0; ; attempt++) {
      const guess = attempt === 0 ? (this.#written.get(id) ?? (event.type === 'case.created' && event.sequence === 1 ? null : undefined)) : undefined
      const stored = guess !== undefined ? guess : await this.#store.read(shard, id)
      const before = stored === null ? null : decodeRow(stored)
      const after = apply(before, event, createdAt, this.#opts)
      if (after === null) {
        // only the stored row says duplicate (a store that lost its rows has none however far the remembered one got)
        if (guess === undefined) return 'duplicate'
        continue
      }
      const suffix = event.case.target.publicSuffix ?? null
      if (suffix !== null) {
        after.tld = tldId(suffix)
        // named before the row holds it: a report never meets an id its dictionary lacks
        if (!this.#namedTlds.has(after.tld)) {
          await this.#store.nameTld(after.tld, suffix)
          this.#namedTlds.add(after.tld)
        }
      }
      const row = encodeRow(after)
      if (await this.#store.write(shard, id, stored, row)) {
        this.#remember(id, row)
        const td = after.milestones.takenDown
        if (td !== undefined && before?.milestones.takenDown === undefined) {
          this.#opts.onTakenDown?.({ provider: event.case.provider, targetType: after.targetType, seconds: Math.max(0, td.at - createdAt) / 1000 })
        }
        return 'recorded'
      }
      this.#written.delete(id)
      if (attempt >= 20) throw new Error(`milestones of ${id} kept changing under a concurrent writer`)
    }
  }

  #remember (caseId: string, row: Buffer): void {
    this.#written.delete(caseId)
    this.#written.set(caseId, row)
    if (this.#written.size > WRITTEN_MAX) this.#written.delete(this.#written.keys().next().value as string)
  }
}

/** The row after `event`, or null when the event was applied before. Pure: the tests drive it through record(). */
function apply (before: MilestoneRow | null, event: CaseChangeEvent, createdAt: number, opts: RecorderOptions): MilestoneRow | null {
  if (before !== null && event.sequence <= before.sequence) return null
  const c = event.case
  const row: MilestoneRow = before === null
    ? { createdAt, status: c.status, targetType: c.target.type, sequence: event.sequence, reopened: 0, firstTerminal: null, milestones: {} }
    : { ...before, milestones: { ...before.milestones }, status: c.status, sequence: event.sequence }
  const wasTerminal = event.previous !== null ? isTerminal(event.previous.status) : before !== null && isTerminal(before.status)
  if (event.type === 'case.reopened' || (wasTerminal && !isTerminal(c.status))) row.reopened++

  const observed = observedTime(event, opts)
  // a case first met by a single read (a backfill) was past its milestones long before: only vendor times date them
  const firstSightRead = before === null && event.observedVia === 'read'
  const set = (m: Milestone, vendorAt: string | null | undefined): void => {
    if (row.milestones[m] !== undefined) return
    const v = vendorAt == null ? Number.NaN : Date.parse(vendorAt)
    // a vendor time before the case was created is not believable: the observation is the better figure then
    if (!Number.isNaN(v) && v >= createdAt) row.milestones[m] = { at: v, source: 'vendor', precisionSeconds: 0 }
    else if (!firstSightRead) row.milestones[m] = observed
  }
  // a vendor that says when the takedown started dates in_progress even when the case is first seen past it
  if (c.takedownStartedAt != null) set('inProgress', c.takedownStartedAt)
  for (const m of REACHES[c.status] ?? []) set(m, vendorTimeOf(c, m, event.occurredAt))
  if (isTerminal(c.status) && row.firstTerminal === null) {
    row.firstTerminal = c.status
    if (c.status === 'taken_down') row.milestones.terminal ??= row.milestones.takenDown
  }
  return row
}

function observedTime (event: CaseChangeEvent, opts: RecorderOptions): MilestoneTime {
  const precision = event.observedVia === 'poll'
    ? opts.pollIntervalSeconds?.[event.case.provider] ?? null
    : event.observedVia === 'read' ? null : 0
  return { at: Date.parse(event.observedAt), source: 'observed', precisionSeconds: precision }
}

/** The vendor's own time for a milestone the case just reached, where the case carries one. */
function vendorTimeOf (c: CaseChangeEvent['case'], m: Milestone, occurredAt: string | null): string | null {
  const dating: MilestoneDating = PROVIDER_MODULES[c.provider].milestones ?? {}
  // the detail view's resolvedAt dates the removal
  if (m === 'takenDown' && c.resolvedAt != null) return c.resolvedAt
  const byMitigations = dating.mitigations
  if (byMitigations !== undefined && (m === 'mitigated' || m === 'takenDown' || m === 'terminal')) {
    if (c.mitigations !== undefined) {
      const times = c.mitigations
        .filter(x => x.effectiveAt !== null && (m === 'mitigated' || byMitigations.removes(x.type)))
        .map(x => x.effectiveAt as string)
        .sort()
      if (times[0] !== undefined) return times[0]
    } else if (c.updatedAt !== null) {
      return c.updatedAt
    }
  }
  if (dating.updatedAtDatesChange === true && occurredAt === null) return c.updatedAt
  return occurredAt
}
