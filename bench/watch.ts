/**
 * The case-events watcher at size (`npm run bench:watch`): the four simulators seeded with N cases each (default
 * 25,000) over 400 days, a first gateway records them, then one replica watches while 25 random open cases per vendor
 * change status (bench/watch-scenario.ts, the scenario of test/events/open-set.test.ts). Printed per vendor: open
 * cases, vendor calls per sync (the simulators count them), change → event delay p50 / max in clock time, events per
 * changed case, and the cadence the watcher keeps at its share of the vendor's budget.
 *
 * The measuring replica runs without vendor budgets and the Cloudflare simulator without its rate limit: the clock is a
 * manual one, and a sync larger than its share would wait for room in real time while the clock stands still (the
 * first sync reads the mitigations of every report that has active ones). The cadence printed for the budget is the one the
 * watcher computes from the calls measured (`cadenceWithin`), the delays are those at the configured cadence.
 *
 * Options: --cases N (25000) --changes N per vendor (25) --span-days N (400) --budget N requests per 5 minutes for the
 * printed cadence (1200, Cloudflare's) --share PERCENT (20) --redis-url URL (default: a redis-server started on a free
 * loopback port without persistence, removed afterwards).
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { ManualClock } from '../src/clock.js'
import { loadConfig } from '../src/config.js'
import { RedisEventStore } from '../src/events/redis-store.js'
import { cadenceWithin } from '../src/events/watcher.js'
import { BullJobRunner } from '../src/jobs/bullmq.js'
import { PROVIDER_IDS, type ProviderId } from '../src/schemas/provider.js'
import { startSandbox, type Sandbox } from '../src/simulators/sandbox.js'
import { RedisKvStore } from '../src/store/redis-kv-store.js'
import { parseCli } from './cli.js'
import { startRedis } from './procs.js'
import { percentile, runWatchScenario } from './watch-scenario.js'

const USAGE = `  --cases N per vendor (25000) --changes N per vendor (25) --span-days N (400)
  --budget N requests per 5 minutes for the printed cadence (1200) --share PERCENT (20)
  --redis-url URL (default: a redis-server started on a free loopback port without persistence, removed afterwards)`

const args = parseCli('bench:watch', USAGE, {
  cases: { type: 'string', default: '25000' },
  changes: { type: 'string', default: '25' },
  'span-days': { type: 'string', default: '400' },
  budget: { type: 'string', default: '1200' },
  share: { type: 'string', default: '20' },
  'redis-url': { type: 'string' }
})
const CASES = Number(args.cases)
const DAY = 86_400_000
const WINDOW_MS = 5 * 60_000
/** watch interval per provider: 60 s (the default), PhishFort 120 s */
const CADENCE = Object.fromEntries(PROVIDER_IDS.map(id => [id, id === 'phishfort' ? 120_000 : 60_000])) as Record<ProviderId, number>
const KEY = 'bench-key-0123456789abcdef'

async function gateway (sandbox: Sandbox, clock: ManualClock, redisUrl: string, prefix: string): Promise<{ app: FastifyInstance, close: () => Promise<void> }> {
  const config = loadConfig({
    SANDBOX: 'true',
    GATEWAY_SECRET: 'bench-gateway-secret-0123456789',
    GATEWAY_API_KEYS: `bench:${KEY}:read`,
    LOG_LEVEL: 'silent',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    WATCH_ENABLED: 'false',
    WATCH_LOOKBACK_DAYS: '90',
    ...Object.fromEntries(PROVIDER_IDS.flatMap(id => [
      [`WATCH_${id.toUpperCase()}_INTERVAL_MS`, String(CADENCE[id])],
      [`${id.toUpperCase()}_OUTBOUND_BUDGET`, '0'],
      [`${id.toUpperCase()}_TIMEOUT_MS`, '30000']
    ]))
  })
  const log = pino({ level: 'silent' })
  const retention = { retentionMs: config.events.retentionMs, timelineRetentionMs: config.events.timelineRetentionMs }
  const store = new RedisKvStore(redisUrl, { keyPrefix: prefix })
  const eventStore = new RedisEventStore(redisUrl, { keyPrefix: prefix, clock, log, retention })
  await eventStore.waitReady()
  const jobs = new BullJobRunner(redisUrl, { redisKeyPrefix: prefix, log })
  const app = await buildApp({ config, clock, sandbox, store, logger: false, eventStore, jobs })
  await app.ready()
  return { app, close: async () => { await app.close(); await store.close(); await eventStore.close() } }
}

const redis = args['redis-url'] === undefined ? await startRedis() : null
const redisUrl = args['redis-url'] ?? redis?.url ?? ''
const clock = new ManualClock()
const prefix = `bench-watch-${randomUUID()}:`
console.log(`watcher over ${CASES} cases per vendor in ${args['span-days']} days; ${args.changes} changes per vendor`)
const seeded = performance.now()
const sandbox = await startSandbox(clock, { count: CASES, spanDays: Number(args['span-days']), flags: { 'rate-limit': 'off' } })
console.log(`simulators seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`)
try {
  const first = await gateway(sandbox, clock, redisUrl, prefix)
  for (const id of PROVIDER_IDS) {
    const t0 = performance.now()
    const r = await first.app.events.watcher.sync(id)
    console.log(`first sync ${id}: ${r.cases} cases, ${r.calls} calls, ${r.openCases} open, ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }
  const results = await runWatchScenario({
    replicas: [first.app],
    sandbox,
    clock,
    auth: { authorization: `Bearer ${KEY}` },
    changesPerVendor: Number(args.changes),
    seed: 7,
    lookbackMs: 90 * DAY,
    exclude: new Set()
  })
  const share = { limit: Math.floor(Number(args.budget) * Number(args.share) / 100), windowMs: WINDOW_MS }
  for (const id of PROVIDER_IDS) {
    const r = results[id]
    const calls = r.syncs.map(s => s.calls)
    const wall = r.syncs.map(s => s.report)
    const once = r.eventsPerChange.filter(n => n === 1).length
    console.log(`${id}: open ${wall.at(-1)?.openCases ?? '?'}, calls per sync ${Math.min(...calls)}–${Math.max(...calls)} over ${calls.length} syncs, ` +
      `change → event p50 ${percentile(r.delaysMs, 0.5) / 1000} s, max ${Math.max(...r.delaysMs) / 1000} s at ${CADENCE[id] / 1000} s, ` +
      `${once}/${r.changes} changes one event (${r.oldChanges} older than 90 days); ` +
      `cadence at ${share.limit} calls per 5 min: ${cadenceWithin(CADENCE[id], Math.max(...calls), share) / 1000} s`)
  }
  await first.close()
} finally {
  await sandbox.close()
  redis?.stop()
}
