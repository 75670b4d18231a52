/**
 * Analytics at size: N cases (default 1,000,000) recorded through the milestones recorder into Redis, then
 * GET /v1/analytics/takedowns grouped by provider and by provider and target type, timed through Fastify inject
 * (wall p50 / p99 and this process's CPU); and GET /v1/cases/export streamed over loopback from the seeded simulators
 * at two sizes, the replica's RSS sampled while it runs (constant memory: the peak does not grow with the size).
 */
import { Redis } from 'ioredis'
import type { ManualClock } from '../../src/clock.js'
import { MilestoneRecorder } from '../../src/features/reporting/milestones.js'
import { RedisMilestoneStore } from '../../src/features/reporting/redis-store.js'
import type { MilestoneStore } from '../../src/features/reporting/store.js'
import type { CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import { keys } from '../../src/store/keys.js'
import { TARGET_TYPES } from '../../src/schemas/common.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { Rng } from '../../src/simulators/random.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import { AUTH, cpuMs, fmt, gateway, percentile, type Row } from './env.js'
import { exportOnOwnGateway } from './export.js'

const DAY = 86_400_000
const FINALS = ['taken_down', 'taken_down', 'taken_down', 'failed', 'cancelled', 'closed', 'in_progress', 'received', 'mitigated'] as const

/** case i's one event: where it ended up, created in the year before `now` */
function event (rng: Rng, i: number, now: number): CaseChangeEvent {
  const created = now - Math.floor(rng.next() * 365 * DAY)
  const status = FINALS[i % FINALS.length]!
  const ttd = Math.floor(rng.next() * 10 * DAY)
  const provider = PROVIDER_IDS[i % PROVIDER_IDS.length]!
  return {
    type: 'case.created',
    occurredAt: status === 'received' ? null : new Date(Math.min(now, created + ttd)).toISOString(),
    observedAt: new Date(Math.min(now, created + ttd + 60_000)).toISOString(),
    observedVia: 'poll',
    case: { id: `${provider}:scale-${i}`, provider, status, createdAt: new Date(created).toISOString(), updatedAt: null, target: { type: TARGET_TYPES[i % TARGET_TYPES.length]!, publicSuffix: 'com' } },
    previous: null,
    sequence: 1
  }
}

/** cases whose rows are buffered before one bulk write */
const SEED_FLUSH = 50_000

/**
 * A milestone store for seeding cases none of which is stored yet: reads answer "none" without a round trip, and the
 * rows are buffered and written in bulk, per shard one HSET of the case ids' slots and one APPEND of their rows: the
 * layout the store's write script gives new cases (slot = the shard's row count so far, the row at slot × ROW_BYTES),
 * in a few round trips per 50,000 cases instead of one script call per case. Queries read it with the Redis store.
 */
class NewCasesStore implements MilestoneStore {
  readonly #pending = new Map<string, { ids: string[], rows: Buffer[] }>()
  readonly #slots = new Map<string, number>()
  buffered = 0
  constructor (readonly inner: MilestoneStore, readonly client: Redis) {}
  async read (): Promise<Buffer | null> { return null }
  async write (shard: string, caseId: string, expected: Buffer | null, row: Buffer): Promise<boolean> {
    if (expected !== null) throw new Error(`seeding: ${caseId} is not a new case`)
    let p = this.#pending.get(shard)
    if (p === undefined) this.#pending.set(shard, p = { ids: [], rows: [] })
    p.ids.push(caseId)
    p.rows.push(row)
    this.buffered++
    return true
  }

  /** writes the buffered rows */
  async flush (): Promise<void> {
    const pipe = this.client.pipeline()
    for (const [shard, p] of this.#pending) {
      const first = this.#slots.get(shard) ?? 0
      pipe.hset(keys.milestoneSlots(shard), Object.fromEntries(p.ids.map((id, i) => [id, String(first + i)])))
      pipe.append(keys.milestoneRows(shard), Buffer.concat(p.rows))
      if (first === 0) pipe.sadd(keys.milestoneShards(), shard)
      this.#slots.set(shard, first + p.ids.length)
    }
    this.#pending.clear()
    this.buffered = 0
    for (const [err] of await pipe.exec() ?? []) if (err !== null) throw err
  }

  async shards (): Promise<string[]> { return await this.inner.shards() }
  async rows (shards: readonly string[]): Promise<Buffer[]> { return await this.inner.rows(shards) }
  async nameTld (id: number, suffix: string): Promise<void> { await this.inner.nameTld(id, suffix) }
  async tlds (): Promise<Map<number, string>> { return await this.inner.tlds() }
  async caseIds (shards: readonly string[]): Promise<string[][]> { return await this.inner.caseIds(shards) }
}

/** records cases 0 … n-1 with the gateway's recorder (bulk writes: NewCasesStore) under `prefix` */
export async function seedMilestones (redisUrl: string, prefix: string, n: number, now: number): Promise<void> {
  const rng = new Rng(5)
  const client = new Redis(redisUrl, { keyPrefix: prefix })
  try {
    const store = new NewCasesStore(new RedisMilestoneStore(client), client)
    const recorder = new MilestoneRecorder(store)
    for (let i = 0; i < n; i++) {
      if (await recorder.record(event(rng, i, now)) !== 'recorded') throw new Error(`case ${i} was not recorded`)
      if (store.buffered >= SEED_FLUSH) await store.flush()
    }
    await store.flush()
  } finally {
    client.disconnect()
  }
}

const QUERIES = [
  { shape: '?groupBy=provider', targetMs: 500 },
  { shape: '?groupBy=provider,targetType', targetMs: 1000 }
]

export async function analyticsSection (o: { redisUrl: string, prefix: string, clock: ManualClock, sandbox: Sandbox, cases: number, queries: number, exportSizes: readonly number[], /** cases per vendor of the simulators the export reads */ exportCases: number }): Promise<Row[]> {
  // the vendor budgets off: a first walk of every Cloudflare report reads the mitigations of each (ADR 0028), far more
  // than Cloudflare's 1,200 calls per 5 minutes; the calls are counted and held against the budget in the table
  const noBudgets = Object.fromEntries(PROVIDER_IDS.map(id => [`${id.toUpperCase()}_OUTBOUND_BUDGET`, '0']))
  const gw = await gateway({ redisUrl: o.redisUrl, prefix: o.prefix, clock: o.clock, sandbox: o.sandbox, env: noBudgets })
  const rows: Row[] = []
  let exportSandbox: Sandbox | null = null
  try {
    const t0 = performance.now()
    // the gateway's own recorder code on a store of its own (same keys) that writes the new rows in bulk
    await seedMilestones(o.redisUrl, o.prefix, o.cases, o.clock.now())
    console.log(`  recorded ${fmt(o.cases)} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    for (const q of QUERIES) {
      const wall: number[] = []
      const cpu: number[] = []
      for (let i = 0; i < o.queries + 2; i++) {
        const w0 = performance.now()
        const c0 = cpuMs()
        const res = await gw.app.inject({ method: 'GET', url: `/v1/analytics/takedowns${q.shape}`, headers: AUTH })
        if (res.statusCode !== 200) throw new Error(`${q.shape}: ${res.statusCode} ${res.body}`)
        if (i < 2) continue
        wall.push(performance.now() - w0)
        cpu.push(cpuMs() - c0)
      }
      const p99 = percentile(wall, 0.99)
      rows.push({ section: 'analytics', metric: `${q.shape} at ${fmt(o.cases)} cases (${o.queries} queries)`, target: `p99 ≤ ${fmt(q.targetMs)} ms`, measured: `p50 ${fmt(percentile(wall, 0.5))} / p99 ${fmt(p99)} ms wall, CPU p50 ${fmt(percentile(cpu, 0.5))} ms`, met: p99 <= q.targetMs })
    }

    // the export from the simulators: the newest `size` cases, on a gateway process of its own (bench/scale/export.ts)
    // so the peak RSS is the gateway's, not this process's with the seeded simulators in it
    // the seeded simulators for the export only, started now: the queries above ran in a process without them (their
    // 125,000 cases and the garbage collections of that heap are no replica's), as the export's gateway does
    const t1 = performance.now()
    const sandbox = exportSandbox = await startSandbox(o.clock, { count: o.exportCases, spanDays: 400, flags: { 'rate-limit': 'off' } })
    const seeded = o.exportCases * PROVIDER_IDS.length
    console.log(`  simulators seeded with ${fmt(o.exportCases)} cases each for the export in ${((performance.now() - t1) / 1000).toFixed(1)} s`)
    const runs: string[] = []
    const rise: number[] = []
    let cloudflareCalls = 0
    for (const size of o.exportSizes) {
      // the simulators spread their cases evenly over the seeded span: `since` picks about `size` of them
      const spanMs = 400 * DAY
      const since = new Date(o.clock.now() - Math.min(1, size / seeded) * spanMs).toISOString()
      const r = await exportOnOwnGateway({ redisUrl: o.redisUrl, prefix: `${o.prefix}export-${size}:`, sandbox, since, env: noBudgets })
      const all = Object.values(r.calls).reduce((a, b) => a + b, 0)
      console.log(`  export of ${fmt(r.rows)} rows: ${r.seconds.toFixed(1)} s, gateway RSS ${fmt(r.rssReadyMb)} → peak ${fmt(r.rssPeakMb)} MB (VmHWM ${fmt(r.hwmMb)}), CPU ${fmt(r.cpuMs / Math.max(1, r.rows) * 1000)} µs per row, vendor calls ${JSON.stringify(r.calls)}`)
      runs.push(`${fmt(r.rows)} rows: peak ${fmt(r.rssPeakMb)} MB (+${fmt(r.rssPeakMb - r.rssReadyMb)} over ready) in ${r.seconds.toFixed(1)} s, ${fmt(r.cpuMs / Math.max(1, r.rows) * 1000)} µs CPU per row, ${fmt(all)} vendor calls (Cloudflare ${fmt(r.calls.cloudflare ?? 0)})`)
      rise.push(r.rssPeakMb - r.rssReadyMb)
      cloudflareCalls = r.calls.cloudflare ?? 0
    }
    const constant = rise.length < 2 || (rise.at(-1)! <= Math.max(rise[0]! * 1.5, rise[0]! + 20))
    rows.push({ section: 'analytics', metric: 'GET /v1/cases/export (ndjson), the gateway process\'s RSS while streaming', target: 'constant memory', measured: runs.join('; '), met: constant })
    const budget = PROVIDER_MODULES.cloudflare.budget
    rows.push({ section: 'analytics', metric: 'the largest export\'s Cloudflare calls, a first walk (budgets off in this replica)', target: `≤ ${fmt(budget.limit)} per ${budget.windowMs / 60_000} min (Cloudflare's budget)`, measured: `${fmt(cloudflareCalls)} calls`, met: cloudflareCalls <= budget.limit })
  } finally {
    await gw.close()
    await exportSandbox?.close()
  }
  return rows
}
