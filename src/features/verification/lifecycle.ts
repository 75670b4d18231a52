/**
 * The verification lifecycle of one case (ADR 0042), pure: a state, a probe verdict or a vendor status in, the next
 * state and the events it causes out. The monitor stores the result with compare-and-set, so of two replicas
 * applying the same step only one emits its events.
 *
 *   open ──vendor mitigated/taken_down──▶ confirming ──N down/blocked probes, spaced──▶ monitoring ──M days──▶ done
 *                                            │ N live probes (no down): disputed        │ live probe: reappeared
 *                                            │ live after a down: reappeared             ▼
 */
import type { TargetType } from '../../schemas/common.js'
import type { TargetEventType } from '../../schemas/event.js'
import type { VerificationState } from '../../schemas/verification.js'
import type { Verdict } from './classify.js'

export { TARGET_EVENT_TYPES as TARGET_EVENTS, type TargetEventType } from '../../schemas/event.js'

export type Phase = 'open' | 'confirming' | 'monitoring' | 'done'

export interface Verification {
  caseId: string
  provider: string
  target: { type: TargetType, value: string }
  /** when the case was reported (created), epoch ms */
  reportedAt: number
  state: VerificationState
  phase: Phase
  firstSeenLiveAt: number | null
  lastSeenLiveAt: number | null
  /** the first probe of the current down streak */
  downSince: number | null
  /** the first down/blocked probe after the report (live time after report ends here) */
  firstDownAt: number | null
  verifiedDownAt: number | null
  lastCheckedAt: number | null
  nextCheckAt: number | null
  checks: number
  /** the fingerprint of the first live capture */
  baseline: string | null
  /** when the vendor last said mitigated/taken_down, null while it says the case is open */
  vendorDownAt: number | null
  /** probes of the current confirmation run */
  run: { down: number, live: number }
  monitorUntil: number | null
  /** re-emergences seen; a policy acts at most once per re-emergence (keyed by this count) */
  reappearances: number
  disputed: boolean
  /** the vendor's last status the monitor was told (its claim); absent on records written before it was kept */
  vendorStatus?: string | null
  /** cases linked by a re-emergence (`resubmit`): the new case on the original, the original on the new one */
  relatedCaseIds?: string[]
  /*
   * Facts that only ever grow, for the analytics row (outcome-row.ts); absent on records written before they were kept.
   */
  /** the first verifiedDownAt (a re-verification after a re-emergence moves verifiedDownAt, not this) */
  firstVerifiedDownAt?: number | null
  /** when the vendor first said mitigated/taken_down */
  vendorClaimedAt?: number | null
  /** the first dispute (`disputed` clears when the vendor claims again) */
  disputedAt?: number | null
  /** re-emergences seen during monitoring, after a verified takedown */
  monitorReappearances?: number
  /**
   * The re-emergence (its `reappearances` count) whose `reopen`/`resubmit` policy has not completed yet: written by
   * the step that saw it, cleared by the replica that completed the policy, so a replica that dies in between leaves
   * the work to another (ADR 0045). Null or absent: nothing owed.
   */
  pendingReappear?: number | null
  /** failed attempts at the owed policy (given up after a few) */
  pendingAttempts?: number
}

export interface LifecycleSettings {
  confirmProbes: number
  confirmSpacingMs: number
  monitorDays: number
  /** probe cadence of an open (or re-emerged, or disputed) case */
  openEveryMs: number
  /** the sandbox's SANDBOX_SPEED: every wait above (and the monitoring cadence and window) that many times shorter; absent: 1 */
  speed?: number
}

/** a wait of the lifecycle in wall-clock ms: speed shortens it (ADR 0035) */
const wait = (s: LifecycleSettings, ms: number): number => Math.max(1, Math.round(ms / (s.speed ?? 1)))

export interface TargetEvent { type: TargetEventType, at: number, reason: string }

export interface Step { next: Verification, events: TargetEvent[] }

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** The monitoring cadence: hourly on the first day, every 3 h to day 3, then every 6 h. */
export function monitorEvery (sinceVerifiedMs: number): number {
  if (sinceVerifiedMs < DAY) return HOUR
  if (sinceVerifiedMs < 3 * DAY) return 3 * HOUR
  return 6 * HOUR
}

/** A case the gateway starts to watch: its baseline probe is due at once (never, for a target with no page). */
export function start (c: { id: string, provider: string, target: { type: TargetType, value: string }, reportedAt: number },
  probeable: boolean, now: number): Verification {
  return {
    caseId: c.id,
    provider: c.provider,
    target: c.target,
    reportedAt: c.reportedAt,
    state: probeable ? 'not_checked' : 'unprobeable',
    phase: probeable ? 'open' : 'done',
    firstSeenLiveAt: null,
    lastSeenLiveAt: null,
    downSince: null,
    firstDownAt: null,
    verifiedDownAt: null,
    lastCheckedAt: null,
    nextCheckAt: probeable ? now : null,
    checks: 0,
    baseline: null,
    vendorDownAt: null,
    run: { down: 0, live: 0 },
    monitorUntil: null,
    reappearances: 0,
    disputed: false
  }
}

