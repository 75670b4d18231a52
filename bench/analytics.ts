/**
 * Takedown analytics at size (`npm run bench:analytics`): records N cases (default 100,000) through the milestones
 * recorder into the memory store and into Redis, then times GET /v1/analytics/takedowns queries (the report the
 * route answers, through Fastify inject, serialisation included) and prints p50 / p99 / max per store and query, in
 * wall time and in this process's CPU time (the machine may be shared: CPU time says what the query itself costs).
 *
 * Options: USAGE below (`npm run bench:analytics -- --help`).
 */
import { cpus } from 'node:os'
import { Redis } from 'ioredis'
import { buildApp } from '../src/app.js'
import { ManualClock } from '../src/clock.js'
import { loadConfig } from '../src/config.js'
import type { CaseChangeEvent } from '../src/features/reporting/milestones.js'
import { TARGET_TYPES } from '../src/schemas/common.js'
import { PROVIDER_IDS } from '../src/schemas/provider.js'
import { RedisKvStore } from '../src/store/redis-kv-store.js'
import { MemoryKvStore } from '../src/store/memory-kv-store.js'
import { Rng } from '../src/simulators/random.js'
import { parseCli } from './cli.js'
import { startRedis } from './procs.js'

const USAGE = `  --cases N (100000) --queries N per query shape (200)
  --redis-url URL (default: a redis-server started on a free loopback port without persistence, removed afterwards)`

const args = parseCli('bench:analytics', USAGE, {
  cases: { type: 'string', default: '100000' },
  queries: { type: 'string', default: '200' },
  'redis-url': { type: 'string' }
})
const CASES = Number(args.cases)
const QUERIES = Number(args.queries)
const NOW = Date.parse('2026-11-01T00:00:00.000Z')
const DAY = 86_400_000
const KEY = 'bench-analytics-key-0123'

/** one event per case carrying where it ended up, spread over the year before NOW */
function events (): CaseChangeEvent[] {
  const rng = new Rng(7)
  const out: CaseChangeEvent[] = []
  const finals = ['taken_down', 'taken_down', 'taken_down', 'failed', 'cancelled', 'closed', 'in_progress', 'received', 'mitigated'] as const
  for (let i = 0; i < CASES; i++) {
    const created = NOW - Math.floor(rng.next() * 365 * DAY)
    const status = finals[i % finals.length]!
    const ttd = Math.floor(rng.next() * 10 * DAY)
    out.push({
      type: 'case.created',
      occurredAt: status === 'received' ? null : new Date(Math.min(NOW, created + ttd)).toISOString(),
      observedAt: new Date(Math.min(NOW, created + ttd + 60_000)).toISOString(),
      observedVia: 'poll',
      case: {
        id: `${PROVIDER_IDS[i % PROVIDER_IDS.length]!}:bench-${i}`,
        provider: PROVIDER_IDS[i % PROVIDER_IDS.length]!,
        status,
        createdAt: new Date(created).toISOString(),
        updatedAt: null,
        target: { type: TARGET_TYPES[Math.floor(rng.next() * TARGET_TYPES.length)]!, publicSuffix: SUFFIXES[Math.floor(rng.next() * SUFFIXES.length)]! }
      },
      previous: null,
      sequence: 1
    })
  }
  return out
}

/** public suffixes the cases spread over (groupBy=tld): 40 of them, `null` for the targets without one */
const SUFFIXES: Array<string | null> = [null, 'com', 'net', 'org', 'io', 'co.uk', 'github.io', 'de', 'ru', 'cn', 'top', 'xyz', 'info', 'shop',
  'online', 'site', 'app', 'dev', 'fr', 'nl', 'br', 'com.br', 'in', 'co', 'me', 'us', 'ca', 'au', 'com.au', 'jp', 'co.jp', 'pl', 'it',
  'es', 'vercel.app', 'pages.dev', 'web.app', 'blogspot.com', 'icu', 'live']

const SHAPES = [
  '?groupBy=provider',
  '?groupBy=provider,tld',
  '?groupBy=provider,registrar',
  '?groupBy=hostingNetwork',
  '?groupBy=provider,targetType,month',
  '?from=2026-08-01T00:00:00Z&to=2026-11-01T00:00:00Z&groupBy=month',
  '?provider=cloudflare&targetType=url'
]

