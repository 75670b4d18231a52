/**
 * The service-level evaluator: pure, no clock of its own. Given a case's facts (when it was created, its first
 * action, when its target went down), the rule it falls under and `now`, it says where the case stands and when each
 * action of the rule is due. The timers (engine.ts) keep those due times; the case view and analytics call it at
 * read time, so a rule or a clock change never leaves a stale state behind.
 */
import type { SlaRule } from '../../domain/sla-policy.js'
import type { SlaState } from '../../schemas/sla.js'

export interface SlaFacts {
  caseId: string
  provider: string
  target: { type: string, value: string }
  threatClass: string | null
  brand: { id: string | number | null, name: string | null }
  /** the case's createdAt (ms) */
  createdAt: number
  /** the case's unified status as last recorded */
  status: string
  terminal: boolean
  /** when the case first left `received` (ms), null while it has not */
  firstActionAt: number | null
  /** when its target went down: `verified_down` with verification on, else `taken_down`/`mitigated` (ms) */
  downAt: number | null
}

/** the timed actions of a rule: warnings and breaches per clock, escalation, failover */
export const ACTION_KINDS = ['warn-first', 'breach-first', 'warn-down', 'breach-down', 'escalate', 'failover'] as const
export type ActionKind = (typeof ACTION_KINDS)[number]

export interface SlaEvaluation {
  policy: string
  firstActionDueAt: number | null
  downDueAt: number | null
  state: SlaState
  breachedAt: number | null
  /** the actions still to come or due, with their due times (none once the case met its levels) */
  actions: Array<{ kind: ActionKind, at: number }>
}

const plus = (t: number, ms: number | null): number | null => ms === null ? null : t + ms

/** Where the case stands at `now` under `rule`. */
export function evaluate (rule: SlaRule, f: SlaFacts, now: number): SlaEvaluation {
  const firstDue = plus(f.createdAt, rule.firstActionWithinMs)
  const downDue = plus(f.createdAt, rule.downWithinMs)
  // a clock is breached when its milestone came after the due time, or has not come and the due time passed
  const breachOf = (due: number | null, at: number | null): number | null =>
    due === null ? null : (at === null ? (now >= due ? due : null) : (at > due ? due : null))
  // a target down counts as the first action too
  const firstAt = f.firstActionAt ?? f.downAt
  const breaches = [breachOf(firstDue, firstAt), breachOf(downDue, f.downAt)].filter((t): t is number => t !== null)
  const breachedAt = breaches.length === 0 ? null : Math.min(...breaches)
  const firstPending = firstDue !== null && firstAt === null
  const downPending = downDue !== null && f.downAt === null
  const done = !downPending && !firstPending
  const warn = rule.warnBeforeMs
  const atRisk = warn !== null && [firstPending ? firstDue : null, downPending ? downDue : null].some(d => d !== null && now >= d - warn)
  const state: SlaState = breachedAt !== null ? 'breached' : done ? 'met' : atRisk ? 'at_risk' : 'on_track'

  const actions: SlaEvaluation['actions'] = []
  const notDown = f.downAt === null
  if (firstPending && firstDue !== null) {
    if (warn !== null && !f.terminal) actions.push({ kind: 'warn-first', at: firstDue - warn })
    actions.push({ kind: 'breach-first', at: firstDue })
  }
  if (downPending && downDue !== null) {
    if (warn !== null && !f.terminal) actions.push({ kind: 'warn-down', at: downDue - warn })
    actions.push({ kind: 'breach-down', at: downDue })
  }
  if (notDown && !f.terminal) {
    const escalateAt = plus(f.createdAt, rule.escalateAfterMs)
    const failoverAt = plus(f.createdAt, rule.failoverAfterMs)
    if (escalateAt !== null) actions.push({ kind: 'escalate', at: escalateAt })
    if (failoverAt !== null) actions.push({ kind: 'failover', at: failoverAt })
  }
  return { policy: rule.id, firstActionDueAt: firstDue, downDueAt: downDue, state, breachedAt, actions: actions.sort((a, b) => a.at - b.at) }
}
