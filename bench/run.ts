/**
 * The gateway benchmark (`npm run bench`). See bench/README.md for what each scenario measures.
 *
 * Processes besides this one (the load generator, autocannon), all on 127.0.0.1:
 *   SIM  src/simulators/serve.ts      the vendor simulators, in light mode (cached bytes) unless --sim-mode normal
 *   G    node dist/server.js          the gateway in live mode, pointed at SIM, logging at info to /dev/null; one
 *                                     process per shape: redis (REDIS_URL, the production shape) and memory
 *   B    bench/baselines.ts           B0/B1/B2 and the floors, the least work a hand-written server could do for each
 *                                     scenario (node:http and undici, no framework)
 *
 * Options: USAGE below (`npm run bench -- --help`).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { cpus, arch, platform, release, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { request } from 'undici'
import { Redis } from 'ioredis'
import type { ProviderModule } from '../src/connectors/provider-module.js'
import { PROVIDER_MODULES, PROVIDERS } from '../src/providers/registry.js'
import type { ProviderId } from '../src/schemas/provider.js'
import { parseCli, parseProviderList, usageError } from './cli.js'
import { freePort, killAllSync, readCpuMs, readyLine, RssMonitor, startProcess, stopAll, stopProcess, waitReady, type Proc } from './procs.js'
import { summariseProfile, formatSummary } from './profile-summary.js'
import { productionNodeFlags } from './launch.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const GATEWAY_KEY = 'bench-secret-key-0123456'
const LIST_LIMIT = 50
const VENDOR_LATENCY_MS = 50

const USAGE = `  --duration S (5) --warmup S (2) --connections N (10) --latency-connections N (8) --rounds N (3)
  --count N (cases per vendor, 200)
  --case-provider P (phishfort) --scenarios ref,get,list,list-few,fixed,latency --no-build --node-args "FLAGS"
  --few-providers LIST (bforeai,phishfort,cloudflare): the vendors of the list-few scenario
  --shapes redis,memory (both) --redis-url URL (redis://127.0.0.1:6379/14) --sim-mode light|normal (light)
  --profile [--shape memory|redis] [--profile-scenario list|list-few|get|reference] [--profile-seconds S (15)]
    [--profile-dir DIR]: CPU-profile the gateway under one scenario (default list) instead, and print the top functions
See bench/README.md for what each scenario measures.`

const args = parseCli('bench', USAGE, {
  duration: { type: 'string', default: '5' },
  warmup: { type: 'string', default: '2' },
  connections: { type: 'string', default: '10' },
  'latency-connections': { type: 'string', default: '8' },
  rounds: { type: 'string', default: '3' },
  count: { type: 'string', default: '200' },
  'case-provider': { type: 'string', default: 'phishfort' },
  scenarios: { type: 'string', default: 'ref,get,list,list-few,fixed,latency' },
  'few-providers': { type: 'string', default: 'bforeai,phishfort,cloudflare' },
  'no-build': { type: 'boolean', default: false },
  'node-args': { type: 'string', default: '' },
  profile: { type: 'boolean', default: false },
  'profile-seconds': { type: 'string', default: '15' },
  'profile-scenario': { type: 'string', default: 'list' },
  'profile-dir': { type: 'string', default: join(tmpdir(), 'takedown-gateway-profiles') },
  shapes: { type: 'string', default: 'redis,memory' },
  shape: { type: 'string', default: 'memory' },
  'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379/14' },
  'sim-mode': { type: 'string', default: 'light' }
})

const DURATION = Number(args.duration)
const WARMUP = Number(args.warmup)
const CONNECTIONS = Number(args.connections)
/** the latency scenario's closed loop: its targets (p50 ≤ 60 ms, p99 ≤ 80 ms) are stated at 8 connections */
const LATENCY_CONNECTIONS = Number(args['latency-connections'])
const ROUNDS = Number(args.rounds)
const SCENARIOS = new Set(args.scenarios.split(',').map(s => s.trim()))
const unknownScenario = [...SCENARIOS].find(s => !['ref', 'get', 'list', 'list-few', 'fixed', 'latency'].includes(s))
if (unknownScenario !== undefined) usageError('bench', USAGE, `--scenarios: no scenario ${unknownScenario} (ref, get, list, list-few, fixed, latency)`)
/** the vendors of the list-few scenario: registered providers whose listing the baselines can replay */
const fewParsed = parseProviderList(args['few-providers'])
const FEW: ProviderId[] = typeof fewParsed === 'string' ? usageError('bench', USAGE, `--few-providers: ${fewParsed}`) : fewParsed
/** the node flags production starts the gateway with (the image's ENTRYPOINT): every gateway here starts with them */
const SHIPPED_NODE_ARGS = productionNodeFlags(ROOT)
/** extra node flags for the gateway process (experiments, e.g. `--node-args=--max-semi-space-size=8`), after the shipped ones */
const NODE_ARGS = args['node-args'].split(' ').filter(a => a !== '')

/** how the gateway keeps its cache, idempotency records, rate limits and events: Redis (production) or its own memory */
type Shape = 'redis' | 'memory'
const isShape = (s: string): s is Shape => s === 'redis' || s === 'memory'
const SHAPES: Shape[] = args.shapes.split(',').map(s => s.trim()).filter(s => s !== '').map(s => {
  if (!isShape(s)) throw new Error(`--shapes takes redis and/or memory (got ${s})`)
  return s
})
if (SHAPES.length === 0) throw new Error('--shapes needs at least one of redis, memory')
if (!isShape(args.shape)) throw new Error(`--shape must be redis or memory (got ${args.shape})`)
if (args['sim-mode'] !== 'light' && args['sim-mode'] !== 'normal') throw new Error(`--sim-mode must be light or normal (got ${args['sim-mode']})`)
const REDIS_URL = args['redis-url']
/** every key the redis-shaped gateway writes starts with this; the keys are deleted at the end of the run */
const REDIS_PREFIX = `tgw-bench:${process.pid}:`