function pct (sorted: number[], p: number): number { return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN }

async function run (kind: 'memory' | 'redis', redisUrl: string | null): Promise<void> {
  const clock = new ManualClock(NOW)
  const store = kind === 'redis' ? new RedisKvStore(redisUrl!, { keyPrefix: `bench-analytics-${process.pid}:`, commandTimeout: 5000 }) : new MemoryKvStore(clock)
  const app = await buildApp({
    config: loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'bench-analytics-secret-0123456789', GATEWAY_API_KEYS: `b:${KEY}:read`, LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0' }),
    clock,
    store,
    logger: false
  })
  await app.ready()
  try {
    const all = events()
    const started = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < all.length) await app.milestones.record(all[next++]!)
    }))
    const recordMs = performance.now() - started
    // three cases in four have RDAP facts recorded (30 registrars, 20 networks); the rest group as unknown
    await Promise.all(all.filter((_, i) => i % 4 !== 0).map(async (e, i) => {
      await app.caseEnrichment.record(e.case.id, { registrar: `Registrar ${i % 30}`, hostingNetwork: `NET-${i % 20}` })
    }))
    const bytes = kind === 'redis' ? await rowBytes(store as RedisKvStore) : null
    console.log(`${kind}: recorded ${CASES} cases in ${(recordMs / 1000).toFixed(1)} s (${Math.round(CASES / (recordMs / 1000))}/s, 32 at a time)` +
      (bytes === null ? '' : `; ${(bytes / 1024 / 1024).toFixed(1)} MB of rows in Redis`))
    for (const shape of SHAPES) {
      const times: number[] = []
      const cpu: number[] = []
      let groups = 0
      for (let i = 0; i < QUERIES + 3; i++) {
        const t0 = performance.now()
        const c0 = process.cpuUsage()
        const res = await app.inject({ method: 'GET', url: `/v1/analytics/takedowns${shape}`, headers: { authorization: `Bearer ${KEY}` } })
        const c1 = process.cpuUsage(c0)
        const ms = performance.now() - t0
        if (res.statusCode !== 200) throw new Error(`${shape}: ${res.statusCode} ${res.body}`)
        groups = (res.json() as { groups: unknown[] }).groups.length
        if (i < 3) continue // the first three warm the JIT
        times.push(ms)
        cpu.push((c1.user + c1.system) / 1000)
      }
      times.sort((a, b) => a - b)
      cpu.sort((a, b) => a - b)
      console.log(`  ${shape.padEnd(68)} ${String(groups).padStart(3)} groups  wall p50 ${pct(times, 0.5).toFixed(1)} p99 ${pct(times, 0.99).toFixed(1)} max ${times[times.length - 1]!.toFixed(1)} ms` +
        `  cpu p50 ${pct(cpu, 0.5).toFixed(1)} p99 ${pct(cpu, 0.99).toFixed(1)} ms`)
    }
  } finally {
    await app.close()
    if (kind === 'redis') {
      const c = (store as RedisKvStore).client
      // only this run's keys: ioredis does not prefix a KEYS pattern, but does prefix DEL's keys
      const prefix = `bench-analytics-${process.pid}:`
      const doomed = await c.keys(`${prefix}*`)
      if (doomed.length > 0) await (c as Redis).del(...doomed.map(k => k.slice(prefix.length)))
    }
    await store.close()
  }
}

async function rowBytes (store: RedisKvStore): Promise<number> {
  const c = store.client as Redis
  const shards = await c.smembers('tgw:v1:ms:shards')
  const lens = await Promise.all(shards.map(async s => await c.strlen(`tgw:v1:ms:{${s}}:rows`)))
  return lens.reduce((a, b) => a + b, 0)
}

const redis = args['redis-url'] === undefined ? await startRedis() : null
const redisUrl = args['redis-url'] ?? redis?.url ?? ''
console.log(`takedown analytics over ${CASES} cases, ${QUERIES} queries per shape; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`)
try {
  await run('memory', null)
  await run('redis', redisUrl)
} finally {
  redis?.stop()
}
