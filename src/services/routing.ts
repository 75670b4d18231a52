/**
 * Routing by measured outcome (ADR 0047): a `measured` routing rule ranks the providers it lists by what the gateway
 * measured of their cases of the target type (and of the target's TLD when each has enough cases there): the median
 * time to takedown and the success rate, over ROUTING_WINDOW_DAYS. Each provider needs ROUTING_MIN_SAMPLE cases with
 * an outcome, else the rule keeps its list order; ROUTING_EXPLORE_PERCENT of the creates go to a provider that is
 * not the best, so every provider keeps being measured.
 *
 * The measurements come through a port (`OutcomeStats`, implemented over the analytics milestone store and given
 * in by the core); the ranking here is pure, its one random draw passed in.
 */
import { createHash } from 'node:crypto'
import type { TargetType } from '../schemas/common.js'
import type { RoutingExplanation } from '../schemas/create.js'
import type { ProviderId } from '../schemas/provider.js'

/**
 * How a routing rule orders its providers: `order`, the list as written; `measured`, the listed providers ranked by
 * their measured time to takedown and success rate.
 */
export const ROUTING_STRATEGIES = ['order', 'measured'] as const
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number]

/** how a measured rule measures (ROUTING_*) */
export interface MeasuredRouting {
  /** per target type, how its rule orders the providers */
  strategy: Record<TargetType, RoutingStrategy>
  windowDays: number
  /** cases with an outcome each provider needs before the rule ranks by measurement */
  minSample: number
  /** share of routed creates (0-100) sent to a provider other than the best */
  explorePercent: number
}

/** What was measured of one provider's cases created in the window. */
export interface Outcome {
  /** cases with an outcome: down (taken down, mitigated or verified down) or failed/closed without it; cancelled and open cases are not counted */
  cases: number
  /** of them, the cases that went down */
  down: number
  /** median hours from created to down (verified time where the case has one, else the vendor-reported one); null when none went down */
  p50Hours: number | null
}

/** The measurements port: per provider, the outcomes of its cases of a target type, over the whole type and at one TLD. */
export interface OutcomeStats {
  /** `tld`: the target's public suffix, null when it has none (then `atTld` is empty) */
  outcomes: (type: TargetType, tld: string | null, windowDays: number) => Promise<{
    byType: ReadonlyMap<ProviderId, Outcome>
    atTld: ReadonlyMap<ProviderId, Outcome>
  }>
}

/** lower is better: the expected hours to one takedown when a failed case is filed again and takes as long (p50 ÷ success rate) */
export function scoreOf (o: Outcome): number | null {
  if (o.cases === 0) return null
  if (o.down === 0 || o.p50Hours === null) return Number.POSITIVE_INFINITY
  return o.p50Hours / (o.down / o.cases)
}

/**
 * A uniform draw in [0, 1) from a key (a request's Idempotency-Key, a batch item): the same key draws the same
 * number on every replica and every retry, so a retried create and the dry run sent with the create's key route alike.
 */
export function drawOf (key: string): number {
  return createHash('sha256').update(`routing:${key}`).digest().readUIntBE(0, 6) / 2 ** 48
}

const EMPTY: Outcome = { cases: 0, down: 0, p50Hours: null }

/**
 * Orders the able providers of a measured rule (`able`, in the rule's list order) and explains it. `draw` is one
 * number in [0, 1): below the explore share it picks a provider other than the best, uniformly.
 */
