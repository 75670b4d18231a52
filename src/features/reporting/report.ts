/**
 * `GET /v1/analytics/takedowns`: one pass over the rows of the shards the filters cover, grouped by any of provider,
 * target type, creation month, the target's public suffix (`tld`), and its registrar and hosting network (from the
 * core's per-case enrichment record, read once per query over the rows' case ids; `unknown` when not recorded). Percentiles are exact over the cases (durations collected per group and sorted),
 * linear between the two nearest ranks (R-7, the default of Excel's PERCENTILE.INC and numpy), never bucketed.
 */
import type { Clock } from '../../clock.js'
import { parseAnalyticsQuery } from '../../services/analytics-query.js'
import { GatewayError } from '../../domain/problems.js'
import { TARGET_TYPES } from '../../schemas/common.js'
import type { TakedownQuery, TakedownReport, TakedownGroup } from '../../schemas/analytics.js'
import type { ProviderId } from '../../schemas/provider.js'
import { UNIFIED_STATUSES, TERMINAL_STATUSES } from '../../schemas/unified-status.js'
import { MILESTONES, monthOf, PRECISION_UNKNOWN, RowView } from './row.js'
import type { MilestoneStore } from './store.js'
import type { CaseEnrichmentRecords } from '../../core/case-enrichment.js'
import { percentile } from '../../domain/percentile.js'

export { percentile }

export const GROUP_BY = ['provider', 'targetType', 'month', 'tld', 'registrar', 'hostingNetwork'] as const
/** the registrar or hosting network of a case whose RDAP enrichment is not recorded (no detail read enriched it yet) */
export const UNKNOWN = 'unknown'
/** the tld of a case whose target has no public suffix (an IP address, an e-mail, a phone) or that was recorded before the column */
export const UNKNOWN_TLD = 'unknown'

const DAY = 86_400_000
const IN_PROGRESS = MILESTONES.indexOf('inProgress')
const MITIGATED = MILESTONES.indexOf('mitigated')
const TAKEN_DOWN = MILESTONES.indexOf('takenDown')
const TERMINAL_INDEX = new Set<number>(TERMINAL_STATUSES.map(s => UNIFIED_STATUSES.indexOf(s)))
/** 1 for the index of every open (non-terminal) status: a table lookup in the hot loop */
const OPEN = Uint8Array.from(UNIFIED_STATUSES, (_, i) => TERMINAL_INDEX.has(i) ? 0 : 1)
const STATUS_TAKEN_DOWN = UNIFIED_STATUSES.indexOf('taken_down')
const STATUS_FAILED = UNIFIED_STATUSES.indexOf('failed')
const STATUS_CANCELLED = UNIFIED_STATUSES.indexOf('cancelled')

interface Acc {
  key: TakedownGroup['key']
  cases: number
  statuses: number[]
  reopened: number
  ttd: number[]
  ttdVendor: number
  ttdWorstPrecision: number
  ttfa: number[]
  backlog: [number, number, number, number]
}

export class TakedownAnalytics {
  readonly #store: MilestoneStore
  readonly #clock: Clock

  readonly #records: CaseEnrichmentRecords | null

  constructor (store: MilestoneStore, clock: Clock, records: CaseEnrichmentRecords | null = null) {
    this.#store = store
    this.#clock = clock
    this.#records = records
  }

  /** per shard (same order), per row, the id of its registrar / hosting network group (0: unknown), and the names */
  async #enrichmentIds (shards: readonly string[], byRegistrar: boolean, byNetwork: boolean): Promise<{ ids: Array<Array<[number, number]>>, names: string[] }> {
    const names = [UNKNOWN]
    const idOf = new Map<string, number>([[UNKNOWN, 0]])
    const id = (name: string | null): number => {
      if (name === null) return 0
      let n = idOf.get(name)
      if (n === undefined) { n = names.push(name) - 1; idOf.set(name, n) }
      return n
    }
    if ((!byRegistrar && !byNetwork) || this.#records === null) return { ids: shards.map(() => []), names }
    const perShard = await this.#store.caseIds(shards)
    const facts = await this.#records.of(perShard.flat())
    let at = 0
    const ids = perShard.map(caseIds => caseIds.map((): [number, number] => {
      const f = facts[at++] ?? null
      return [byRegistrar ? id(f?.registrar ?? null) : 0, byNetwork ? id(f?.hostingNetwork ?? null) : 0]
    }))
    return { ids, names }
  }