// ---- types --------------------------------------------------------------------------------------------------------

interface SimsLine {
  pid: number
  simulators: Record<ProviderId, { origin: string, baseUrl: string, credential: string, options: Record<string, string>, env: Record<string, string> }>
}

/** one vendor request of the gateway's listing, as the simulators logged it */
interface ListCall { provider: ProviderId, url: string, headers: Record<string, string> }

interface Target {
  /** G, B0, B1, B2, floor or a vendor name */
  label: string
  /** G only: which gateway process */
  shape?: Shape
  url: string
  headers: Record<string, string>
  /** process serving it, for CPU accounting */
  pid: number | null
}

interface RunStats {
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
  requests: number
  /** 2xx answers */
  answered: number
  non2xx: number
  /** answers by HTTP status */
  statuses: Record<string, number>
  errors: number
  timeouts: number
  /** CPU time the serving process spent per answered request, in ms (null when not measurable) */
  cpuMsPerReq: number | null
  /** CPU time the simulators' process spent per answered request, in ms */
  simCpuMsPerReq: number | null
  offeredRate: number | null
  /** G only: vendor requests the simulators counted during the run, per answered request, by route */
  vendorCallsPerReq?: Record<string, number>
}

interface Summary {
  label: string
  shape: Shape | null
  rps: number
  p50: number
  p99: number
  cpuMsPerReq: number | null
  simCpuMsPerReq: number | null
  vendorCallsPerReq: number | null
  runs: RunStats[]
}

interface Ratio { of: string, value: number }

interface ScenarioResult {
  name: string
  description: string
  /** by target key: `G/redis`, `G/memory`, `B2`, `floor`, a vendor name */
  targets: Record<string, Summary>
  /** G throughput over baseline throughput (medians), by G target key */
  ratios?: Record<string, Ratio[]>
  extra?: Record<string, unknown>
}

// ---- helpers ------------------------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return NaN
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
}

const log = (msg: string): void => { process.stderr.write(`[bench] ${msg}\n`) }

const keyOf = (t: { label: string, shape?: Shape | null }): string => t.shape === undefined || t.shape === null ? t.label : `${t.label}/${t.shape}`

/** the simulators' process, whose CPU is read around every run */
let simPid: number | null = null

async function load (t: Target, opts: { duration: number, rate?: number, connections?: number }): Promise<RunStats> {
  const sim0 = simPid === null ? null : readCpuMs(simPid)
  const cpu0 = t.pid === null ? null : readCpuMs(t.pid)
  const result = await autocannon({
    url: t.url,
    headers: t.headers,
    connections: opts.connections ?? CONNECTIONS,
    pipelining: 1,
    duration: opts.duration,
    timeout: 10,
    // autocannon "corrects" rate-limited latencies with an expected interval of ceil(1 / per-connection rate) = 1 ms,
    // which adds one synthetic sample per millisecond of every response; its quota is per second, so keep raw latencies
    ...(opts.rate === undefined ? {} : { overallRate: opts.rate, ignoreCoordinatedOmission: true })
  })
  const cpu1 = t.pid === null ? null : readCpuMs(t.pid)
  const sim1 = simPid === null ? null : readCpuMs(simPid)
  const ok = result['2xx']
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    mean: result.latency.mean,
    requests: result.requests.total,
    answered: ok,
    non2xx: result.non2xx,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, v.count ?? 0])),
    errors: result.errors,
    timeouts: result.timeouts,
    cpuMsPerReq: cpu0 === null || cpu1 === null || ok === 0 ? null : (cpu1 - cpu0) / ok,
    simCpuMsPerReq: sim0 === null || sim1 === null || ok === 0 ? null : (sim1 - sim0) / ok,
    offeredRate: opts.rate ?? null
  }
}

function summarise (t: Target, runs: RunStats[]): Summary {
  const cpu = runs.map(r => r.cpuMsPerReq).filter((x): x is number => x !== null)
  const simCpu = runs.map(r => r.simCpuMsPerReq).filter((x): x is number => x !== null)
  const calls = runs.map(r => r.vendorCallsPerReq).filter((x): x is Record<string, number> => x !== undefined)
    .map(c => Object.values(c).reduce((a, n) => a + n, 0))
  return {
    label: t.label,
    shape: t.shape ?? null,
    rps: median(runs.map(r => r.rps)),
    p50: median(runs.map(r => r.p50)),
    p99: median(runs.map(r => r.p99)),
    cpuMsPerReq: cpu.length === 0 ? null : median(cpu),
    simCpuMsPerReq: simCpu.length === 0 ? null : median(simCpu),
    vendorCallsPerReq: calls.length === 0 ? null : median(calls),
    runs
  }
}

function checkRun (label: string, r: RunStats): void {
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
    log(`WARNING ${label}: ${r.non2xx} non-2xx ${JSON.stringify(r.statuses)}, ${r.errors} errors, ${r.timeouts} timeouts; throughput counts 2xx only`)
  }
}

