/**
 * Service-level compliance over a window (GET /v1/analytics/sla): the cases created in it that a rule matches,
 * each evaluated now under the rules in force, counted per provider, target type and rule. The compliance rate is
 * met ÷ (met + breached): cases still on track or at risk have no outcome yet. Reads every record of the window
 * (pipelined, 500 a round trip) up to MAX_CASES; a wider window answers 400 asking for a shorter one.
 */
import { GatewayError } from '../../domain/problems.js'
import type { SlaPolicy } from '../../domain/sla-policy.js'
import type { SlaReport } from '../../schemas/sla.js'
import { slaBlock } from './view.js'
import type { SlaStore } from './store.js'

export const MAX_CASES = 200_000
const DEFAULT_WINDOW_MS = 30 * 86_400_000
const CHUNK = 500

type Counts = SlaReport['totals']
const empty = (): Counts => ({ cases: 0, met: 0, breached: 0, atRisk: 0, onTrack: 0, complianceRate: null })
const FIELD = { met: 'met', breached: 'breached', at_risk: 'atRisk', on_track: 'onTrack' } as const

function rate (c: Counts): Counts {
  const decided = c.met + c.breached
  return { ...c, complianceRate: decided === 0 ? null : Math.round((c.met / decided) * 10_000) / 10_000 }
}

export async function slaReport (store: SlaStore, policy: SlaPolicy, now: number, q: { since?: string | undefined, until?: string | undefined }): Promise<SlaReport> {
  const until = q.until === undefined ? now : Date.parse(q.until)
  const since = q.since === undefined ? until - DEFAULT_WINDOW_MS : Date.parse(q.since)
  if (since >= until) throw new GatewayError('GW_ERR_VALIDATION', '`since` must be before `until`', { errors: [{ path: '/since', message: 'must be before until' }] })
  const ids = await store.createdBetween(since, until, MAX_CASES + 1)
  if (ids.length > MAX_CASES) {
    throw new GatewayError('GW_ERR_VALIDATION', `More than ${MAX_CASES} cases were created in the window: ask for a shorter one`, { errors: [{ path: '/since', message: 'window too wide' }] })
  }
  const totals = empty()
  const groups = { provider: new Map<string, Counts>(), targetType: new Map<string, Counts>(), rule: new Map<string, Counts>() }
  const add = (m: Map<string, Counts>, key: string, field: keyof typeof FIELD): void => {
    const c = m.get(key) ?? empty()
    c.cases++
    c[FIELD[field]]++
    m.set(key, c)
  }
  for (let i = 0; i < ids.length; i += CHUNK) {
    const records = await store.getMany(ids.slice(i, i + CHUNK))
    for (const r of records) {
      const block = slaBlock(policy, r, now)
      if (r === null || block === null) continue
      totals.cases++
      totals[FIELD[block.state]]++
      add(groups.provider, r.facts.provider, block.state)
      add(groups.targetType, r.facts.target.type, block.state)
      add(groups.rule, block.policy, block.state)
    }
  }
  const list = (m: Map<string, Counts>): SlaReport['byProvider'] => [...m.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([key, c]) => ({ key, ...rate(c) }))
  return {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    totals: rate(totals),
    byProvider: list(groups.provider),
    byTargetType: list(groups.targetType),
    byRule: list(groups.rule)
  }
}