  async report (query: TakedownQuery): Promise<TakedownReport> {
    const f = parseAnalyticsQuery(query, GROUP_BY)
    const now = this.#clock.now()
    const fromMonth = f.from === null ? null : monthOf(f.from)
    const toMonth = f.to === null ? null : monthOf(f.to - 1)
    const shards = (await this.#unavailableAsProblem(this.#store.shards())).filter(name => {
      const [provider = '', month = ''] = name.split(':')
      return f.providers.includes(provider) && (fromMonth === null || month >= fromMonth) && (toMonth === null || month <= toMonth)
    })
    const groups = new Map<string, Acc>()
    const byTld = f.groupBy.has('tld')
    const byRegistrar = f.groupBy.has('registrar')
    const byNetwork = f.groupBy.has('hostingNetwork')
    const byKey = byTld || byRegistrar || byNetwork
    const [buffers, tlds, enrich] = await this.#unavailableAsProblem(Promise.all([
      this.#store.rows(shards),
      byTld ? this.#store.tlds() : new Map<number, string>(),
      this.#enrichmentIds(shards, byRegistrar, byNetwork)
    ]))
    for (const [i, buf] of buffers.entries()) {
      // every row of a shard has the shard's provider and creation month: only the target type varies per row
      const [provider, month] = (shards[i] ?? '').split(':') as [ProviderId, string]
      const byType: Array<Acc | undefined> = []
      // grouped by tld, registrar or hosting network: per target type, suffix id and enrichment ids
      const byTypeAndKey = new Map<string, Acc>()
      const rowIds = enrich.ids[i] ?? []
      const accFor = (tt: number, tld: number, reg: number, net: number): Acc => {
        const key: TakedownGroup['key'] = {}
        if (f.groupBy.has('provider')) key.provider = provider
        if (f.groupBy.has('targetType')) key.targetType = TARGET_TYPES[tt] ?? 'url'
        if (f.groupBy.has('month')) key.month = month
        if (byTld) key.tld = tlds.get(tld) ?? UNKNOWN_TLD
        if (byRegistrar) key.registrar = enrich.names[reg] ?? UNKNOWN
        if (byNetwork) key.hostingNetwork = enrich.names[net] ?? UNKNOWN
        const id = groupId(key)
        let g = groups.get(id)
        if (g === undefined) {
          g = { key, cases: 0, statuses: UNIFIED_STATUSES.map(() => 0), reopened: 0, ttd: [], ttdVendor: 0, ttdWorstPrecision: 0, ttfa: [], backlog: [0, 0, 0, 0] }
          groups.set(id, g)
        }
        if (byKey) byTypeAndKey.set(`${tt}:${tld}:${reg}:${net}`, g)
        else byType[tt] = g
        return g
      }
      const rows = new RowView(buf)
      for (let r = 0; r < rows.length; r++) {
        const created = rows.createdAt(r)
        if ((f.from !== null && created < f.from) || (f.to !== null && created >= f.to)) continue
        const tt = rows.targetType(r)
        if (f.targetType !== null && tt !== f.targetType) continue
        let g: Acc
        if (byKey) {
          const tld = byTld ? rows.tld(r) : 0
          const [reg, net] = rowIds[r] ?? [0, 0]
          g = byTypeAndKey.get(`${tt}:${tld}:${reg}:${net}`) ?? accFor(tt, tld, reg, net)
        } else {
          g = byType[tt] ?? accFor(tt, 0, 0, 0)
        }
        g.cases++
        const status = rows.status(r)
        g.statuses[status]!++
        if (rows.reopened(r) > 0) g.reopened++
        const td = rows.time(r, TAKEN_DOWN)
        if (!Number.isNaN(td)) {
          g.ttd.push((td - created) / 1000)
          if (rows.vendor(r, TAKEN_DOWN)) g.ttdVendor++
          const p = rows.precision(r, TAKEN_DOWN)
          g.ttdWorstPrecision = p === PRECISION_UNKNOWN || g.ttdWorstPrecision === -1 ? -1 : Math.max(g.ttdWorstPrecision, p)
        }
        // first action: the vendor first acted (in progress, mitigated or taken down, whichever came first)
        const action = Math.min(nanToInf(rows.time(r, IN_PROGRESS)), nanToInf(rows.time(r, MITIGATED)), nanToInf(td))
        if (action !== Number.POSITIVE_INFINITY) g.ttfa.push((action - created) / 1000)
        if (OPEN[status] === 1) {
          const age = now - created
          g.backlog[age < DAY ? 0 : age < 7 * DAY ? 1 : age < 30 * DAY ? 2 : 3]++
        }
      }
    }
    const out = [...groups.values()].map(toGroup)
    out.sort((a, b) => compareKey(a.key, b.key))
    return {
      from: f.from === null ? null : new Date(f.from).toISOString(),
      to: f.to === null ? null : new Date(f.to).toISOString(),
      groupBy: GROUP_BY.filter(d => f.groupBy.has(d)),
      generatedAt: new Date(now).toISOString(),
      groups: out
    }
  }

  /** the store (Redis) failing is a 503 problem that says so, not an internal error */
  async #unavailableAsProblem<T> (p: Promise<T>): Promise<T> {
    try {
      return await p
    } catch (err) {
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'The milestone store (Redis) did not answer; the analytics are unavailable until it does', { retryAfter: 1, cause: err })
    }
  }
}

function toGroup (g: Acc): TakedownGroup {
  const ttd = Float64Array.from(g.ttd).sort()
  const ttfa = Float64Array.from(g.ttfa).sort()
  const takenDown = g.statuses[STATUS_TAKEN_DOWN] ?? 0
  const terminal = [...TERMINAL_INDEX].reduce((n, i) => n + (g.statuses[i] ?? 0), 0)
  return {
    key: g.key,
    cases: g.cases,
    statuses: Object.fromEntries(UNIFIED_STATUSES.map((s, i) => [s, g.statuses[i] ?? 0])) as TakedownGroup['statuses'],
    takenDown,
    failed: g.statuses[STATUS_FAILED] ?? 0,
    cancelled: g.statuses[STATUS_CANCELLED] ?? 0,
    successRate: terminal === 0 ? null : takenDown / terminal,
    reopened: g.reopened,
    timeToTakedown: {
      count: ttd.length,
      median: percentile(ttd, 0.5),
      p90: percentile(ttd, 0.9),
      max: ttd.length === 0 ? null : ttd[ttd.length - 1]!,
      vendorTimed: g.ttdVendor,
      worstPrecisionSeconds: ttd.length === 0 || g.ttdWorstPrecision === -1 ? null : g.ttdWorstPrecision
    },
    timeToFirstAction: { count: ttfa.length, median: percentile(ttfa, 0.5), p90: percentile(ttfa, 0.9) },
    backlog: { '<1d': g.backlog[0], '1-7d': g.backlog[1], '7-30d': g.backlog[2], '>30d': g.backlog[3] }
  }
}

function nanToInf (n: number): number { return Number.isNaN(n) ? Number.POSITIVE_INFINITY : n }

function groupId (k: TakedownGroup['key']): string {
  return `${k.provider ?? ''}|${k.targetType ?? ''}|${k.month ?? ''}|${k.tld ?? ''}|${k.registrar ?? ''}|${k.hostingNetwork ?? ''}`
}

function compareKey (a: TakedownGroup['key'], b: TakedownGroup['key']): number {
  const ka = groupId(a)
  const kb = groupId(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}
