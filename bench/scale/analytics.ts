/**
 * Analytics at size: N cases (default 1,000,000) recorded through the milestones recorder into Redis, then
 * GET /v1/analytics/takedowns grouped by provider and by provider and target type, timed through Fastify inject
 * (wall p50 / p99 and this process's CPU); and GET /v1/cases/export streamed over loopback from the seeded simulators
 * at two sizes, the replica's RSS sampled while it runs (constant memory: the peak does not grow with the size).
 */
import { request } from 'undici'
import type { ManualClock } from '../../src/clock.js'
import type { CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import { TARGET_TYPES } from '../../src/schemas/common.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { Rng } from '../../src/simulators/random.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { AUTH, cpuMs, fmt, gateway, percentile, rssMb, type Row } from './env.js'

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

const QUERIES = [
  { shape: '?groupBy=provider', targetMs: 500 },
  { shape: '?groupBy=provider,targetType', targetMs: 1000 }
]

export async function analyticsSection (o: { redisUrl: string, prefix: string, clock: ManualClock, sandbox: Sandbox, cases: number, queries: number, exportSizes: readonly number[], seeded: number }): Promise<Row[]> {
  // the vendor budgets off: a first walk of every Cloudflare report reads the mitigations of each (ADR 0028), far more
  // than Cloudflare's 1,200 calls per 5 minutes; the calls are counted and held against the budget in the table
  const gw = await gateway({ redisUrl: o.redisUrl, prefix: o.prefix, clock: o.clock, sandbox: o.sandbox, env: Object.fromEntries(PROVIDER_IDS.map(id => [`${id.toUpperCase()}_OUTBOUND_BUDGET`, '0'])) })
  const rows: Row[] = []
  try {
    const rng = new Rng(5)
    const now = o.clock.now()
    const t0 = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < o.cases) { const i = next++; await gw.app.milestones.record(event(rng, i, now)) }
    }))
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

    // the export from the simulators: the newest `size` cases, read as a client would (loopback, as fast as it can)
    await gw.app.listen({ port: 0, host: '127.0.0.1' })
    const origin = `http://127.0.0.1:${(gw.app.server.address() as { port: number }).port}`
    const peaks: string[] = []
    const lines: number[] = []
    const rise: number[] = []
    const cloudflareCalls: number[] = []
    for (const size of o.exportSizes) {
      // the simulators spread their cases evenly over the seeded span: `since` picks about `size` of them
      const spanMs = 400 * DAY
      const since = new Date(o.clock.now() - Math.min(1, size / o.seeded) * spanMs).toISOString()
      // with --expose-gc (npm run bench:scale gives it): the live heap before and after, what the export kept
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      const heapBefore = process.memoryUsage().heapUsed / 1024 / 1024
      const calls = Object.fromEntries(PROVIDER_IDS.map(id => [id, o.sandbox.running[id].sim.stats.total()]))
      const before = rssMb()
      let peak = before
      const sampler = setInterval(() => { peak = Math.max(peak, rssMb()) }, 50)
      const t0 = performance.now()
      const res = await request(`${origin}/v1/cases/export?format=ndjson&since=${encodeURIComponent(since)}`, { headers: AUTH, bodyTimeout: 600_000, headersTimeout: 600_000 })
      let n = 0
      for await (const chunk of res.body) for (const b of chunk as Buffer) if (b === 10) n++
      clearInterval(sampler)
      if (res.statusCode !== 200) throw new Error(`export: ${res.statusCode}`)
      const cf = o.sandbox.running.cloudflare.sim.stats.total() - calls.cloudflare!
      const all = PROVIDER_IDS.reduce((sum, id) => sum + o.sandbox.running[id].sim.stats.total() - calls[id]!, 0)
      gc?.()
      const kept = gc === undefined ? '' : `, live heap ${fmt(process.memoryUsage().heapUsed / 1024 / 1024 - heapBefore, 1)} MB after`
      peaks.push(`${fmt(n)} rows: peak ${fmt(peak)} MB (+${fmt(peak - before)}${kept}) in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${fmt(all)} vendor calls (Cloudflare ${fmt(cf)})`)
      cloudflareCalls.push(cf)
      lines.push(n)
      rise.push(peak - before)
    }
    const constant = rise.length < 2 || (rise.at(-1)! <= Math.max(rise[0]! * 1.5, rise[0]! + 20))
    rows.push({ section: 'analytics', metric: 'GET /v1/cases/export (ndjson), RSS while streaming', target: 'constant memory', measured: peaks.join('; '), met: constant })
    const budget = PROVIDER_MODULES.cloudflare.budget
    rows.push({ section: 'analytics', metric: 'the largest export\'s Cloudflare calls, a first walk (budgets off in this replica)', target: `≤ ${fmt(budget.limit)} per ${budget.windowMs / 60_000} min (Cloudflare's budget)`, measured: `${fmt(cloudflareCalls.at(-1) ?? 0)} calls`, met: (cloudflareCalls.at(-1) ?? 0) <= budget.limit })
  } finally {
    await gw.close()
  }
  return rows
}