export function rankMeasured (able: readonly ProviderId[], stats: Awaited<ReturnType<OutcomeStats['outcomes']>>,
  ctx: { type: TargetType, tld: string | null, settings: MeasuredRouting, draw: number }): { order: ProviderId[], explanation: RoutingExplanation } {
  const { settings, draw } = ctx
  const enough = (m: ReadonlyMap<ProviderId, Outcome>): boolean => able.every(p => (m.get(p)?.cases ?? 0) >= settings.minSample)
  const atTld = ctx.tld !== null && able.length > 0 && enough(stats.atTld)
  const used = atTld ? stats.atTld : stats.byType
  const rows = able.map(provider => {
    const o = used.get(provider) ?? EMPTY
    const score = scoreOf(o)
    return {
      provider,
      cases: o.cases,
      successRate: o.cases === 0 ? null : round(o.down / o.cases, 4),
      p50Hours: o.p50Hours === null ? null : round(o.p50Hours, 2),
      score: score === null || !Number.isFinite(score) ? null : round(score, 2),
      rawScore: score
    }
  })
  const base = {
    strategy: 'measured' as const,
    targetType: ctx.type,
    tld: atTld ? ctx.tld : null,
    windowDays: settings.windowDays,
    minSample: settings.minSample,
    explorePercent: settings.explorePercent
  }
  const figures = (list: typeof rows): string => list.map(r => `${r.provider}: ${describe(r)}`).join('; ')
  const scope = `${ctx.type} targets${atTld ? ` at .${ctx.tld ?? ''}` : ''} over ${settings.windowDays} days`
  if (able.length < 2 || !enough(used)) {
    const short = rows.filter(r => r.cases < settings.minSample).map(r => `${r.provider} has ${r.cases}`)
    const why = able.length < 2
      ? 'only one provider can take it'
      : `every provider needs ${settings.minSample} cases with an outcome and ${short.join(', ')}`
    return {
      order: [...able],
      explanation: { ...base, decision: 'list_order', providers: rows.map(strip), summary: `List order (${why}): ${figures(rows)} (${scope}).` }
    }
  }
  // stable: equal scores keep the list order
  const ranked = [...rows].sort((a, b) => (a.rawScore ?? Number.POSITIVE_INFINITY) - (b.rawScore ?? Number.POSITIVE_INFINITY))
  const share = settings.explorePercent / 100
  const best = ranked[0]!
  const explore = draw < share
  const chosen = explore ? ranked[1 + Math.min(ranked.length - 2, Math.floor((draw / share) * (ranked.length - 1)))]! : best
  const order = [chosen.provider, ...ranked.map(r => r.provider).filter(p => p !== chosen.provider)]
  const summary = `${figures(ranked)} (${scope}). ` + (explore
    ? `Sent to ${chosen.provider} to keep it measured (${settings.explorePercent} % of routed creates go to a provider other than the best, ${best.provider}).`
    : `${best.provider} ranks first (lowest p50 ÷ success rate).`)
  return { order, explanation: { ...base, decision: explore ? 'explore' : 'best', providers: ranked.map(strip), summary } }
}

/** the rule could not be measured (the store did not answer): list order, saying so */
export function unmeasured (able: readonly ProviderId[], ctx: { type: TargetType, settings: MeasuredRouting, reason: string }): RoutingExplanation {
  return {
    strategy: 'measured',
    decision: 'list_order',
    targetType: ctx.type,
    tld: null,
    windowDays: ctx.settings.windowDays,
    minSample: ctx.settings.minSample,
    explorePercent: ctx.settings.explorePercent,
    providers: able.map(provider => ({ provider, cases: 0, successRate: null, p50Hours: null, score: null })),
    summary: `List order: the measurements are unavailable (${ctx.reason}).`
  }
}

function describe (r: { cases: number, successRate: number | null, p50Hours: number | null }): string {
  if (r.cases === 0) return 'no cases'
  const p50 = r.p50Hours === null ? 'none down' : `p50 ${r.p50Hours < 10 ? r.p50Hours.toFixed(1) : Math.round(r.p50Hours)} h`
  return `${p50}, ${Math.round((r.successRate ?? 0) * 100)} % over ${r.cases} cases`
}

const strip = ({ rawScore: _r, ...row }: { rawScore: number | null } & RoutingExplanation['providers'][number]): RoutingExplanation['providers'][number] => row

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits
