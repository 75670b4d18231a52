/**
 * The measurements routing by measured outcome reads (services/routing.ts `OutcomeStats`, ADR 0047), over the
 * milestone rows analytics keeps (ADR 0020): per provider, target type and TLD, the cases created in the window that
 * have an outcome, how many went down, and the median time to down.
 *
 * Down: the case was taken down or mitigated (its first such milestone), or its first terminal status was
 * taken_down; its time is the verified one where the `verifiedDownAt` lookup knows it (the gateway's own probes
 * confirmed it), else the vendor-reported (or observed) milestone. No outcome yet: open cases, and cancelled ones
 * (the client withdrew them; that says nothing of the vendor). Failed: failed or closed without going down.
 *
 * Every routed create of a measured rule reads it, so one pass over the window's shards is cached for `ttlMs` (one
 * minute) on the injected clock and shared by the creates that wait for it; a failed pass is not cached.
 */
import type { Clock } from '../../clock.js'
import type { TargetType } from '../../schemas/common.js'
import { TARGET_TYPES } from '../../schemas/common.js'
import { isProviderId, type ProviderId } from '../../schemas/provider.js'
import { UNIFIED_STATUSES } from '../../schemas/unified-status.js'
import type { Outcome, OutcomeStats } from '../../services/routing.js'
import { percentile } from './report.js'
import { MILESTONES, monthOf, RowView, tldId } from './row.js'
import type { MilestoneStore } from './store.js'

/** per case id (same order), when the gateway's probes verified it down (epoch ms), null when they did not */
export type VerifiedDownLookup = (caseIds: readonly string[]) => Promise<Array<number | null>>

export const OUTCOME_STATS_TTL_MS = 60_000
const DAY_MS = 86_400_000
const HOUR_S = 3600
const MITIGATED = MILESTONES.indexOf('mitigated')
const TAKEN_DOWN = MILESTONES.indexOf('takenDown')
const FIRST_TAKEN_DOWN = UNIFIED_STATUSES.indexOf('taken_down')
const FAILED = new Set([UNIFIED_STATUSES.indexOf('failed'), UNIFIED_STATUSES.indexOf('closed')])
/** verifiedDownAt lookups per call */
const LOOKUP_CHUNK = 1000

interface Acc { cases: number, down: number, seconds: number[] }
type Table = Map<string, Map<ProviderId, Outcome>>

export class MilestoneOutcomeStats implements OutcomeStats {
  readonly #store: MilestoneStore
  readonly #clock: Clock
  readonly #verifiedDownAt: VerifiedDownLookup | undefined
  readonly #ttlMs: number
  #snapshot: { at: number, windowDays: number, table: Table } | null = null
  #pending: { windowDays: number, table: Promise<Table> } | null = null

  constructor (store: MilestoneStore, clock: Clock, opts: { verifiedDownAt?: VerifiedDownLookup, ttlMs?: number } = {}) {
    this.#store = store
    this.#clock = clock
    this.#verifiedDownAt = opts.verifiedDownAt
    this.#ttlMs = opts.ttlMs ?? OUTCOME_STATS_TTL_MS
  }

  async outcomes (type: TargetType, tld: string | null, windowDays: number): Promise<{ byType: ReadonlyMap<ProviderId, Outcome>, atTld: ReadonlyMap<ProviderId, Outcome> }> {
    const table = await this.#table(windowDays)
    return { byType: table.get(keyOf(type, null)) ?? new Map(), atTld: tld === null ? new Map() : table.get(keyOf(type, tldId(tld))) ?? new Map() }
  }

  async #table (windowDays: number): Promise<Table> {
    const now = this.#clock.now()
    const s = this.#snapshot
    if (s !== null && s.windowDays === windowDays && now - s.at < this.#ttlMs) return s.table
    if (this.#pending?.windowDays === windowDays) return await this.#pending.table
    const table = this.#compute(now, windowDays)
    this.#pending = { windowDays, table }
    try {
      const done = await table
      this.#snapshot = { at: now, windowDays, table: done }
      return done
    } finally {
      if (this.#pending?.table === table) this.#pending = null
    }
  }

  /** one pass over the rows of the cases created in the window */
  async #compute (now: number, windowDays: number): Promise<Table> {
    const from = now - windowDays * DAY_MS
    const fromMonth = monthOf(from)
    const shards = (await this.#store.shards()).filter(name => {
      const [provider = '', month = ''] = name.split(':')
      return isProviderId(provider) && month >= fromMonth
    })
    const buffers = await this.#store.rows(shards)
    const accs = new Map<string, Acc>()
    const acc = (key: string): Acc => {
      let a = accs.get(key)
      if (a === undefined) accs.set(key, a = { cases: 0, down: 0, seconds: [] })
      return a
    }
    // the rows that went down, to date by their verified time where the lookup knows one
    const downRows: Array<{ shard: number, row: number, created: number, vendorSeconds: number, accs: [Acc, Acc | null] }> = []
    for (const [i, buf] of buffers.entries()) {
      const provider = (shards[i] ?? '').split(':')[0] as ProviderId
      // per target type and TLD id of this shard (its provider's), the two accumulators a row adds to: no string per row
      const perShard = new Map<number, [Acc, Acc | null]>()
      const rows = new RowView(buf)
      for (let r = 0; r < rows.length; r++) {
        const created = rows.createdAt(r)
        if (created < from || created > now) continue
        const first = rows.firstTerminal(r)
        const downAt = Math.min(nanToInf(rows.time(r, TAKEN_DOWN)), nanToInf(rows.time(r, MITIGATED)))
        const down = downAt !== Number.POSITIVE_INFINITY || first === FIRST_TAKEN_DOWN
        if (!down && !FAILED.has(first)) continue // open, or cancelled: no outcome to count
        const tt = rows.targetType(r)
        const tld = rows.tld(r)
        // tld ids are 48-bit: type × 2^48 + tld stays an exact integer
        const id = tt * 2 ** 48 + tld
        let pair = perShard.get(id)
        if (pair === undefined) {
          const type = TARGET_TYPES[tt] ?? 'url'
          pair = [acc(`${keyOf(type, null)}|${provider}`), tld === 0 ? null : acc(`${keyOf(type, tld)}|${provider}`)]
          perShard.set(id, pair)
        }
        pair[0].cases++
        if (pair[1] !== null) pair[1].cases++
        if (!down) continue
        pair[0].down++
        if (pair[1] !== null) pair[1].down++
        downRows.push({ shard: i, row: r, created, vendorSeconds: downAt === Number.POSITIVE_INFINITY ? Number.NaN : (downAt - created) / 1000, accs: pair })
      }
    }
    const verified = await this.#verified(shards, downRows)
    for (const [n, d] of downRows.entries()) {
      const v = verified[n] ?? null
      const seconds = v !== null && v >= d.created ? (v - d.created) / 1000 : d.vendorSeconds
      if (Number.isNaN(seconds)) continue
      d.accs[0].seconds.push(seconds)
      d.accs[1]?.seconds.push(seconds)
    }
    const table: Table = new Map()
    for (const [key, a] of accs) {
      const cut = key.lastIndexOf('|')
      const scope = key.slice(0, cut)
      let byProvider = table.get(scope)
      if (byProvider === undefined) table.set(scope, byProvider = new Map())
      const p50 = percentile(Float64Array.from(a.seconds).sort(), 0.5)
      byProvider.set(key.slice(cut + 1) as ProviderId, { cases: a.cases, down: a.down, p50Hours: p50 === null ? null : p50 / HOUR_S })
    }
    return table
  }

  /** per down row (same order), its verified time, or null (no lookup, or not verified) */
  async #verified (shards: readonly string[], downRows: ReadonlyArray<{ shard: number, row: number }>): Promise<Array<number | null>> {
    const lookup = this.#verifiedDownAt
    if (lookup === undefined || downRows.length === 0) return []
    const ids = await this.#store.caseIds(shards)
    const caseIds = downRows.map(d => ids[d.shard]?.[d.row] ?? '')
    const out: Array<number | null> = []
    for (let at = 0; at < caseIds.length; at += LOOKUP_CHUNK) out.push(...await lookup(caseIds.slice(at, at + LOOKUP_CHUNK)))
    return out
  }
}

/** the table's key of a target type over all its TLDs (null) or at one TLD id */
const keyOf = (type: TargetType, tld: number | null): string => `${type}|${tld ?? '*'}`

function nanToInf (n: number): number { return Number.isNaN(n) ? Number.POSITIVE_INFINITY : n }