/**
 * The vendor's status changed: mitigated/taken_down starts a confirmation run, an open status ends any run (and
 * starts probing again a case its vendor had closed), a closed one (`closed`, `cancelled`, `failed`) ends the
 * verification of an open case (a confirmation run or monitoring already under way goes on to its end).
 */
export function vendorSaid (v: Verification, vendorDown: boolean | 'closed', now: number): Verification {
  if (v.phase === 'done' && v.state === 'unprobeable') return v
  if (vendorDown === 'closed') {
    if (v.phase !== 'open') return v
    return { ...v, phase: 'done', run: { down: 0, live: 0 }, nextCheckAt: null }
  }
  if (!vendorDown && v.phase === 'done' && v.state !== 'stayed_down') return { ...v, phase: 'open', nextCheckAt: now }
  if (vendorDown) {
    if (v.vendorDownAt !== null) return v
    return { ...v, vendorDownAt: now, vendorClaimedAt: v.vendorClaimedAt ?? now, phase: 'confirming', run: { down: 0, live: 0 }, nextCheckAt: now, disputed: false }
  }
  if (v.vendorDownAt === null) return v
  return { ...v, vendorDownAt: null, phase: 'open', run: { down: 0, live: 0 }, monitorUntil: null, nextCheckAt: now }
}

/** One probe's verdict applied at `now`. */
export function probed (v: Verification, verdict: Verdict, fingerprint: string | null, s: LifecycleSettings, now: number): Step {
  const events: TargetEvent[] = []
  const n: Verification = { ...v, run: { ...v.run }, checks: v.checks + 1, lastCheckedAt: now }
  const o = verdict.outcome
  if (o === 'unprobeable') return { next: { ...n, state: 'unprobeable', phase: 'done', nextCheckAt: null }, events }
  const isDown = o === 'down' || o === 'blocked'
  if (o === 'live') {
    n.firstSeenLiveAt ??= now
    n.lastSeenLiveAt = now
    n.baseline ??= fingerprint
    n.downSince = null
  } else if (isDown) {
    n.downSince ??= now
    n.firstDownAt ??= now
  }
  const reappear = (): void => {
    n.reappearances++
    if (v.phase === 'monitoring') n.monitorReappearances = (v.monitorReappearances ?? 0) + 1
    n.state = 'reappeared'
    n.phase = 'open'
    n.run = { down: 0, live: 0 }
    n.monitorUntil = null
    n.nextCheckAt = now + wait(s, s.openEveryMs)
    events.push({ type: 'target.reappeared', at: now, reason: verdict.reason })
  }
  switch (v.phase) {
    case 'open': {
      // a case that re-emerged (or a disputed one) and is down again while the vendor still says down: confirm again
      if (isDown && v.vendorDownAt !== null) {
        n.phase = 'confirming'
        n.run = { down: 1, live: 0 }
        n.state = o
        n.nextCheckAt = now + wait(s, s.confirmSpacingMs)
        return finishRun(n, s, now, events, verdict)
      }
      if (o !== 'unknown' && !(o === 'live' && (v.state === 'reappeared' || v.state === 'disputed'))) n.state = o
      n.nextCheckAt = now + wait(s, s.openEveryMs)
      return { next: n, events }
    }
    case 'confirming': {
      if (o === 'live') {
        if (n.run.down > 0) { reappear(); return { next: n, events } }
        n.run.live++
        n.state = 'live'
        if (n.run.live >= s.confirmProbes) {
          n.state = 'disputed'
          n.disputed = true
          n.disputedAt ??= now
          n.phase = 'open'
          n.run = { down: 0, live: 0 }
          n.nextCheckAt = now + wait(s, s.openEveryMs)
          events.push({ type: 'target.disputed', at: now, reason: `live on ${s.confirmProbes} probes after the vendor said taken down` })
          return { next: n, events }
        }
      } else if (isDown) {
        n.run.down++
        n.state = o
      }
      n.nextCheckAt = now + wait(s, s.confirmSpacingMs)
      return finishRun(n, s, now, events, verdict)
    }
    case 'monitoring': {
      if (o === 'live') { reappear(); return { next: n, events } }
      const until = n.monitorUntil ?? now
      if (isDown && now >= until) {
        n.state = 'stayed_down'
        n.phase = 'done'
        n.nextCheckAt = null
        events.push({ type: 'target.stayed_down', at: now, reason: `down for ${s.monitorDays} days after verification` })
        return { next: n, events }
      }
      n.nextCheckAt = Math.min(until, now + wait(s, monitorEvery((now - (n.verifiedDownAt ?? now)) * (s.speed ?? 1))))
      return { next: n, events }
    }
    case 'done':
      n.nextCheckAt = null
      return { next: n, events }
  }
}

function finishRun (n: Verification, s: LifecycleSettings, now: number, events: TargetEvent[], verdict: Verdict): Step {
  if (n.run.down < s.confirmProbes) return { next: n, events }
  n.state = 'verified_down'
  n.verifiedDownAt = now
  n.firstVerifiedDownAt ??= now
  n.phase = 'monitoring'
  n.monitorUntil = now + wait(s, s.monitorDays * DAY)
  n.nextCheckAt = now + wait(s, monitorEvery(0))
  events.push({ type: 'target.verified_down', at: now, reason: verdict.reason })
  return { next: n, events }
}
