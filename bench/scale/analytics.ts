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
import { TARGET_TYPES } from '../../src/schemas/common.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { Rng } from '../../src/simulators/random.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
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

/** cases recorded at once while seeding */
const SEED_CONCURRENCY = 256

/** A milestone store for seeding cases none of which is stored yet: reads answer "none" without a round trip. */
class NewCasesStore implements MilestoneStore {
  constructor (readonly inner: MilestoneStore) {}
  async read (): Promise<Buffer | null> { return null }
  async write (shard: string, caseId: string, expected: Buffer | null, row: Buffer): Promise<boolean> { return await this.inner.write(shard, caseId, expected, row) }
  async shards (): Promise<string[]> { return await this.inner.shards() }
  async rows (shards: readonly string[]): Promise<Buffer[]> { return await this.inner.rows(shards) }
  async nameTld (id: number, suffix: string): Promise<void> { await this.inner.nameTld(id, suffix) }
  async tlds (): Promise<Map<number, string>> { return await this.inner.tlds() }
  async caseIds (shards: readonly string[]): Promise<string[][]> { return await this.inner.caseIds(shards) }
}

const QUERIES = [
  { shape: '?groupBy=provider', targetMs: 500 },
  { shape: '?groupBy=provider,targetType', targetMs: 1000 }
]

export async function analyticsSection (o: { redisUrl: string, prefix: string, clock: ManualClock, sandbox: Sandbox, cases: number, queries: number, exportSizes: readonly number[], seeded: number }): Promise<Row[]> {
  // the vendor budgets off: a first walk of every Cloudflare report reads the mitigations of each (ADR 0028), far more
  // than Cloudflare's 1,200 calls per 5 minutes; the calls are counted and held against the budget in the table
  const noBudgets = Object.fromEntries(PROVIDER_IDS.map(id => [`${id.toUpperCase()}_OUTBOUND_BUDGET`, '0']))
  const gw = await gateway({ redisUrl: o.redisUrl, prefix: o.prefix, clock: o.clock, sandbox: o.sandbox, env: noBudgets })
  const rows: Row[] = []
  try {
    const rng = new Rng(5)
    const now = o.clock.now()
    const t0 = performance.now()
    // the gateway's own recorder code on a store of its own (same keys): every seeded case is new, so its read before
    // each write is skipped, and the writes (the store's compare-and-set script) go out auto-pipelined
    const client = new Redis(o.redisUrl, { keyPrefix: o.prefix, enableAutoPipelining: true })
    const recorder = new MilestoneRecorder(new NewCasesStore(new RedisMilestoneStore(client)))
    let next = 0
    try {
      await Promise.all(Array.from({ length: SEED_CONCURRENCY }, async () => {
        while (next < o.cases) { const i = next++; if (await recorder.record(event(rng, i, now)) !== 'recorded') throw new Error(`case ${i} was not recorded`) }
      }))
    } finally {
      client.disconnect()
    }
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
    const runs: string[] = []
    const rise: number[] = []
    let cloudflareCalls = 0
    for (const size of o.exportSizes) {
      // the simulators spread their cases evenly over the seeded span: `since` picks about `size` of them
      const spanMs = 400 * DAY
      const since = new Date(o.clock.now() - Math.min(1, size / o.seeded) * spanMs).toISOString()
      const r = await exportOnOwnGateway({ redisUrl: o.redisUrl, prefix: `${o.prefix}export-${size}:`, sandbox: o.sandbox, since, env: noBudgets })
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
  }
  return rows
}
