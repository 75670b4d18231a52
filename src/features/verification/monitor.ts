/**
 * The verification monitor: starts a case's verification when it is created, follows the vendor's status, and on
 * each tick probes the cases whose check is due, within its budget (probes per minute per replica, and per target
 * host), applying each verdict to the stored lifecycle with compare-and-set. The events a step causes are handed to
 * `emit` by the replica whose write won; a re-emergence's policy is owed in the record until one replica completes it.
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../../clock.js'
import type { TargetType } from '../../schemas/common.js'
import { classify, type Signature, type Verdict } from './classify.js'
import { probed, start, vendorSaid, type LifecycleSettings, type TargetEvent, type Verification } from './lifecycle.js'
import { outcomeShard } from './outcome-row.js'
import { probeUrls, type Observation } from './probe.js'
import type { Check, VerificationStore } from './store.js'

export type ReappearPolicy = 'event' | 'reopen' | 'resubmit'

export interface MonitorOptions {
  store: VerificationStore
  clock: Clock
  signatures: readonly Signature[]
  lifecycle: LifecycleSettings
  probe: (type: TargetType, value: string) => Promise<Observation>
  /** probes per minute this replica starts at most */
  perMinute: number
  /** probes per minute of one target host (all cases on it), this replica */
  perHostPerMinute: number
  onReappear: ReappearPolicy
  /** each event of a step, once */
  emit: (v: Verification, event: TargetEvent) => Promise<void>
  /** `resubmit`: files a new case for the target (the monitor links both ways); must be idempotent per case and re-emergence (a retry after a crash calls it again) */
  resubmit?: (v: Verification) => Promise<{ id: string, provider: string, target: { type: TargetType, value: string }, createdAt: string }>
  /** `reopen`: tells the vendor (a comment, where the provider takes them); called once per re-emergence */
  reopen?: (v: Verification) => Promise<void>
  /** a case's first vendor claim (mitigated/taken_down), once across replicas: the dispute rate's denominator (metrics) */
  onFirstClaim?: (v: Verification) => void
  /** how long one replica holds a re-emergence policy before another may retry it (default 30 s) */
  actLeaseMs?: number
  /** each probe's verdict (metrics) */
  onProbe?: (v: Verification, verdict: Verdict, durationMs: number) => void
  /** a registry hold on the host (clientHold/serverHold) counts as down; null = unknown. Unwired by default */
  holdCheck?: (host: string) => Promise<boolean | null>
}

const VENDOR_DOWN: ReadonlySet<string> = new Set(['mitigated', 'taken_down'])
/** the vendor finished the case without a takedown: an open case's verification ends */
const VENDOR_CLOSED: ReadonlySet<string> = new Set(['closed', 'cancelled', 'failed'])
const CLAIM_MS = 60_000
/** how long a replica acting on a re-emergence holds it before another may retry (MonitorOptions.actLeaseMs) */
const ACT_LEASE_MS = 30_000
/** failed attempts after which a re-emergence policy is given up (the failure is logged each time) */
const MAX_ACT_ATTEMPTS = 5
const WINDOW_MS = 60_000

export function hostOf (type: TargetType, value: string): string {
  if (type === 'url') { try { return new URL(value).hostname.toLowerCase() } catch { return value } }
  return value.trim().toLowerCase().replace(/\.$/, '')
}

export class VerificationMonitor {
  readonly #o: MonitorOptions
  /** start times of this replica's probes in the last minute, overall and per host */
  #recent: number[] = []
  readonly #recentByHost = new Map<string, number[]>()

  constructor (opts: MonitorOptions) { this.#o = opts }

  /** A read-modify-write of one case's record, retried when another replica wrote in between. */
  async #update (caseId: string, step: (v: Verification | null) => { next: Verification, events: TargetEvent[] } | null): Promise<Verification | null> {
    for (let i = 0; i < 8; i++) {
      const cur = await this.#o.store.get(caseId)
      const out = step(cur)
      if (out === null) return cur
      if (await this.#o.store.put(cur, out.next)) {
        for (const e of out.events) await this.#after(out.next, e)
        return out.next
      }
    }
    throw new Error(`verification of ${caseId}: too many concurrent writes`)
  }

