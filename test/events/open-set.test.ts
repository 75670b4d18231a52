/**
 * The watcher follows every open case, however old. The simulators hold 1,500 cases per vendor created over 400 days
 * (about half of them open, most older than the 90-day look-back window); a first gateway records them (its vendor
 * budgets off, so the first look is not paced), then gateways with the vendor budgets on (Cloudflare's own, 1,200
 * requests per 5 minutes; the same for the others) and the watcher's 20 % share watch while 25 random open cases per
 * vendor change status at the vendor: with one replica, then with two sharing Redis. Each change must be one event
 * within the vendor's cadence plus 10 s of clock time, and each sync's vendor calls (the simulators count them) must fit
 * in the share for its cadence.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { percentile, runWatchScenario, type VendorResult } from '../../bench/watch-scenario.js'
import { ManualClock } from '../../src/clock.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const CASES = 1500
const DAY = 86_400_000
const LOOKBACK_MS = 90 * DAY
const BUDGET = { limit: 1200, windowMs: 5 * 60_000 }
const SHARE = 0.2
/** watch interval per provider: 60 s (the default), PhishFort 120 s */
const CADENCE = Object.fromEntries(PROVIDER_IDS.map(id => [id, id === 'phishfort' ? 120_000 : 60_000])) as Record<ProviderId, number>

/** the most syncs at one cadence that the outbound budget's sliding-window estimate counts at once */
const syncsPerWindow = (cadenceMs: number): number => Math.ceil(BUDGET.windowMs / cadenceMs) + 1

const watchEnv = (budget: number): Record<string, string> => ({
  WATCH_LOOKBACK_DAYS: '90',
  WATCH_BUDGET_SHARE_PERCENT: String(SHARE * 100),
  ...Object.fromEntries(PROVIDER_IDS.flatMap(id => [
    [`WATCH_${id.toUpperCase()}_INTERVAL_MS`, String(CADENCE[id])],
    [`${id.toUpperCase()}_OUTBOUND_BUDGET`, String(budget)],
    [`${id.toUpperCase()}_OUTBOUND_WINDOW_MS`, String(BUDGET.windowMs)]
  ]))
})

