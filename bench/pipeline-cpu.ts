/**
 * The gateway's CPU per request of a reference hit and a case read, in process, for A/B and ablation runs: every
 * variant (a build, with extra environment variables if given) is built as an app in this one process (live mode
 * against the light simulators, the bench's settings, `LOG_LEVEL=info` to stdout: send it to /dev/null) and warmed up;
 * then the variants take turns: `--block` requests injected into one (`app.inject`, `--concurrency` in flight), the
 * process's user+system CPU over them read, then the next variant, for `--turns` turns. Adjacent turns see the same
 * load from the rest of the machine, so the printed difference from the first variant is the mean of the per-turn
 * differences, with twice its standard error. No sockets between client and gateway (inject builds the request and
 * response objects itself, the same for every variant): the figure is the gateway's pipeline (Fastify, hooks, auth,
 * rate limit, logging, metrics, the route, serialisation) and, for the case read, the vendor call over undici.
 * Variants that share a build share its modules: a switch read when a module loads needs a copy of the build.
 * Resolution: on a 2-core box at load average 8-13, two identical variants differed by -12 ± 38 µs per reference hit
 * and +7 ± 48 µs per case read (16 turns of 2,000 / 500): it finds parts of tens of µs there, not single µs.
 *
 *   npm run build && npm run bench:pipeline -- --variant before=bench/results/dist-before --variant after=dist > /dev/null
 *   npm run bench:pipeline -- --variant a=dist --variant b=bench/results/dist-copy:RATE_LIMIT_MAX=0 > /dev/null
 *
 * A build must sit inside a checkout with node_modules (its imports resolve from there).
 */
import { cpuUsage } from 'node:process'
import { setImmediate, setTimeout as sleep } from 'node:timers/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { parseCli, usageError } from './cli.js'
import { BENCH_KEY as KEY, inProcessGatewayEnv, startLightSimulators } from './in-process.js'
import { stopAll } from './procs.js'

const USAGE = [
  '  --variant NAME=DIR[:K=V,K=V]  a build to measure, with extra environment variables (repeatable; default all=dist)',
  '  --turns N                     turns per variant and scenario (40)',
  '  --block N                     reference hits per turn (1000); case reads are a quarter of it',
  '  --concurrency N               requests in flight (10)',
  '  --scenarios LIST              reference,get (both)'
].join('\n')
const args = parseCli('bench:pipeline', USAGE, {
  variant: { type: 'string', multiple: true, default: ['all=dist'] },
  turns: { type: 'string', default: '40' },
  block: { type: 'string', default: '1000' },
  concurrency: { type: 'string', default: '10' },
  scenarios: { type: 'string', default: 'reference,get' }
})
const ROOT = resolve(import.meta.dirname, '..')
const BLOCK = Number(args.block)
const TURNS = Number(args.turns)
const CONCURRENCY = Number(args.concurrency)
const SCENARIOS = args.scenarios.split(',')

interface Variant { name: string, dist: string, env: Record<string, string> }

function parseVariant (text: string): Variant {
  const m = /^([\w.-]+)=([^:]+)(?::(.*))?$/.exec(text)
  if (m === null) usageError('bench:pipeline', USAGE, `--variant ${text}: expected NAME=DIR[:K=V,K=V]`)
  const env = Object.fromEntries((m[3] ?? '').split(',').filter(s => s !== '').map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  return { name: m[1] as string, dist: resolve(ROOT, m[2] as string), env }
}

interface Built { v: Variant, app: FastifyInstance, urls: Record<string, string> }

async function build (v: Variant, base: Record<string, string | undefined>): Promise<Built> {
  const saved = { ...process.env }
  Object.assign(process.env, base, v.env)
  try {
    const load = async <T>(file: string): Promise<T> => await import(pathToFileURL(join(v.dist, file)).href) as T
    const { loadConfig } = await load<{ loadConfig: () => unknown }>('config.js')
    const { buildApp } = await load<{ buildApp: (o: unknown) => Promise<FastifyInstance> }>('app.js')
    const { createLogger } = await load<{ createLogger: (level: string) => unknown }>('logger.js')
    const app = await buildApp({ config: loadConfig(), loggerInstance: createLogger('info') })
    await app.ready()
    const first = await app.inject({ method: 'GET', url: '/v1/cases?limit=1&provider=phishfort', headers: HEADERS })
    const id = (first.json() as { items: Array<{ id: string }> }).items[0]?.id ?? ''
    return { v, app, urls: { reference: '/v1/reference/statuses', get: `/v1/cases/${encodeURIComponent(id)}` } }
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k)
    Object.assign(process.env, saved)
  }
}