  async #after (v: Verification, e: TargetEvent): Promise<void> {
    await this.#o.emit(v, e)
    if (e.type === 'target.reappeared' && (v.pendingReappear ?? null) !== null) await this.act(v.caseId)
  }

  /**
   * Completes the re-emergence policy a case owes (`pendingReappear`, written by the step that saw the re-emergence),
   * under a lease: of the replicas that try, one acts; one that dies leaves the work to the next tick of another once
   * the lease expires. `resubmit` creates under an idempotency key of the case and the re-emergence, so a retry (or an
   * overlapping attempt after a lease ran out) gets the same case back; the links are idempotent. The record is cleared
   * last. Returns whether this replica acted.
   */
  async act (caseId: string): Promise<boolean> {
    const v = await this.#o.store.get(caseId)
    const owed = v?.pendingReappear ?? null
    if (v === null || owed === null) return false
    if (!await this.#o.store.claim(`act:${caseId}:${owed}`, this.#o.actLeaseMs ?? ACT_LEASE_MS)) return false
    const policy = this.#o.onReappear
    try {
      if (policy === 'reopen') await this.#o.reopen?.(v)
      if (policy === 'resubmit' && this.#o.resubmit !== undefined) {
        const created = await this.#o.resubmit(v)
        await this.link(v.caseId, created.id)
        await this.track(created)
        await this.link(created.id, v.caseId)
      }
    } catch (err) {
      // retried after the lease, up to MAX_ACT_ATTEMPTS failures (a vendor that refuses it for good is not asked forever)
      await this.#update(caseId, cur => {
        if (cur === null || cur.pendingReappear !== owed) return null
        const attempts = (cur.pendingAttempts ?? 0) + 1
        return { next: attempts >= MAX_ACT_ATTEMPTS ? { ...cur, pendingReappear: null, pendingAttempts: 0 } : { ...cur, pendingAttempts: attempts }, events: [] }
      })
      throw err
    }
    await this.#update(caseId, cur => cur === null || cur.pendingReappear !== owed ? null : { next: { ...cur, pendingReappear: null, pendingAttempts: 0 }, events: [] })
    return true
  }

  /** Adds `relatedId` to the case's `relatedCaseIds` (a re-emergence's new case, or its original). */
  async link (caseId: string, relatedId: string): Promise<Verification | null> {
    return await this.#update(caseId, cur => cur === null || (cur.relatedCaseIds ?? []).includes(relatedId)
      ? null
      : { next: { ...cur, relatedCaseIds: [...(cur.relatedCaseIds ?? []), relatedId] }, events: [] })
  }

  /**
   * case.created: the baseline probe is due now (an email/phone/social target is unprobeable at once). A case whose
   * record expired (its verification ended VERIFY_RETENTION_DAYS ago) is not started again: a new record would
   * overwrite the outcome row the analytics keep for it.
   */
  async track (c: { id: string, provider: string, target: { type: TargetType, value: string }, createdAt: string }): Promise<Verification | null> {
    const now = this.#o.clock.now()
    const shard = outcomeShard({ provider: c.provider, reportedAt: Date.parse(c.createdAt) })
    if (shard !== null && await this.#o.store.retired(c.id, shard)) return null
    const probeable = Array.isArray(probeUrls(c.target.type, c.target.value))
    return await this.#update(c.id, cur => cur !== null ? null : { next: start({ ...c, reportedAt: Date.parse(c.createdAt) }, probeable, now), events: [] })
  }

  /** case.status_changed: mitigated/taken_down starts a confirmation run; an open status ends it. */
  async vendorStatus (caseId: string, status: string): Promise<Verification | null> {
    const now = this.#o.clock.now()
    // the step of the write that won: true when it holds the case's first vendor claim
    let firstClaim = false
    const v = await this.#update(caseId, cur => {
      firstClaim = false
      if (cur === null) return null
      const said = vendorSaid(cur, VENDOR_CLOSED.has(status) ? 'closed' : VENDOR_DOWN.has(status), now)
      const next = said === cur && cur.vendorStatus === status ? cur : { ...said, vendorStatus: status }
      if (next === cur) return null
      firstClaim = (cur.vendorClaimedAt ?? null) === null && (next.vendorClaimedAt ?? null) !== null
      return { next, events: [] }
    })
    if (firstClaim && v !== null) this.#o.onFirstClaim?.(v)
    return v
  }

  #budget (host: string, now: number): boolean {
    this.#recent = this.#recent.filter(t => t > now - WINDOW_MS)
    const mine = (this.#recentByHost.get(host) ?? []).filter(t => t > now - WINDOW_MS)
    this.#recentByHost.set(host, mine)
    if (this.#recent.length >= this.#o.perMinute || mine.length >= this.#o.perHostPerMinute) return false
    this.#recent.push(now)
    mine.push(now)
    return true
  }

  /** Probes one case now and applies the verdict; null when it is not tracked. */
  async probeNow (caseId: string): Promise<Check | null> {
    const v = await this.#o.store.get(caseId)
    if (v === null) return null
    const obs = await this.#o.probe(v.target.type, v.target.value)
    let verdict: Verdict = classify(obs, this.#o.signatures, v.baseline)
    if (verdict.outcome !== 'down' && verdict.outcome !== 'unprobeable' && this.#o.holdCheck !== undefined) {
      const held = await this.#o.holdCheck(hostOf(v.target.type, v.target.value)).catch(() => null)
      if (held === true) verdict = { outcome: 'down', reason: 'registry hold on the domain' }
    }
    const now = this.#o.clock.now()
    this.#o.onProbe?.(v, verdict, obs.durationMs)
    const check = toCheck(caseId, obs, verdict)
    await this.#o.store.addCheck(check)
    await this.#update(caseId, cur => {
      if (cur === null) return null
      const step = probed(cur, verdict, obs.fingerprint, this.#o.lifecycle, now)
      // a re-emergence owes its policy until a replica completes it (written with the step, so no crash loses it)
      if (this.#o.onReappear !== 'event' && step.events.some(e => e.type === 'target.reappeared')) step.next.pendingReappear = step.next.reappearances
      return step
    })
    return check
  }

  /** Probes the due cases this replica's budget allows; returns how many it probed. */
  async tick (): Promise<number> {
    const now = this.#o.clock.now()
    const due = await this.#o.store.due(now, this.#o.perMinute * 2)
    let probes = 0
    const records = await this.#o.store.getMany(due)
    const runs: Array<Promise<unknown>> = []
    for (const v of records) {
      if (v === null || v.nextCheckAt === null || v.nextCheckAt > now) continue
      if (!this.#budget(hostOf(v.target.type, v.target.value), now)) continue
      // one claim per due slot: of the replicas that see it due, one probes it
      if (!await this.#o.store.claim(`${v.caseId}:${v.checks}:${v.nextCheckAt}`, CLAIM_MS)) continue
      probes++
      runs.push(this.probeNow(v.caseId))
    }
    // re-emergence policies owed by a step whose replica did not complete them (it died, or the vendor failed)
    if (this.#o.onReappear !== 'event') for (const id of await this.#o.store.pending(this.#o.perMinute)) runs.push(this.act(id))
    await Promise.allSettled(runs)
    return probes
  }
}

function toCheck (caseId: string, obs: Observation, verdict: Verdict): Check {
  return {
    id: randomUUID(),
    caseId,
    at: obs.at,
    outcome: verdict.outcome,
    reason: verdict.reason,
    url: obs.url,
    dns: obs.dns === null ? null : { code: obs.dns.code, addresses: obs.dns.addresses, cnames: obs.dns.cnames },
    redirects: obs.hops,
    finalStatus: obs.finalStatus,
    tls: obs.tls,
    bodySha256: obs.bodySha256,
    fingerprint: obs.fingerprint,
    title: obs.title,
    bytes: obs.bytes,
    durationMs: obs.durationMs
  }
}
