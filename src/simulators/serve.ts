/**
 * The three vendor simulators as one standalone process (benchmarks, manual runs against a live-mode gateway).
 *
 *   tsx src/simulators/serve.ts [--bforeai-port N] [--phishfort-port N] [--cloudflare-port N]
 *                               [--latency-ms N] [--seed N] [--count N] [--cloudflare-rate-limit N|off]
 *
 * Ports also come from SIM_BFOREAI_PORT, SIM_PHISHFORT_PORT, SIM_CLOUDFLARE_PORT (default 0: any free port);
 * SIM_LATENCY_MS, SIM_SEED, SIM_COUNT and SIM_CLOUDFLARE_RATE_LIMIT stand in for the other flags. The Cloudflare
 * simulator enforces the vendor's budget (1200 requests per 5 minutes, then 429 for 5 minutes) unless
 * `--cloudflare-rate-limit` sets another budget per 5 minutes or `off` (load tests). Listens on 127.0.0.1 only. When every
 * simulator listens, one JSON line goes to stdout:
 *
 *   {"ready":true,"pid":123,"latencyMs":0,"simulators":{"bforeai":{"origin":"http://127.0.0.1:1234","baseUrl":"http://127.0.0.1:1234/api",
 *    "credential":"…"},…},"cloudflareAccount":"…"}
 *
 * SIGTERM or SIGINT closes every simulator and exits 0.
 */
import { parseArgs } from 'node:util'
import { systemClock } from '../clock.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { startSimulator, type RunningSimulator } from './harness.js'
import { createCloudflareSimulator } from './cloudflare/index.js'
import { SANDBOX_CLOUDFLARE_ACCOUNT, SANDBOX_CREDENTIALS, SIMULATORS } from './index.js'

function fail (message: string): never {
  process.stderr.write(`simulators: ${message}\n`)
  process.exit(64) // EX_USAGE
}

function integer (name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw.trim() === '') return def
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name} must be an integer from ${min} to ${max} (got "${raw}")`)
  return n
}

const { values } = parseArgs({
  options: {
    'bforeai-port': { type: 'string' },
    'phishfort-port': { type: 'string' },
    'cloudflare-port': { type: 'string' },
    'latency-ms': { type: 'string' },
    seed: { type: 'string' },
    count: { type: 'string' },
    'cloudflare-rate-limit': { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  },
  strict: true
})

if (values.help === true) {
  process.stdout.write('usage: tsx src/simulators/serve.ts [--bforeai-port N] [--phishfort-port N] [--cloudflare-port N] ' +
    '[--latency-ms N] [--seed N] [--count N] [--cloudflare-rate-limit N|off]\n')
  process.exit(0)
}

const env = process.env
const latencyMs = integer('--latency-ms', values['latency-ms'] ?? env.SIM_LATENCY_MS, 0, 0, 600_000)
const seed = integer('--seed', values.seed ?? env.SIM_SEED, 1, 0, 2 ** 31 - 1)
const count = integer('--count', values.count ?? env.SIM_COUNT, 36, 1, 100_000)
const rateLimitRaw = values['cloudflare-rate-limit'] ?? env.SIM_CLOUDFLARE_RATE_LIMIT
const RATE_WINDOW_MS = 5 * 60_000
const cloudflareRateLimit = rateLimitRaw === undefined || rateLimitRaw.trim() === ''
  ? undefined
  : rateLimitRaw.trim() === 'off'
    ? { limit: Number.MAX_SAFE_INTEGER, windowMs: RATE_WINDOW_MS }
    : { limit: integer('--cloudflare-rate-limit', rateLimitRaw, 1200, 1, Number.MAX_SAFE_INTEGER), windowMs: RATE_WINDOW_MS }
const ports: Record<ProviderId, number> = {
  bforeai: integer('--bforeai-port', values['bforeai-port'] ?? env.SIM_BFOREAI_PORT, 0, 0, 65535),
  phishfort: integer('--phishfort-port', values['phishfort-port'] ?? env.SIM_PHISHFORT_PORT, 0, 0, 65535),
  cloudflare: integer('--cloudflare-port', values['cloudflare-port'] ?? env.SIM_CLOUDFLARE_PORT, 0, 0, 65535)
}

const running: RunningSimulator[] = []
let closing = false

async function shutdown (code: number): Promise<void> {
  if (closing) return
  closing = true
  const timer = setTimeout(() => process.exit(code === 0 ? 1 : code), 5000)
  timer.unref()
  await Promise.allSettled(running.map(r => r.close()))
  process.exit(code)
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { shutdown(0).catch(() => process.exit(1)) })

try {
  const simulators: Record<string, { origin: string, baseUrl: string, credential: string }> = {}
  for (const id of PROVIDER_IDS) {
    const opts = { clock: systemClock, apiKey: SANDBOX_CREDENTIALS[id], accountId: SANDBOX_CLOUDFLARE_ACCOUNT, seed, count }
    const sim = id === 'cloudflare'
      ? createCloudflareSimulator({ ...opts, ...(cloudflareRateLimit === undefined ? {} : { rateLimit: cloudflareRateLimit }) })
      : SIMULATORS[id](opts)
    // vendor routes only: the fault switchboard never delays the /__sim control routes
    if (latencyMs > 0) sim.faults.add({ latencyMs })
    const r = await startSimulator(sim, ports[id])
    running.push(r)
    simulators[id] = { origin: r.origin, baseUrl: r.baseUrl, credential: SANDBOX_CREDENTIALS[id] }
  }
  process.stdout.write(JSON.stringify({
    ready: true,
    pid: process.pid,
    latencyMs,
    cloudflareRateLimit: cloudflareRateLimit === undefined ? 'vendor (1200 per 5 min)' : rateLimitRaw,
    seed,
    count,
    simulators,
    cloudflareAccount: SANDBOX_CLOUDFLARE_ACCOUNT
  }) + '\n')
} catch (err) {
  process.stderr.write(`simulators: could not start: ${(err as Error).message}\n`)
  await shutdown(1)
}
