/**
 * Watcher at size: one replica follows every registered provider's simulator, seeded with N cases each, while a few
 * per cent of the open cases change status per simulated hour (the open-set scenario of bench/watch-scenario.ts on the
 * manual clock, each provider at its live cadence). Measured per vendor: vendor calls per full cycle against the
 * watcher's share of the vendor's budget, change → event delay p50 / p99 against cadence + 10 s, CPU per cycle.
 */
import type { ManualClock } from '../../src/clock.js'
import { cadenceWithin } from '../../src/events/watcher.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { runWatchScenario, type Sync } from '../watch-scenario.js'
import { AUTH, fmt, gateway, percentile, type Row } from './env.js'

const DAY = 86_400_000
const HOUR = 3_600_000
/** the watcher's share of a vendor budget (WATCH_BUDGET_SHARE_PERCENT's default) */
const SHARE_PERCENT = 20
const SLACK_MS = 10_000

export async function watcherSection (o: { redisUrl: string, prefix: string, clock: ManualClock, sandbox: Sandbox, cases: number, changePercentPerHour: number }): Promise<Row[]> {
  const cadence = Object.fromEntries(PROVIDER_IDS.map(id => [id, PROVIDER_MODULES[id].watchIntervalMs ?? 60_000]))
  // a few per cent of the cases per hour, each vendor's within one of its own cadence
  const changes = Object.fromEntries(PROVIDER_IDS.map(id => [id, Math.max(5, Math.round(o.cases * o.changePercentPerHour / 100 * cadence[id]! / HOUR))]))
  const gw = await gateway({
    redisUrl: o.redisUrl,
    prefix: o.prefix,
    clock: o.clock,
    sandbox: o.sandbox,
    // budgets off in the measuring replica (the manual clock stands still while a budget would wait in real time);
    // the calls are held against the share below
    env: { WATCH_LOOKBACK_DAYS: '90', ...Object.fromEntries(PROVIDER_IDS.flatMap(id => [[`WATCH_${id.toUpperCase()}_INTERVAL_MS`, String(cadence[id])], [`${id.toUpperCase()}_OUTBOUND_BUDGET`, '0']])) }
  })
  const rows: Row[] = []
  try {
    // the first syncs only bring the replica to the steady state the scenario measures (nothing of them is in the
    // table): one after another (at 25,000 cases each, all at once, their writes queued behind each other in Redis
    // past the event store's 1 s command timeout on a busy box); a sync that fails is run again, as the next tick would
    const s0 = performance.now()
    for (const id of PROVIDER_IDS) {
      const t0 = performance.now()
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await gw.app.events.watcher.sync(id)
          console.log(`  first sync ${id}: ${r.cases} cases, ${r.calls} calls, ${r.openCases} open, ${((performance.now() - t0) / 1000).toFixed(1)} s`)
          break
        } catch (err) {
          if (attempt >= 3) throw err
          console.log(`  first sync ${id} failed (${(err as Error).message}); again`)
        }
      }
    }
    console.log(`  first syncs of every provider: ${((performance.now() - s0) / 1000).toFixed(1)} s`)
    // the vendors' ticks side by side (each vendor has its own cadence and budget: they are independent), two per
    // vendor: the one that sees its changes and one more a cadence later
    const failed = Object.fromEntries(PROVIDER_IDS.map(id => [id, 0])) as Record<ProviderId, number>
    const s1 = performance.now()
    const results = await runWatchScenario({
      replicas: [gw.app],
      sandbox: o.sandbox,
      clock: o.clock,
      auth: AUTH,
      changesPerVendor: changes,
      seed: 11,
      lookbackMs: 90 * DAY,
      exclude: new Set(),
      ownCadence: true,
      onTickError: (id, err) => { failed[id]++; console.log(`  ${id}: a tick failed (${err.message}); the next one reads again`) }
    })
    console.log(`  scenario (ticks side by side): ${((performance.now() - s1) / 1000).toFixed(1)} s`)
    // CPU per cycle: side by side the ticks' CPU cannot be told apart, so one more cycle of each vendor runs alone,
    // one after another, a longest cadence later (nothing changes meanwhile: a steady cycle, as the scenario's second)
    const s2 = performance.now()
    o.clock.advance(Math.max(...Object.values(cadence)))
    const alone: Partial<Record<ProviderId, Sync>> = {}
    for (const id of PROVIDER_IDS) {
      const stats = o.sandbox.running[id].sim.stats
      const before = stats.total()
      const cpu0 = process.cpuUsage()
      const report = await gw.app.events.watcher.tick(id).catch((err: Error) => { console.log(`  ${id}: the cycle alone failed (${err.message})`); return null })
      const used = process.cpuUsage(cpu0)
      if (report !== null) alone[id] = { provider: id, at: o.clock.now(), calls: stats.total() - before, report, cpuMs: (used.user + used.system) / 1000 }
    }
    console.log(`  one cycle of each vendor alone: ${((performance.now() - s2) / 1000).toFixed(1)} s`)
    for (const id of PROVIDER_IDS) {
      const r = results[id]
      const a = alone[id]
      const calls = Math.max(...r.syncs.map(s => s.calls), a?.calls ?? 0)
      const budget = PROVIDER_MODULES[id].budget
      const share = budget.limit === 0 ? null : { limit: Math.max(1, Math.floor(budget.limit * SHARE_PERCENT / 100)), windowMs: budget.windowMs }
      const perWindow = share === null ? null : Math.ceil(share.windowMs / cadence[id]!) * calls
      const kept = share === null ? cadence[id]! : cadenceWithin(cadence[id]!, calls, share)
      const p99 = percentile(r.delaysMs, 0.99)
      const seen = r.eventsPerChange.filter(n => n >= 1).length
      rows.push({
        section: 'watcher',
        metric: `${id}: calls per cycle (${r.syncs.at(-1)?.report.openCases ?? '?'} open)`,
        target: share === null ? 'no vendor budget' : `≤ ${share.limit} per ${share.windowMs / 60_000} min`,
        measured: share === null ? `${calls} per ${cadence[id]! / 1000} s` : `${calls} per cycle, ${perWindow} per window${kept > cadence[id]! ? `, cadence stretched to ${kept / 1000} s` : ''}`,
        met: share === null ? null : perWindow! <= share.limit
      })
      rows.push({
        section: 'watcher',
        metric: `${id}: change → event p50 / p99 (${seen}/${r.changes} seen${failed[id] > 0 ? `; ${failed[id]} ticks failed` : ''})`,
        // measured at the configured cadence (the replica's budgets are off); the calls row says whether it fits
        target: `p99 ≤ ${(cadence[id]! + SLACK_MS) / 1000} s`,
        measured: `${fmt(percentile(r.delaysMs, 0.5) / 1000)} / ${fmt(p99 / 1000)} s`,
        met: seen === r.changes && p99 <= cadence[id]! + SLACK_MS
      })
      rows.push({
        section: 'watcher',
        metric: `${id}: CPU per cycle (gateway + simulator, a cycle run alone)`,
        target: '',
        measured: a === undefined ? 'n/a (the tick was skipped or failed)' : `${fmt(a.cpuMs)} ms, ${fmt(a.calls)} calls`,
        met: null
      })
    }
  } finally {
    await gw.close()
  }
  return rows
}
