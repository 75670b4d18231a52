/**
 * The gateway's CPU per merged listing, whole path: the built gateway from `--dist` in this process (live mode, the
 * bench's settings, the watcher off), the light simulators in a process of their own, `GET /v1/cases?limit=50`
 * injected one after the other (`app.inject`: routing, auth, validation, the vendor calls over loopback, parsing,
 * the connectors' rows, the merge, the 50 cases, the views, the cursor, serialisation; no client socket). Only this
 * process's CPU is counted, so the simulators' share of the cores does not enter it, unlike `cpu µs/req` of the full
 * bench, which a loaded machine inflates by a factor of 2-5.
 *
 *   npm run build && tsx bench/listing-live-cpu.ts [--dist dist] [--listings 1000] [--rounds 5] [--providers bforeai,phishfort,cloudflare] > /dev/null
 *
 * Prints CPU µs per listing per round (process.cpuUsage around the listings, after a warm-up), the lowest and the
 * median. Compare two builds (`--dist` a copy of an earlier dist/) by running them one after the other, A, B, A, B.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { parseCli } from './cli.js'
import { BENCH_KEY as KEY, inProcessGatewayEnv, startLightSimulators } from './in-process.js'
import { stopAll } from './procs.js'

const USAGE = '  --dist DIR        the build to measure (dist)\n  --listings N      listings per round (1000)\n  --rounds N        rounds (5)\n' +
  '  --providers LIST  the `provider` parameter (default: every live provider)'
const args = parseCli('listing-live-cpu', USAGE, {
  dist: { type: 'string', default: 'dist' },
  listings: { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '5' },
  providers: { type: 'string', default: '' }
})
const ROOT = resolve(import.meta.dirname, '..')
const DIST = resolve(ROOT, args.dist)
const N = Number(args.listings)
const sims = startLightSimulators(DIST, ROOT)
try {
  const simulators = await sims.env
  const load = async <T>(file: string): Promise<T> => await import(pathToFileURL(join(DIST, file)).href) as T
  const { PROVIDER_MODULES } = await load<{ PROVIDER_MODULES: Record<string, { id: string, budget: { limit: number } }> }>('providers/registry.js')
  // the bench's gateway settings (bench/run.ts), the watcher and load shedding off: only requests run; a vendor with an
  // outbound budget gets one it never spends (still counted), as the simulators' own budgets are off
  Object.assign(process.env, inProcessGatewayEnv(simulators), {
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...Object.fromEntries(Object.values(PROVIDER_MODULES).filter(m => m.budget.limit > 0).map(m => [`${m.id.toUpperCase()}_OUTBOUND_BUDGET`, '10000000']))
  })
  const { loadConfig } = await load<{ loadConfig: () => unknown }>('config.js')
  const { buildApp } = await load<{ buildApp: (o: unknown) => Promise<FastifyInstance> }>('app.js')
  const { createLogger } = await load<{ createLogger: (level: string) => unknown }>('logger.js')
  const app = await buildApp({ config: loadConfig(), loggerInstance: createLogger('info') })
  await app.ready()
  const headers = { authorization: `Bearer ${KEY}` }
  const url = `/v1/cases?limit=50${args.providers === '' ? '' : `&provider=${args.providers}`}`
  let vendors = 0
  const one = async (): Promise<void> => {
    const res = await app.inject({ method: 'GET', url, headers })
    const page = res.json() as { items: Array<{ provider: string }>, partial: boolean }
    if (res.statusCode !== 200 || page.items.length !== 50 || page.partial) throw new Error(`HTTP ${res.statusCode}, ${String(page.items.length)} cases, partial ${String(page.partial)}: ${JSON.stringify((page as { errors?: unknown }).errors ?? res.body.slice(0, 300))}`)
    vendors = Math.max(vendors, new Set(page.items.map(c => c.provider)).size)
  }
  for (let i = 0; i < 300; i++) await one() // warm: caches filled, code compiled
  // collections during the rounds: young-generation scavenges track the bytes a listing allocates, which the load on
  // the machine does not change the way it changes CPU time
  const gcs = { minor: 0, major: 0 }
  const observer = new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++
      else gcs.major++
    }
  })
  const perRound: number[] = []
  observer.observe({ entryTypes: ['gc'] })
  for (let r = 0; r < Number(args.rounds); r++) {
    const before = process.cpuUsage()
    for (let i = 0; i < N; i++) await one()
    const used = process.cpuUsage(before)
    perRound.push((used.user + used.system) / N)
  }
  observer.disconnect()
  await app.close()
  const sorted = [...perRound].sort((a, b) => a - b)
  process.stderr.write(`${args.dist}: ${url}, ${vendors} providers among the cases answered, ${N} listings per round; gateway CPU µs per listing: ` +
    `${perRound.map(x => x.toFixed(0)).join(' / ')}; min ${sorted[0]!.toFixed(0)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)}; ` +
    `collections per 1,000 listings: ${(gcs.minor * 1000 / (N * perRound.length)).toFixed(1)} scavenges, ${(gcs.major * 1000 / (N * perRound.length)).toFixed(1)} others\n`)
} finally {
  await stopAll()
}
process.exit(0)