describe('watching the open set at 1,500 cases per vendor over 400 days', () => {
  const clock = new ManualClock()
  const prefix = `t-${randomUUID()}:`
  const changed = new Set<string>()
  let sandbox: Sandbox
  const gateways: TestGateway[] = []

  const replica = async (): Promise<TestGateway> => {
    const gw = await testGateway({ sandbox, clock, store: 'redis', redisPrefix: prefix, env: watchEnv(BUDGET.limit) })
    gateways.push(gw)
    return gw
  }

  beforeAll(async () => {
    sandbox = await startSandbox(clock, { count: CASES, spanDays: 400 })
    const first = await testGateway({ sandbox, clock, store: 'redis', redisPrefix: prefix, env: watchEnv(0) })
    try {
      for (const id of PROVIDER_IDS) await first.app.events.watcher.sync(id)
    } finally {
      await first.close()
    }
  }, 180_000)
  afterAll(async () => {
    for (const gw of gateways) await gw.close()
    await sandbox?.close()
  })

  const check = (results: Record<ProviderId, VendorResult>, label: string): void => {
    for (const id of PROVIDER_IDS) {
      const r = results[id]
      const effective = Math.max(CADENCE[id], ...r.syncs.map(s => s.report.intervalMs))
      const allowance = Math.floor(BUDGET.limit * SHARE / syncsPerWindow(effective))
      const calls = r.syncs.map(s => s.calls)
      console.log(`${label} ${id}: ${r.changes} changes (${r.oldChanges} older than 90 days), open ${r.syncs.at(-1)?.report.openCases ?? '?'}, ` +
        `calls per sync ${Math.min(...calls)}–${Math.max(...calls)} (allowance ${allowance} at ${effective / 1000} s), ` +
        `change → event p50 ${percentile(r.delaysMs, 0.5) / 1000} s, max ${Math.max(...r.delaysMs) / 1000} s`)
      expect(r.changes).toBe(25)
      // old and new alike: most open cases are older than the look-back window
      expect(r.oldChanges).toBeGreaterThan(0)
      expect(r.eventsPerChange, `${id}: events per changed case`).toEqual(r.eventsPerChange.map(() => 1))
      for (const d of r.delaysMs) expect(d, `${id}: change → event`).toBeLessThanOrEqual(effective + 10_000)
      for (const s of r.syncs) {
        // what the simulator counted is what the watcher counted, and it fits in the share for the cadence kept
        expect(s.calls).toBe(s.report.calls)
        expect(s.calls, `${id} sync at ${s.at / 1000} s`).toBeLessThanOrEqual(allowance)
      }
      expect(r.syncs.length).toBeGreaterThan(0)
    }
  }

  it('one replica: every change is one event within the cadence plus 10 s, each sync within the budget share', async () => {
    const gw = await replica()
    const results = await runWatchScenario({
      replicas: [gw.app], sandbox, clock, auth: auth(), changesPerVendor: 25, seed: 11, lookbackMs: LOOKBACK_MS, exclude: changed
    })
    check(results, '1 replica')
    // Cloudflare at its real budget: the open set is most of its 1,500 reports, one sync stays within 20 % of 1,200 / 5 min
    const cf = results.cloudflare.syncs.at(-1)?.report
    expect(cf?.openCases).toBeGreaterThan(CASES / 2)
    const res = await gw.app.inject({ method: 'GET', url: '/v1/providers', headers: auth() })
    const info = res.json<{ items: Array<{ id: string, watch: { effectiveIntervalSeconds: number, openCases: number, syncCalls: number } | null }> }>()
      .items.find(p => p.id === 'cloudflare')
    expect(info?.watch).toMatchObject({ effectiveIntervalSeconds: 60, openCases: cf?.openCases, syncCalls: cf?.calls })
  }, 300_000)

  it('two replicas taking turns: every change is still one event, in time, within the share', async () => {
    const a = gateways[0] ?? await replica()
    const b = await replica()
    const results = await runWatchScenario({
      replicas: [a.app, b.app], sandbox, clock, auth: auth(), changesPerVendor: 25, seed: 23, lookbackMs: LOOKBACK_MS, exclude: changed
    })
    check(results, '2 replicas')
  }, 300_000)

  it('a sync that costs more than the share allows at the cadence stretches it: skipped ticks, one log line, shown in /metrics and /v1/providers', async () => {
    // a fresh budget window, and a Cloudflare share of 40 calls per 5 minutes: a sync of 16 calls or more fits every 2 minutes or less often
    clock.advance(2 * BUDGET.windowMs)
    const lines: Array<Record<string, unknown>> = []
    const gw = await testGateway({
      sandbox,
      clock,
      store: 'redis',
      redisPrefix: prefix,
      env: { ...watchEnv(BUDGET.limit), CLOUDFLARE_OUTBOUND_BUDGET: '200' },
      logger: { level: 'warn', stream: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>) } } }
    })
    gateways.push(gw)
    const watcher = gw.app.events.watcher
    const stretchLogs = (): unknown[] => lines.filter(l => String(l.msg).includes('syncs run less often'))
    const first = await watcher.tick('cloudflare')
    // the fewest whole ticks such that the syncs the budget's sliding window can count at once fit in the share
    let effective = CADENCE.cloudflare
    while (syncsPerWindow(effective) * (first?.calls ?? 0) > 40) effective += CADENCE.cloudflare
    expect(effective).toBeGreaterThan(CADENCE.cloudflare)
    expect(first?.intervalMs).toBe(effective)
    expect(stretchLogs()).toHaveLength(1)
    expect(stretchLogs()[0]).toMatchObject({ provider: 'cloudflare', effectiveIntervalMs: effective, intervalMs: CADENCE.cloudflare })

    const ran: number[] = []
    for (let t = CADENCE.cloudflare; t <= 2 * effective; t += CADENCE.cloudflare) {
      clock.advance(CADENCE.cloudflare)
      if (await watcher.tick('cloudflare') !== null) ran.push(t)
    }
    // the ticks in between are skipped; the cadence is logged once, not at every sync
    expect(ran).toEqual([effective, 2 * effective])
    expect(stretchLogs()).toHaveLength(1)

    const metrics = (await gw.app.inject({ method: 'GET', url: '/metrics', headers: auth() })).body
    expect(metrics).toContain(`takedown_gateway_watch_interval_seconds{provider="cloudflare"} ${effective / 1000}`)
    expect(metrics).toMatch(/takedown_gateway_watch_open_cases\{provider="cloudflare"\} \d{3,}/)
    const res = await gw.app.inject({ method: 'GET', url: '/v1/providers', headers: auth() })
    const cf = res.json<{ items: Array<{ id: string, watch: unknown }> }>().items.find(p => p.id === 'cloudflare')
    expect(cf?.watch).toMatchObject({ intervalSeconds: 60, effectiveIntervalSeconds: effective / 1000 })
  }, 120_000)
})
