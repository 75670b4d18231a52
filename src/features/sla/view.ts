/**
 * The `sla` block on the cases the API answers with (listing pages, case detail, exports): one batched read of the
 * service-level store per page, evaluated at read time under the rules in force. Absent while no rule is in force
 * (`SLA_POLICY_FILE=none`); `null` for a case no rule matches or
 * the gateway never saw created (it keeps facts only from the case.created event on); a store that does not answer
 * leaves the page's blocks null and logs a warning rather than failing the read.
 */
import type { Clock } from '../../clock.js'
import type { SlaPolicy } from '../../domain/sla-policy.js'
import type { Logger } from '../../logger.js'
import type { Case, CaseDetail } from '../../schemas/case.js'
import type { Sla } from '../../schemas/sla.js'
import type { CaseView } from '../../services/case-views.js'
import { ruleFor } from '../../domain/sla-policy.js'
import { evaluate } from './evaluate.js'
import type { SlaRecord, SlaStore } from './store.js'

const iso = (t: number | null): string | null => t === null ? null : new Date(t).toISOString()

export function slaBlock (policy: SlaPolicy, r: SlaRecord | null, now: number): Sla | null {
  if (r === null) return null
  const f = r.facts
  const rule = ruleFor(policy, { provider: f.provider, targetType: f.target.type, threatClass: f.threatClass, brand: f.brand })
  if (rule === null) return null
  const e = evaluate(rule, f, now)
  return { policy: e.policy, firstActionDueAt: iso(e.firstActionDueAt), downDueAt: iso(e.downDueAt), state: e.state, breachedAt: iso(e.breachedAt), relatedCaseIds: Object.keys(r.related) }
}

export function slaCaseView (deps: { store: SlaStore, policy: SlaPolicy, clock: Clock, log: Logger }): CaseView {
  const { store, policy, clock, log } = deps
  const read = async (cases: Array<Case | CaseDetail>): Promise<void> => {
    // service levels off: no block at all
    if (policy.rules.length === 0) return
    let records: Array<SlaRecord | null>
    try {
      records = await store.getMany(cases.map(c => c.id))
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'sla: the store did not answer; the page\'s sla blocks are null')
      records = cases.map(() => null)
    }
    const now = clock.now()
    cases.forEach((c, i) => { c.sla = slaBlock(policy, records[i] ?? null, now) })
  }
  return { name: 'sla', page: read, detail: async c => { await read([c]) } }
}