/** A B A B A B: every round runs every target once, in the same order; the warm-up runs are not recorded. */
async function interleaved (name: string, targets: Target[], opts: { rate?: (t: Target) => number | undefined, duration?: (t: Target) => number, connections?: number } = {}): Promise<Record<string, Summary>> {
  const connections = opts.connections === undefined ? {} : { connections: opts.connections }
  for (const t of targets) {
    if (WARMUP > 0) await load(t, { duration: WARMUP, ...connections, ...(opts.rate?.(t) === undefined ? {} : { rate: opts.rate(t)! }) })
  }
  const runs = new Map<string, RunStats[]>(targets.map(t => [keyOf(t), []]))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      for (const m of monitors.values()) m.mark(name)
      const rate = opts.rate?.(t)
      const counting = t.label === 'G' && currentSims !== null
      if (counting) await resetSimStats(currentSims!)
      const r = await load(t, { duration: opts.duration?.(t) ?? DURATION, ...connections, ...(rate === undefined ? {} : { rate }) })
      if (counting) r.vendorCallsPerReq = await readSimStats(currentSims!, r.answered)
      checkRun(`${name} ${keyOf(t)} round ${round}`, r)
      runs.get(keyOf(t))!.push(r)
      log(`${name} round ${round} ${keyOf(t).padEnd(10)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms` +
        (r.cpuMsPerReq === null ? '' : `  cpu ${(r.cpuMsPerReq * 1000).toFixed(0)} µs/req`) +
        (r.simCpuMsPerReq === null ? '' : `  sim ${(r.simCpuMsPerReq * 1000).toFixed(0)} µs/req`))
    }
  }
  return Object.fromEntries(targets.map(t => [keyOf(t), summarise(t, runs.get(keyOf(t))!)]))
}

async function httpJson<T> (url: string, init: { method?: 'GET' | 'POST' | 'DELETE', headers?: Record<string, string>, body?: unknown } = {}): Promise<{ status: number, body: T }> {
  const res = await request(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: (text === '' ? null : JSON.parse(text)) as T }
}

function build (): void {
  if (args['no-build']) {
    if (!existsSync(join(ROOT, 'dist/server.js'))) throw new Error('dist/server.js is missing: run npm run build or drop --no-build')
    return
  }
  log('building the gateway (npm run build)')
  try {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '')
    // tsc still emits on type errors; a half-finished edit elsewhere in the tree should not stop a benchmark
    if (!existsSync(join(ROOT, 'dist/server.js'))) throw new Error(`npm run build failed and dist/server.js is missing:\n${out}`)
    log(`WARNING: npm run build reported errors; benchmarking the emitted dist/ anyway:\n${out.slice(0, 2000)}`)
  }
}

// ---- processes ----------------------------------------------------------------------------------------------------

/** gateway memory, one monitor per shape */
const monitors = new Map<Shape, RssMonitor>()

async function startSimulators (): Promise<{ proc: Proc, line: SimsLine }> {
  // the compiled simulators (dist/, built with the gateway): tsx's per-function name helpers cost the vendor side CPU;
  // light mode answers repeated reads from the bytes it serialised first (same bytes, far less CPU on the shared cores)
  const light = args['sim-mode'] === 'light' ? ['--light'] : []
  // a simulator that enforces its vendor's rate budget (a `rate-limit` flag in its module) runs without it
  const unlimited = PROVIDERS.filter(m => m.simulatorFlags?.some(f => f.flag === 'rate-limit') === true).flatMap(m => [`--${m.id}-rate-limit`, 'off'])
  const proc = startProcess('simulators', process.execPath, ['dist/simulators/serve.js', '--count', args.count, ...unlimited, ...light], {
    cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdout: 'pipe'
  })
  return { proc, line: await readyLine<SimsLine>(proc) }
}

function gatewayEnv (sims: SimsLine, port: number, shape: Shape): NodeJS.ProcessEnv {
  return {
    // the production shape: cache, idempotency records, rate limits, outbound budgets, events and jobs in Redis, under
    // a key prefix of this run's own (deleted at the end); memory: everything in the process
    ...(shape === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: REDIS_PREFIX } : {}),
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SANDBOX: 'false',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    // the per-key rate limit stays registered (its cost is part of every request) but never refuses the bench key;
    // load shedding (MAX_EVENT_LOOP_DELAY_MS) keeps its default
    RATE_LIMIT_MAX: '10000000',
    // the simulators' budgets are off, so a vendor with a budget by default gets one it never spends (still counted)
    ...Object.fromEntries(PROVIDERS.filter(m => m.budget.limit > 0).map(m => [`${m.id.toUpperCase()}_OUTBOUND_BUDGET`, '10000000'])),
    // autocannon drops its sockets at the end of every run; the gateway counts the aborted in-flight vendor calls as
    // vendor failures, so with the default threshold (5) the circuit opens and the next run starts on 10 s of 503s
    CIRCUIT_FAILURE_THRESHOLD: '1000',
    GATEWAY_API_KEYS: `bench:${GATEWAY_KEY}`,
    GATEWAY_SECRET: 'bench-gateway-secret-0123456789ab', // 32+ characters
    WEBHOOK_ENCRYPTION_KEY: 'c'.repeat(64),
    // every registered provider, pointed at its simulator (the variables come from the simulator process)
    ...Object.assign({}, ...Object.values(sims.simulators).map(s => s.env)) as Record<string, string>
  }
}

interface Gateway { shape: Shape, proc: Proc, url: string, pid: number | null }

async function startGateway (sims: SimsLine, shape: Shape, nodeArgs: string[] = []): Promise<Gateway> {
  const port = await freePort()
  // stdout (the info-level request log) goes to /dev/null, as a deployment would ship it somewhere
  const proc = startProcess(`gateway (${shape})`, process.execPath, [...SHIPPED_NODE_ARGS, ...NODE_ARGS, ...nodeArgs, 'dist/server.js'], { cwd: ROOT, env: gatewayEnv(sims, port, shape), stdout: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  await waitReady(`${url}/readyz`, proc)
  return { shape, proc, url, pid: proc.child.pid ?? null }
}

/** Deletes every key the redis-shaped gateway wrote (its own prefix); SCAN, so other users of the server are not blocked. */
async function dropRedisKeys (): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  let n = 0
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) n += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return n
}

