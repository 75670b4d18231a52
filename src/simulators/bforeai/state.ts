/**
 * In-memory BforeAI takedown store. Seeded takedowns keep their status; takedowns created through the API move through
 * a lifecycle computed lazily from the injected clock at read time (no timers).
 */
import { paced, type Clock } from '../../clock.js'
import type { Attack, CancellationReason, Status, Takedown } from '../../connectors/bforeai/wire.js'

/** Realistic TitleCase names (BforeAI API docs, reference-data endpoints: the real values are [?]); "Escalated to Partner" is deliberately unmapped. */
export const STATUSES: Status[] = [
  { id: 1, name: 'Pending', description: 'Takedown request received and queued' },
  { id: 2, name: 'In Progress', description: 'Analysts are preparing the takedown' },
  { id: 3, name: 'Submitted to Registrar', description: 'Abuse report sent to the domain registrar' },
  { id: 4, name: 'Submitted to Host', description: 'Abuse report sent to the hosting provider or platform' },
  { id: 5, name: 'Taken Down', description: 'The malicious content is offline' },
  { id: 6, name: 'Failed', description: 'The takedown attempt did not succeed' },
  { id: 7, name: 'Rejected', description: 'The request was rejected' },
  { id: 8, name: 'Cancelled', description: 'Cancelled at the customer\'s request' },
  { id: 9, name: 'Closed', description: 'Closed without further action' },
  { id: 10, name: 'Monitoring', description: 'Watched; no takedown for now' },
  { id: 11, name: 'Awaiting Approval', description: 'Waiting for the customer to approve the takedown' },
  { id: 12, name: 'Escalated to Partner', description: 'Handed to a network disruption partner' }
]
export const STATUS = Object.fromEntries(STATUSES.map(s => [s.name, s])) as Record<string, Status>

/** Statuses from which the simulator refuses a cancel (BforeAI API docs, POST /v2/takedown/{takedown_id}/cancel: the real rule is [?]). */
export const FINAL_STATUS_IDS = new Set([5, 6, 7, 8, 9])

export const TAKEDOWN_TYPES = ['Infrastructure', 'Social Media']
export const PLATFORMS = ['Facebook', 'Instagram', 'X', 'TikTok', 'LinkedIn', 'YouTube', 'Telegram']
export const THREAT_TYPES = ['Impersonation', 'Fraud', 'Phishing', 'Counterfeit', 'Fake Account']
export const CANCELLATION_REASONS: CancellationReason[] = [
  { id: 1, reason: 'False positive', is_active: true },
  { id: 2, reason: 'Authorised use of the brand', is_active: true },
  { id: 3, reason: 'Resolved directly with the owner', is_active: true },
  { id: 4, reason: 'Duplicate request', is_active: false }
]

export interface Brand { id: number, name: string }
export const BRANDS: Brand[] = [
  { id: 501, name: 'Acme Bank' },
  { id: 502, name: 'Globex' },
  { id: 503, name: 'Initech' },
  { id: 504, name: 'Umbrella Corp' },
  { id: 505, name: 'ExampleBank' }
]
export const COMPANY_ID = 77

const HOUR = 3_600_000
/** Lifecycle of API-created takedowns: Pending → In Progress +1 h → Submitted to … +6 h → Taken Down +48 h (each wait divided by the clock's speed). */
export const LIFECYCLE: ReadonlyArray<{ afterMs: number, infra: string, social: string }> = [
  { afterMs: 0, infra: 'Pending', social: 'Pending' },
  { afterMs: HOUR, infra: 'In Progress', social: 'In Progress' },
  { afterMs: 7 * HOUR, infra: 'Submitted to Registrar', social: 'Submitted to Host' },
  { afterMs: 55 * HOUR, infra: 'Taken Down', social: 'Taken Down' }
]

export interface TakedownRecord {
  seq: number
  id: string
  createdMs: number
  attackUrl: string
  valueType: string
  brand: Brand
  userId: string
  description: string
  takedownType: string
  platform: string | null
  threatType: string | null
  attackId: number | null
  /** seeded: a fixed status; null: the clock lifecycle */
  fixed: { statusId: number, updatedMs: number | null } | null
  /** a seeded quirk: status_name left out, only status_id given */
  omitStatusName: boolean
  cancelled: { atMs: number, reason: string } | null
  /** set by the `/__sim` plan control: status steps (oldest first) that replace the clock lifecycle */
  plan?: Array<{ atMs: number, statusId: number }>
}

/** A confirmed attack (BforeAI API docs, GET /v2/takedown/attacks); `takedownId` is set once a takedown exists for it. */
export interface AttackRecord {
  attackId: number
  name: string
  brand: Brand
  detectionMs: number
  updatedMs: number
  score: number
  assetType: string
  takedownId: string | null
}

export class BforeaiState {
  readonly clock: Clock
  readonly records: TakedownRecord[] = []
  readonly attacks: AttackRecord[] = []
  /** URLs the company's PreCrime monitoring already detected (→ 202 on /v2/takedown/request) */
  readonly detected = new Set<string>()
  #seq = 0
  #nextId: () => string

