/**
 * The watcher's share of the Cloudflare budget over a full sync of 1,000 reports. Real time, with the budget scaled
 * down (500 requests per 2 s instead of 1,200 per 5 min; the watcher's 20 % is 100 per window), so the first sync,
 * which needs far more than 100 calls, has to pace itself; the simulator records when each call arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { systemClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import { MemoryKvStore } from '../../src/store/memory-kv-store.js'

const WINDOW_MS = 2000
const SHARE = 100
/** mitigation reads run four at a time: calls granted at the end of one window may arrive at the start of the next */
const IN_FLIGHT = 4

describe('watcher budget share', () => {
  let sandbox: Sandbox
  let app: FastifyInstance

  beforeAll(async () => {
    sandbox = await startSandbox(systemClock, { count: 1000 })
    const config = loadConfig({
      SANDBOX: 'true',
      GATEWAY_SECRET: 'x'.repeat(32),
      LOG_LEVEL: 'silent',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      WATCH_ENABLED: 'false',
      WATCH_LOOKBACK_DAYS: '3650',
      CLOUDFLARE_OUTBOUND_BUDGET: '500',
      CLOUDFLARE_OUTBOUND_WINDOW_MS: String(WINDOW_MS),
      WATCH_BUDGET_SHARE_PERCENT: '20'
    })
    app = await buildApp({ config, clock: systemClock, sandbox, store: new MemoryKvStore(systemClock), logger: false })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await sandbox.close()
  })

  it('a full Cloudflare sync over 1,000 reports never sends more than the watcher\'s share in a budget window', async () => {
    const stats = sandbox.running.cloudflare.sim.stats
    stats.reset()
    const report = await app.events.watcher.sync('cloudflare')
    expect(report.cases).toBe(1000)
    const calls = stats.times.length
    // the first look reads the active mitigations of every report that has some: far over one window's share
    expect(calls).toBeGreaterThan(2 * SHARE)
    const perWindow = new Map<number, number>()
    for (const t of stats.times) perWindow.set(Math.floor(t / WINDOW_MS), (perWindow.get(Math.floor(t / WINDOW_MS)) ?? 0) + 1)
    console.log(`cloudflare first sync: ${calls} calls over ${perWindow.size} windows of ${WINDOW_MS} ms, at most ${Math.max(...perWindow.values())} in one`)
    for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(SHARE + IN_FLIGHT)
    expect(perWindow.size).toBeGreaterThanOrEqual(Math.ceil(calls / SHARE))
    // nothing the vendor refused
    expect([...stats.counts.keys()].every(k => k.startsWith('GET '))).toBe(true)

    // the next sync of unchanged reports costs one list call per 100 reports
    stats.reset()
    await app.events.watcher.sync('cloudflare')
    expect(stats.total()).toBe(10)
  }, 60_000)
})