/**
 * The headers a direct call to each vendor takes: its credential, or for a vendor whose API takes a short-lived token
 * (Web Risk) one token fetched now (it outlives the run).
 */
async function directHeaders (sims: SimsLine): Promise<Map<ProviderId, Record<string, string>>> {
  const out = new Map<ProviderId, Record<string, string>>()
  for (const [id, s] of Object.entries(sims.simulators) as Array<[ProviderId, SimsLine['simulators'][ProviderId]]>) {
    const direct = (PROVIDER_MODULES[id] as ProviderModule).direct
    if (direct === undefined) continue
    const credential = direct.accessToken === undefined ? s.credential : await direct.accessToken(s.credential, s.baseUrl, s.options)
    out.set(id, direct.authHeaders(credential))
  }
  return out
}

/**
 * The vendor requests of one warm listing (`path`), read back from the simulators' request logs: B2, the floor and
 * the per-vendor latency runs replay exactly these targets, so they follow the connectors when their queries change.
 * `providers`: the vendors the listing asks (every registered one when it names none).
 */
async function captureListCalls (sims: SimsLine, gatewayUrl: string, path: string, providers: ProviderId[],
  headers: Map<ProviderId, Record<string, string>>, warnings: string[]): Promise<ListCall[]> {
  type Logged = Array<{ method: string, url: string, route: string }>
  const entries = (Object.entries(sims.simulators) as Array<[ProviderId, SimsLine['simulators'][ProviderId]]>).filter(([id]) => providers.includes(id))
  let logs: Logged[] = []
  // the first listings also refresh Cloudflare's mitigations behind the answer: list until one listing is alone in the logs
  for (let attempt = 1; attempt <= 5; attempt++) {
    await resetSimStats(sims)
    const res = await httpJson<{ partial?: boolean }>(gatewayUrl + path, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } })
    if (res.status !== 200 || res.body.partial !== false) throw new Error(`GET ${path} answered ${res.status} (partial=${String(res.body.partial)}) while capturing its vendor calls`)
    await new Promise(resolve => setTimeout(resolve, 300)) // let calls made behind the answer land in the logs too
    logs = await Promise.all(entries.map(async ([, s]) => (await httpJson<Logged>(`${s.origin}/__sim/requests`)).body))
    if (logs.every(l => l.length === 1)) break
  }
  const params = (route: string): number => route.split('/').filter(p => p.startsWith(':')).length
  return entries.map(([id, s], i) => {
    const logged = logs[i] ?? []
    // the listing's own page is the request with the fewest path parameters (a mitigation read names its report)
    const page = [...logged].sort((a, b) => params(a.route) - params(b.route))[0]
    if (page === undefined) throw new Error(`the gateway's listing ${path} sent no request to ${id}`)
    if (logged.length !== 1) {
      const w = `one warm listing sent ${logged.length} requests to ${id} (${logged.map(r => `${r.method} ${r.route}`).join(', ')}); B2 and floor replay ${page.method} ${page.route}`
      warnings.push(w)
      log(`WARNING ${w}`)
    }
    const h = headers.get(id)
    if (h === undefined) throw new Error(`${id} declares no direct vendor calls: no baseline can replay its listing`)
    return { provider: id, url: s.origin + page.url, headers: h }
  })
}

async function startBaselines (gatewayUrl: string, calls: { case: ListCall, lists: Record<string, ListCall[]> }): Promise<{ proc: Proc, url: string }> {
  const proc = startProcess('baselines', process.execPath, ['--import', 'tsx', 'bench/baselines.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      BENCH_CALLS: JSON.stringify(calls),
      BENCH_LIST_LIMIT: String(LIST_LIMIT),
      BENCH_GATEWAY_URL: gatewayUrl,
      BENCH_GATEWAY_KEY: GATEWAY_KEY
    },
    stdout: 'pipe'
  })
  const line = await readyLine<{ url: string }>(proc)
  return { proc, url: line.url }
}

async function setVendorLatency (sims: SimsLine, latencyMs: number | null): Promise<void> {
  for (const s of Object.values(sims.simulators)) {
    const res = latencyMs === null
      ? await httpJson(`${s.origin}/__sim/faults`, { method: 'DELETE' })
      : await httpJson(`${s.origin}/__sim/faults`, { method: 'POST', body: { latencyMs } })
    if (res.status !== 204) throw new Error(`${s.origin}/__sim/faults answered ${res.status}`)
  }
}

/** simulators whose request counters are read around every G run (vendor calls per gateway request) */
let currentSims: SimsLine | null = null

async function resetSimStats (sims: SimsLine): Promise<void> {
  await Promise.all(Object.values(sims.simulators).map(s => httpJson(`${s.origin}/__sim/stats`, { method: 'DELETE' })))
}

/** vendor requests per gateway request, by `provider METHOD route`, since the last reset */
async function readSimStats (sims: SimsLine, gatewayRequests: number): Promise<Record<string, number>> {
  const calls: Record<string, number> = {}
  for (const [id, s] of Object.entries(sims.simulators)) {
    const stats = await httpJson<Record<string, number>>(`${s.origin}/__sim/stats`)
    for (const [route, n] of Object.entries(stats.body)) calls[`${id} ${route}`] = gatewayRequests === 0 ? n : n / gatewayRequests
  }
  return calls
}