  constructor (clock: Clock, nextId: () => string) {
    this.clock = clock
    this.#nextId = nextId
  }

  add (r: Omit<TakedownRecord, 'seq' | 'id'> & { id?: string }): TakedownRecord {
    const rec: TakedownRecord = { ...r, id: r.id ?? this.#nextId(), seq: this.#seq++ }
    this.records.push(rec)
    return rec
  }

  get (id: string): TakedownRecord | undefined {
    return this.records.find(r => r.id === id)
  }

  /** current status and when it was reached */
  statusOf (r: TakedownRecord): { status: Status, atMs: number | null } {
    if (r.cancelled !== null) return { status: STATUS.Cancelled as Status, atMs: r.cancelled.atMs }
    if (r.fixed !== null) {
      return { status: STATUSES.find(s => s.id === r.fixed?.statusId) as Status, atMs: r.fixed.updatedMs }
    }
    if (r.plan !== undefined) {
      const now = this.clock.now()
      const reached = r.plan.filter(s => s.atMs <= now).at(-1) ?? r.plan[0]
      return { status: STATUSES.find(s => s.id === reached?.statusId) as Status, atMs: reached?.atMs ?? r.createdMs }
    }
    const elapsed = this.clock.now() - r.createdMs
    let step = LIFECYCLE[0] as (typeof LIFECYCLE)[number]
    for (const s of LIFECYCLE) if (elapsed >= paced(this.clock, s.afterMs)) step = s
    const name = r.platform !== null ? step.social : step.infra
    return { status: STATUS[name] as Status, atMs: r.createdMs + paced(this.clock, step.afterMs) }
  }

  /** An analyst's plan for a takedown: its current status stays, then each step `afterMs` from now (the `/__sim` plan control). */
  replan (r: TakedownRecord, steps: ReadonlyArray<{ afterMs: number, status: string }>): void {
    const { status, atMs } = this.statusOf(r)
    const now = this.clock.now()
    r.fixed = null
    r.plan = [{ atMs: atMs ?? now, statusId: status.id }, ...steps.map(s => ({ atMs: now + paced(this.clock, s.afterMs), statusId: (STATUS[s.status] as Status).id }))]
  }

  toWire (r: TakedownRecord): Takedown {
    const { status, atMs } = this.statusOf(r)
    const t: Takedown = {
      id: r.id,
      created: new Date(r.createdMs).toISOString(),
      attack_url: r.attackUrl,
      value: { type: r.valueType, value: r.valueType === 'domain' ? hostOf(r.attackUrl) : r.attackUrl },
      brand_name: r.brand.name,
      user_id: r.userId,
      description: r.description,
      company_id: COMPANY_ID,
      status_id: status.id,
      status_name: r.omitStatusName ? null : status.name,
      updated_at: atMs === null ? null : new Date(atMs).toISOString(),
      brand_id: r.brand.id,
      attack_id: r.attackId,
      takedown_type: r.takedownType,
      cancellation_reason: r.cancelled?.reason ?? null,
      platform: r.platform,
      threat_type: r.threatType
    }
    return t
  }

  attackToWire (a: AttackRecord): Attack {
    const t = a.takedownId === null ? undefined : this.get(a.takedownId)
    const st = t === undefined ? null : this.statusOf(t)
    return {
      company_id: COMPANY_ID,
      protected_asset_id: a.brand.id,
      protected_asset_name: a.brand.name,
      attack_id: a.attackId,
      attack_name: a.name,
      value: { type: a.assetType, value: a.name },
      detection_date: new Date(a.detectionMs).toISOString(),
      identification_status: { value: 'confirmed', updated_at: new Date(a.updatedMs).toISOString() },
      score: { value: a.score, updated_at: new Date(a.updatedMs).toISOString() },
      asset_type: a.assetType,
      // BforeAI API docs, GET /v2/takedown/attacks [I]: null while no takedown exists
      takedown: t === undefined || st === null
        ? null
        : {
            id: t.id,
            created: new Date(t.createdMs).toISOString(),
            updated_at: st.atMs === null ? null : new Date(st.atMs).toISOString(),
            status: st.status.name,
            status_id: st.status.id,
            status_updated_at: st.atMs === null ? null : new Date(st.atMs).toISOString()
          }
    }
  }

  /** newest first by created; equal timestamps in a fixed order (newest insert first) so pages never shift */
  sorted (field: 'created' | 'updated_at', order: 'ascending' | 'descending'): TakedownRecord[] {
    const key = (r: TakedownRecord): number => field === 'created' ? r.createdMs : (this.statusOf(r).atMs ?? r.createdMs)
    const out = [...this.records].sort((a, b) => (key(b) - key(a)) || (b.seq - a.seq))
    return order === 'descending' ? out : out.reverse()
  }
}

export function hostOf (url: string): string {
  try {
    return new URL(url).hostname
  } catch {
    return url
  }
}