const HEADERS = { authorization: `Bearer ${KEY}` }

/** `n` requests to `url`, `CONCURRENCY` in flight; the CPU µs they took, per request */
async function block (app: FastifyInstance, url: string, n: number): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next++ < n) {
      const res = await app.inject({ method: 'GET', url, headers: HEADERS })
      if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${res.body.slice(0, 300)}`)
      // back to the event loop between requests, as requests arriving on sockets would: a reference hit does no
      // I/O, and a loop of them would hold the loop for the whole turn (load shedding then answers 503)
      await setImmediate()
    }
  }
  const before = cpuUsage()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const used = cpuUsage(before)
  return (used.user + used.system) / n
}

const variants = args.variant.map(parseVariant)
const sims = startLightSimulators(variants[0]?.dist ?? 'dist', ROOT)
const built: Built[] = []
try {
  // the bench's gateway settings (bench/run.ts); the watcher off: only requests run
  const base = inProcessGatewayEnv(await sims.env)
  for (const v of variants) built.push(await build(v, base))
  // load shedding samples the event-loop delay once a second: let the start-up's long turns leave its window
  await sleep(2500)
  const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const table: Record<string, Record<string, number[]>> = {}
  for (const scenario of SCENARIOS) {
    const n = scenario === 'get' ? Math.ceil(BLOCK / 4) : BLOCK
    for (const b of built) {
      const url = b.urls[scenario]
      if (url === undefined) usageError('bench:pipeline', USAGE, `unknown scenario ${scenario}`)
      await block(b.app, url, n * 2) // warm: caches filled, code optimised
    }
    for (let t = 0; t < TURNS; t++) {
      // the order turns each time, so no variant always follows the same one
      const order = t % 2 === 0 ? built : [...built].reverse()
      for (const b of order) ((table[b.v.name] ??= {})[scenario] ??= []).push(await block(b.app, b.urls[scenario] as string, n))
    }
  }
  // against the first variant: the mean of the per-turn differences (turn t of each variant ran side by side), ± twice its standard error
  const first = variants[0]?.name ?? ''
  const diff = (name: string, s: string): string => {
    const a = table[first]?.[s] ?? []
    const d = (table[name]?.[s] ?? []).map((x, i) => x - (a[i] as number))
    const m = mean(d)
    const se = Math.sqrt(d.reduce((acc, x) => acc + (x - m) ** 2, 0) / Math.max(1, d.length - 1) / d.length)
    return `${m >= 0 ? '+' : ''}${m.toFixed(1)} ± ${(2 * se).toFixed(1)}`
  }
  process.stderr.write(`\nCPU µs per request (in process, turns of ${BLOCK} reference hits / ${Math.ceil(BLOCK / 4)} case reads, ${CONCURRENCY} in flight, ${TURNS} turns): mean / median of the turns, and the mean per-turn difference from ${first} ± 2 standard errors\n`)
  process.stderr.write(`${'variant'.padEnd(16)}${SCENARIOS.map(s => `${s} mean / median`.padStart(24) + `vs ${first}`.padStart(20)).join('')}\n`)
  for (const v of variants) {
    const row = SCENARIOS.map(s => { const xs = table[v.name]?.[s] ?? []; return `${mean(xs).toFixed(1)} / ${median(xs).toFixed(1)}`.padStart(24) + diff(v.name, s).padStart(20) })
    process.stderr.write(`${v.name.padEnd(16)}${row.join('')}\n`)
  }
} finally {
  for (const b of built) await b.app.close()
  await stopAll()
}
process.exit(0)