/** How many vendor calls one (cold) gateway request causes. */
async function vendorCalls (sims: SimsLine, url: string): Promise<Record<string, number>> {
  await resetSimStats(sims)
  const res = await request(url, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } })
  await res.body.dump()
  return await readSimStats(sims, 1)
}

/** A listing that comes back partial means a vendor failed: the numbers around it would not be about the gateway. */
async function checkListComplete (gatewayUrl: string, when: string, warnings: string[]): Promise<void> {
  const res = await httpJson<{ partial?: boolean, errors?: unknown[] }>(`${gatewayUrl}/v1/cases?limit=${LIST_LIMIT}`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } })
  if (res.status !== 200 || res.body.partial !== false) {
    const w = `${when}: GET /v1/cases answered ${res.status}, partial=${String(res.body.partial)} ${JSON.stringify(res.body.errors ?? [])}`
    warnings.push(w)
    log(`WARNING ${w}`)
  }
}

// ---- the benchmark ------------------------------------------------------------------------------------------------

async function bench (): Promise<void> {
  const startedAt = new Date()
  build()
  log(`starting simulators (${args['sim-mode']} mode), gateway (${SHAPES.join(', ')}) and baselines`)
  const sim = await startSimulators()
  const sims = sim.line
  simPid = sims.pid
  const gateways: Gateway[] = []
  for (const shape of SHAPES) {
    const g = await startGateway(sims, shape)
    gateways.push(g)
    if (g.pid !== null) monitors.set(shape, new RssMonitor(g.pid, 200))
  }
  const first = gateways[0]!
  const auth = { authorization: `Bearer ${GATEWAY_KEY}` }
  const warnings: string[] = []

  // warm the reference cache before the baselines copy its bytes
  for (const g of gateways) {
    const warm = await httpJson<unknown>(`${g.url}/v1/reference/statuses`, { headers: auth })
    if (warm.status !== 200) throw new Error(`GET /v1/reference/statuses answered ${warm.status} (${g.shape})`)
  }
  const listUrl = `/v1/cases?limit=${LIST_LIMIT}`
  const fewUrl = `/v1/cases?limit=${LIST_LIMIT}&provider=${FEW.join(',')}`
  const headers = await directHeaders(sims)
  const listCalls = await captureListCalls(sims, first.url, listUrl, Object.keys(sims.simulators) as ProviderId[], headers, warnings)
  const fewCalls = await captureListCalls(sims, first.url, fewUrl, FEW, headers, warnings)
  log(`vendor calls of the listing, replayed by B2 and floor: ${listCalls.map(c => c.url).join(' ')}`)
  // how much each vendor page weighs decides what parsing it costs (the floor's main work)
  const pageBytes: Record<string, number> = {}
  for (const c of listCalls) {
    const res = await request(c.url, { headers: c.headers })
    pageBytes[c.provider] = (await res.body.arrayBuffer()).byteLength
  }
  log(`vendor list pages (bytes): ${JSON.stringify(pageBytes)}`)

  const caseProvider = args['case-provider'] as ProviderId
  const listed = await httpJson<{ items: Array<{ id: string, providerCaseId: string }> }>(`${first.url}/v1/cases?limit=10&provider=${caseProvider}`, { headers: auth })
  const caseId = listed.body.items[0]?.id
  const detailPath = (PROVIDER_MODULES[caseProvider] as ProviderModule | undefined)?.direct?.detailPath
  if (listed.status !== 200 || caseId === undefined) throw new Error(`could not pick a ${caseProvider} case (HTTP ${listed.status})`)
  if (detailPath === undefined || !headers.has(caseProvider)) throw new Error(`${caseProvider} declares no direct detail read: pick another --case-provider`)
  const caseUrl = `/v1/cases/${encodeURIComponent(caseId)}`
  const caseSim = sims.simulators[caseProvider]
  const caseCall: ListCall = { provider: caseProvider, url: caseSim.baseUrl + detailPath(listed.body.items[0]!.providerCaseId, caseSim.options), headers: headers.get(caseProvider)! }
  const b = await startBaselines(first.url, { case: caseCall, lists: { all: listCalls, few: fewCalls } })
  const bPid = b.proc.child.pid ?? null

  const calls: Record<string, Record<string, Record<string, number>>> = {}
  for (const g of gateways) {
    calls[g.shape] = {
      get: await vendorCalls(sims, g.url + caseUrl),
      list: await vendorCalls(sims, g.url + listUrl),
      'list-few': await vendorCalls(sims, g.url + fewUrl),
      reference: await vendorCalls(sims, `${g.url}/v1/reference/statuses`)
    }
    await checkListComplete(g.url, `start (${g.shape})`, warnings)
  }
  log(`vendor calls of one cold gateway request: ${JSON.stringify(calls)}`)
  currentSims = sims

  const G = (path: string): Target[] => gateways.map(g => ({ label: 'G', shape: g.shape, url: g.url + path, headers: auth, pid: g.pid }))
  const B = (label: string, path: string): Target => ({ label, url: b.url + path, headers: {}, pid: bPid })
  const vendors: Target[] = listCalls.map(c => ({ label: c.provider, url: c.url, headers: c.headers, pid: null }))
  const b2 = B('B2', '/b2/cases/all')
  const floor = B('floor', '/floor/cases/all')
  const b1 = B('B1', '/b1/case')

  const results: ScenarioResult[] = []
  const ratiosOf = (targets: Record<string, Summary>, ...bases: string[]): Record<string, Ratio[]> =>
    Object.fromEntries(Object.entries(targets).filter(([, s]) => s.label === 'G')
      .map(([key, s]) => [key, bases.map(of => ({ of, value: targets[of]!.rps > 0 ? s.rps / targets[of]!.rps : NaN }))]))

  if (SCENARIOS.has('ref')) {
    const targets = await interleaved('reference', [...G('/v1/reference/statuses'), B('B0', '/b0/reference/statuses')])
    results.push({ name: 'reference', description: 'GET /v1/reference/statuses, cache hit (G) vs the same bytes from a bare route (B0)', targets, ratios: ratiosOf(targets, 'B0') })
  }
  if (SCENARIOS.has('get')) {
    const targets = await interleaved('get', [...G(caseUrl), B('floor', '/floor/case'), b1])
    results.push({
      name: 'get',
      description: `GET /v1/cases/{id} (${caseId}) (G) vs the same vendor read parsed, made a case-shaped object and serialised (floor) and its bytes passed through (B1)`,
      targets,
      ratios: ratiosOf(targets, 'floor', 'B1')
    })
  }
  if (SCENARIOS.has('list') || SCENARIOS.has('fixed')) {
    const targets = await interleaved('list', [...G(listUrl), b2, floor])
    results.push({
      name: 'list',
      description: `GET ${listUrl} (G) vs the same ${listCalls.length} vendor calls parsed, merged, mapped and serialised (floor) and with bodies concatenated (B2)`,
      targets,
      ratios: ratiosOf(targets, 'floor', 'B2')
    })
  }
  if (SCENARIOS.has('list-few')) {
    const targets = await interleaved('list-few', [...G(fewUrl), B('B2', '/b2/cases/few'), B('floor', '/floor/cases/few')])
    results.push({
      name: 'list-few',
      description: `GET ${fewUrl} (G) vs the same ${fewCalls.length} vendor calls parsed, merged, mapped and serialised (floor) and with bodies concatenated (B2)`,
      targets,
      ratios: ratiosOf(targets, 'floor', 'B2')
    })
  }
  if (SCENARIOS.has('fixed')) {
    // an open-ish model at ~60 % of the slower shape's measured capacity: the latency a client sees when the gateway
    // is not saturated; every target (both shapes and the baselines) gets the same rate
    const gMax = (name: string): number => Math.min(...Object.values(results.find(r => r.name === name)?.targets ?? {}).filter(s => s.label === 'G').map(s => s.rps))
    const fixed: Array<[string, string, Target[]]> = [['list', 'fixed-rate-list', [...G(listUrl), b2]]]
    if (results.some(r => r.name === 'get')) fixed.push(['get', 'fixed-rate-get', [...G(caseUrl), b1]])
    for (const [from, name, ts] of fixed) {
      const rate = Math.max(1, Math.round(gMax(from) * 0.6))
      const targets = await interleaved(name, ts, { rate: () => rate })
      results.push({
        name,
        description: `the ${from} scenario at a fixed ${rate} req/s (60 % of the slower shape's median max throughput) for every target`,
        targets,
        extra: { offeredRate: rate }
      })
    }
  }
  for (const g of gateways) await checkListComplete(g.url, `after the unthrottled scenarios (${g.shape})`, warnings)
  if (SCENARIOS.has('latency')) {
    await setVendorLatency(sims, VENDOR_LATENCY_MS)
    try {
      const vendorDuration = Math.max(2, Math.min(3, DURATION))
      const targets = await interleaved('latency-list', [...G(listUrl), b2, floor, ...vendors], {
        duration: t => vendors.includes(t) ? vendorDuration : DURATION,
        connections: LATENCY_CONNECTIONS
      })
      const slowestP50 = Math.max(...vendors.map(v => targets[v.label]!.p50))
      const slowestP99 = Math.max(...vendors.map(v => targets[v.label]!.p99))
      results.push({
        name: 'latency-list',
        description: `GET ${listUrl} with ${VENDOR_LATENCY_MS} ms injected at every simulator, ${LATENCY_CONNECTIONS} connections; vendors measured directly (${vendorDuration} s runs)`,
        targets,
        ratios: ratiosOf(targets, 'floor', 'B2'),
        extra: {
          injectedMs: VENDOR_LATENCY_MS,
          slowestVendor: { p50: slowestP50, p99: slowestP99 },
          overheadOverSlowestVendor: Object.fromEntries(gateways.map(g => [g.shape, { p50: targets[`G/${g.shape}`]!.p50 - slowestP50, p99: targets[`G/${g.shape}`]!.p99 - slowestP99 }]))
        }
      })
      for (const g of gateways) await checkListComplete(g.url, `end of the latency scenario (${g.shape})`, warnings)
    } finally {
      await setVendorLatency(sims, null)
    }
  }

  const memory: Partial<Record<Shape, GatewayMemory>> = {}
  for (const [shape, m] of monitors) {
    m.stop()
    memory[shape] = { peakRssMb: m.peakRssKb / 1024, vmHwmMb: m.hwmKb / 1024, byPhaseMb: Object.fromEntries([...m.phases].map(([k, v]) => [k, v / 1024])) }
  }
  await stopProcess(b.proc)
  for (const g of gateways) await stopProcess(g.proc)
  await stopProcess(sim.proc)
  if (SHAPES.includes('redis')) {
    try {
      log(`deleted ${await dropRedisKeys()} Redis keys under ${REDIS_PREFIX}`)
    } catch (err) {
      log(`WARNING could not delete the Redis keys under ${REDIS_PREFIX}: ${(err as Error).message}`)
    }
  }

  const verdicts = targetVerdicts(results, memory)
  printTable(results, verdicts, memory, calls, caseId, warnings)

  const cpu = cpus()
  const out = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: { model: cpu[0]?.model ?? 'unknown', count: cpu.length },
    memoryMb: Math.round(totalmem() / 1048576),
    config: {
      gatewayShippedNodeArgs: SHIPPED_NODE_ARGS,
      gatewayNodeArgs: NODE_ARGS,
      durationS: DURATION,
      warmupS: WARMUP,
      connections: CONNECTIONS,
      latencyConnections: LATENCY_CONNECTIONS,
      pipelining: 1,
      rounds: ROUNDS,
      casesPerVendor: Number(args.count),
      caseId,
      listLimit: LIST_LIMIT,
      shapes: SHAPES,
      redis: SHAPES.includes('redis') ? { url: REDIS_URL, keyPrefix: REDIS_PREFIX } : null,
      simulatorMode: args['sim-mode'],
      listCalls: listCalls.map(c => c.url),
      fewListCalls: fewCalls.map(c => c.url),
      listPageBytes: pageBytes,
      caseCall: caseCall.url
    },
    coldVendorCallsPerRequest: calls,
    warnings,
    scenarios: results,
    gatewayMemory: memory,
    targets: verdicts
  }
  const dir = join(ROOT, 'bench/results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
  log(`results written to ${file}`)
}

