/**
 * `GET /v1/analytics/verification` (ADR 0045): what the gateway's own probes saw, per provider, target type or creation
 * month, in one pass over the outcome rows of the shards the filters cover (as `/v1/analytics/takedowns` reads the
 * milestone rows). Percentiles are exact (R-7 over the cases' durations), never bucketed.
 */
import type { Clock } from '../../clock.js'
import { parseAnalyticsQuery } from '../../services/analytics-query.js'
import { percentile } from '../../domain/percentile.js'
import { GatewayError } from '../../domain/problems.js'
import { TARGET_TYPES } from '../../schemas/common.js'
import type { ProviderId } from '../../schemas/provider.js'
import { CLAIMED, DISPUTED, OutcomeView, STAYED_DOWN } from './outcome-row.js'
import { VERIFICATION_GROUP_BY, type VerificationAnalyticsQuery, type VerificationGroup, type VerificationReport } from './schema.js'
import type { VerificationStore } from './store.js'

type Dim = (typeof VERIFICATION_GROUP_BY)[number]

interface Acc {
  key: VerificationGroup['key']
  cases: number
  ttd: number[]
  live: number[]
  verified: number
  reappeared: number
  claimed: number
  disputed: number
  stayedDown: number
}

export async function verificationReport (store: VerificationStore, clock: Clock, query: VerificationAnalyticsQuery): Promise<VerificationReport> {
  const f = parseAnalyticsQuery(query, VERIFICATION_GROUP_BY)
  const fromMonth = f.from === null ? null : new Date(f.from).toISOString().slice(0, 7)
  const toMonth = f.to === null ? null : new Date(f.to - 1).toISOString().slice(0, 7)
  const unavailable = (err: unknown): never => {
    throw new GatewayError('GW_ERR_UNAVAILABLE', 'The verification store (Redis) did not answer; the analytics are unavailable until it does', { retryAfter: 1, cause: err })
  }
  const shards = (await store.outcomeShards().catch(unavailable)).filter(name => {
    const [provider = '', month = ''] = name.split(':')
    return f.providers.includes(provider) && (fromMonth === null || month >= fromMonth) && (toMonth === null || month <= toMonth)
  })
  const buffers = await store.outcomeRows(shards).catch(unavailable)
  const groups = new Map<string, Acc>()
  for (const [i, buf] of buffers.entries()) {
    const [provider, month] = (shards[i] ?? '').split(':') as [ProviderId, string]
    const byType: Array<Acc | undefined> = []
    const rows = new OutcomeView(buf)
    for (let r = 0; r < rows.length; r++) {
      const created = rows.reportedAt(r)
      if ((f.from !== null && created < f.from) || (f.to !== null && created >= f.to)) continue
      const tt = rows.targetType(r)
      if (f.targetType !== null && tt !== f.targetType) continue
      const g = byType[tt] ?? (byType[tt] = accFor(groups, f.groupBy, provider, month, tt))
      g.cases++
      const verified = rows.verifiedDownAt(r)
      if (!Number.isNaN(verified)) {
        g.verified++
        g.ttd.push(Math.max(0, verified - created) / 1000)
        if (rows.monitorReappearances(r) > 0) g.reappeared++
      }
      const down = rows.firstDownAt(r)
      if (!Number.isNaN(down)) g.live.push(Math.max(0, down - created) / 1000)
      const flags = rows.flags(r)
      if ((flags & CLAIMED) !== 0) {
        g.claimed++
        if ((flags & DISPUTED) !== 0) g.disputed++
      }
      if ((flags & STAYED_DOWN) !== 0) g.stayedDown++
    }
  }
  const out = [...groups.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, g]) => toGroup(g))
  return {
    from: f.from === null ? null : new Date(f.from).toISOString(),
    to: f.to === null ? null : new Date(f.to).toISOString(),
    groupBy: VERIFICATION_GROUP_BY.filter(d => f.groupBy.has(d)),
    generatedAt: new Date(clock.now()).toISOString(),
    groups: out
  }
}

function accFor (groups: Map<string, Acc>, by: ReadonlySet<Dim>, provider: ProviderId, month: string, tt: number): Acc {
  const key: VerificationGroup['key'] = {}
  if (by.has('provider')) key.provider = provider
  if (by.has('targetType')) key.targetType = TARGET_TYPES[tt] ?? 'url'
  if (by.has('month')) key.month = month
  const id = `${key.provider ?? ''}|${key.targetType ?? ''}|${key.month ?? ''}`
  let g = groups.get(id)
  if (g === undefined) {
    g = { key, cases: 0, ttd: [], live: [], verified: 0, reappeared: 0, claimed: 0, disputed: 0, stayedDown: 0 }
    groups.set(id, g)
  }
  return g
}

function durations (values: number[]): VerificationGroup['verifiedTimeToTakedown'] {
  const sorted = Float64Array.from(values).sort()
  const mean = sorted.length === 0 ? null : Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length * 1000) / 1000
  return { count: sorted.length, median: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), mean }
}

function toGroup (g: Acc): VerificationGroup {
  return {
    key: g.key,
    cases: g.cases,
    verifiedTimeToTakedown: durations(g.ttd),
    liveTimeAfterReport: durations(g.live),
    reemergence: { verifiedDown: g.verified, reappeared: g.reappeared, rate: g.verified === 0 ? null : g.reappeared / g.verified },
    dispute: { claimed: g.claimed, disputed: g.disputed, rate: g.claimed === 0 ? null : g.disputed / g.claimed },
    stayedDown: g.stayedDown
  }
}