interface GatewayMemory { peakRssMb: number, vmHwmMb: number, byPhaseMb: Record<string, number> }

interface Verdict { name: string, value: number | null, threshold: string, pass: boolean | null }

/** production shape first */
const SHAPE_ORDER: Record<Shape, number> = { redis: 0, memory: 1 }
const byShape = (shapes: Iterable<Shape>): Shape[] => [...shapes].sort((a, b) => SHAPE_ORDER[a] - SHAPE_ORDER[b])

function targetVerdicts (results: ScenarioResult[], memory: Partial<Record<Shape, GatewayMemory>>): Verdict[] {
  const ratio = (name: string, shape: Shape, of: string): number | null =>
    results.find(r => r.name === name)?.ratios?.[`G/${shape}`]?.find(x => x.of === of)?.value ?? null
  const v = (name: string, value: number | null, threshold: string, ok: (x: number) => boolean): Verdict =>
    ({ name, value, threshold, pass: value === null || Number.isNaN(value) ? null : ok(value) })
  return byShape(SHAPES).flatMap(shape => {
    const lat = results.find(r => r.name === 'latency-list')?.targets[`G/${shape}`]
    return [
      v(`[${shape}] GET /v1/cases/{id} G/floor throughput`, ratio('get', shape, 'floor'), '>= 0.80', x => x >= 0.8),
      v(`[${shape}] GET /v1/cases G/floor throughput, every vendor`, ratio('list', shape, 'floor'), '>= 0.80', x => x >= 0.8),
      v(`[${shape}] GET /v1/cases G/floor throughput, ${FEW.length} vendors`, ratio('list-few', shape, 'floor'), '>= 0.80', x => x >= 0.8),
      v(`[${shape}] reference cache hit G/B0 throughput`, ratio('reference', shape, 'B0'), '>= 0.70', x => x >= 0.7),
      v(`[${shape}] list p50, ${VENDOR_LATENCY_MS} ms vendor latency (ms)`, lat?.p50 ?? null, '<= 60', x => x <= 60),
      v(`[${shape}] list p99, ${VENDOR_LATENCY_MS} ms vendor latency (ms)`, lat?.p99 ?? null, '<= 80', x => x <= 80),
      v(`[${shape}] gateway peak RSS, VmHWM (MB)`, memory[shape]?.vmHwmMb ?? null, '<= 200', x => x <= 200)
    ]
  })
}

function printTable (results: ScenarioResult[], verdicts: Verdict[], memory: Partial<Record<Shape, GatewayMemory>>,
  calls: Record<string, Record<string, Record<string, number>>>, caseId: string, warnings: string[]): void {
  const us = (ms: number | null): string => ms === null ? '-' : (ms * 1000).toFixed(0)
  const rows: string[][] = [['scenario', 'target', 'shape', 'req/s', 'p50 ms', 'p99 ms', 'cpu µs/req', 'sim µs/req', 'calls/req', 'non-2xx', 'runs req/s', 'G/B']]
  for (const r of results) {
    // the gateway's rows first, production shape first, then the baselines in the order they ran
    const entries = Object.entries(r.targets).sort(([, a], [, b]) =>
      (a.label === 'G' ? 0 : 1) - (b.label === 'G' ? 0 : 1) || (a.shape === null || b.shape === null ? 0 : SHAPE_ORDER[a.shape] - SHAPE_ORDER[b.shape]))
    for (const [key, s] of entries) {
      rows.push([
        r.name,
        s.label,
        s.shape ?? '',
        s.rps.toFixed(0),
        s.p50.toFixed(1),
        s.p99.toFixed(1),
        us(s.cpuMsPerReq),
        us(s.simCpuMsPerReq),
        s.vendorCallsPerReq === null ? '' : s.vendorCallsPerReq.toFixed(2),
        String(s.runs.reduce((a, x) => a + x.non2xx + x.errors, 0)),
        s.runs.map(x => x.rps.toFixed(0)).join(' / '),
        (r.ratios?.[key] ?? []).map(x => `${x.value.toFixed(2)} vs ${x.of}`).join(', ')
      ])
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(row => row[i]!.length)))
  const line = (row: string[]): string => row.map((c, i) => i >= 3 && i <= 9 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join('  ').trimEnd()
  const out: string[] = ['', `Medians of ${ROUNDS} interleaved runs, ${DURATION} s each, ${CONNECTIONS} connections` +
    `${SCENARIOS.has('latency') ? ` (the latency scenario ${LATENCY_CONNECTIONS})` : ''}, pipelining 1 (case ${caseId}); ` +
    `simulators in ${args['sim-mode']} mode; gateway node flags ${[...SHIPPED_NODE_ARGS, ...NODE_ARGS].join(' ') || '(none)'}` +
    `${NODE_ARGS.length > 0 ? ` (${NODE_ARGS.join(' ')} on top of the shipped ones)` : ' (as shipped)'}`, '']
  out.push(line(rows[0]!), widths.map(w => '-'.repeat(w)).join('  '))
  for (const row of rows.slice(1)) out.push(line(row))
  out.push('', 'cpu µs/req: the serving process (G or the baselines); sim µs/req: the simulators\' process during the same run, per answered request')
  const lat = results.find(r => r.name === 'latency-list')
  if (lat?.extra !== undefined) {
    const sv = lat.extra.slowestVendor as { p50: number, p99: number }
    const gs = byShape(SHAPES).filter(shape => lat.targets[`G/${shape}`] !== undefined)
      .map(shape => `G ${shape} p50 ${lat.targets[`G/${shape}`]!.p50.toFixed(1)} ms / p99 ${lat.targets[`G/${shape}`]!.p99.toFixed(1)} ms`)
    out.push(`with ${VENDOR_LATENCY_MS} ms vendor latency (${LATENCY_CONNECTIONS} connections): ${gs.join('; ')}; slowest vendor p50 ${sv.p50.toFixed(1)} ms / p99 ${sv.p99.toFixed(1)} ms`)
  }
  for (const r of results) if (r.extra?.offeredRate !== undefined) out.push(`${r.name}: offered ${String(r.extra.offeredRate)} req/s`)
  for (const shape of byShape(Object.keys(memory) as Shape[])) {
    const m = memory[shape]!
    out.push(`gateway memory (${shape}): VmHWM ${m.vmHwmMb.toFixed(1)} MB, highest sampled VmRSS ${m.peakRssMb.toFixed(1)} MB`)
  }
  for (const [shape, byRoute] of Object.entries(calls)) {
    out.push(`vendor calls of one cold gateway request (${shape}): ${Object.entries(byRoute).map(([k, v]) => `${k} ${Object.values(v).reduce((a, n) => a + n, 0)}`).join(', ')}`)
  }
  out.push('calls/req above is the steady state measured during the G runs')
  for (const w of warnings) out.push(`WARNING ${w}`)
  out.push('', 'targets (informational; they never fail the run):')
  for (const v of verdicts) {
    const verdict = v.pass === null ? 'n/a ' : v.pass ? 'PASS' : 'FAIL'
    out.push(`  ${verdict}  ${v.name.padEnd(54)} ${v.value === null ? '-' : v.value.toFixed(2)} (${v.threshold})`)
  }
  process.stdout.write(out.join('\n') + '\n')
}

// ---- profile mode -------------------------------------------------------------------------------------------------

async function profile (): Promise<void> {
  build()
  const dir = resolve(args['profile-dir'])
  mkdirSync(dir, { recursive: true })
  const before = new Set(readdirSync(dir))
  const sim = await startSimulators()
  const shape = args.shape as Shape
  log(`profiling the ${shape}-shaped gateway`)
  const g = await startGateway(sim.line, shape, ['--cpu-prof', '--cpu-prof-dir', dir])
  const auth = { authorization: `Bearer ${GATEWAY_KEY}` }
  const scenario = args['profile-scenario']
  let path: string
  if (scenario === 'list') path = `/v1/cases?limit=${LIST_LIMIT}`
  else if (scenario === 'list-few') path = `/v1/cases?limit=${LIST_LIMIT}&provider=${FEW.join(',')}`
  else if (scenario === 'reference') path = '/v1/reference/statuses'
  else if (scenario === 'get') {
    const listed = await httpJson<{ items: Array<{ id: string }> }>(`${g.url}/v1/cases?limit=10&provider=${args['case-provider']}`, { headers: auth })
    path = `/v1/cases/${encodeURIComponent(listed.body.items[0]?.id ?? 'none')}`
  } else throw new Error(`--profile-scenario must be list, list-few, get or reference (got ${scenario})`)
  const t: Target = { label: 'G', url: g.url + path, headers: auth, pid: g.proc.child.pid ?? null }
  await load(t, { duration: WARMUP })
  const seconds = Number(args['profile-seconds'])
  log(`profiling G under GET ${path} for ${seconds} s`)
  const r = await load(t, { duration: seconds })
  checkRun('profile', r)
  log(`${scenario} under the profiler: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`)
  await stopProcess(g.proc, 15_000) // the profile is written while the process exits
  await stopProcess(sim.proc)
  if (shape === 'redis') log(`deleted ${await dropRedisKeys()} Redis keys under ${REDIS_PREFIX}`)
  const file = readdirSync(dir).find(f => f.endsWith('.cpuprofile') && !before.has(f))
  if (file === undefined) throw new Error(`no .cpuprofile appeared in ${dir}`)
  log(`profile: ${join(dir, file)}`)
  process.stdout.write(formatSummary(summariseProfile(join(dir, file), ROOT), 30) + '\n')
}

// ---- main ---------------------------------------------------------------------------------------------------------

process.on('exit', killAllSync)
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping child processes`)
    stopAll().finally(() => process.exit(130)).catch(() => process.exit(130))
  })
}

try {
  await (args.profile ? profile() : bench())
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
} finally {
  await stopAll()
}
