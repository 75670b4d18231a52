/**
 * The simulator of every registered provider as one standalone process (benchmarks, manual runs against a live-mode
 * gateway).
 *
 *   tsx src/simulators/serve.ts [--<provider>-port N ...] [--latency-ms N] [--seed N] [--count N]
 *                               [--light] [--<provider>-<flag> V ...]
 *
 * Ports also come from SIM_<PROVIDER>_PORT (default 0: any free port); SIM_LATENCY_MS, SIM_SEED and SIM_COUNT stand in
 * for the other flags, SIM_<PROVIDER>_<FLAG> for a provider's own flags (its module's `simulatorFlags`, e.g.
 * `--cloudflare-rate-limit N|off`: the Cloudflare simulator enforces the vendor's 1200 requests per 5 minutes unless
 * told otherwise). `--help` lists them. Listens on 127.0.0.1 only. When every simulator listens, one JSON line goes
 * to stdout, with the variables that point a live-mode gateway at each simulator. `--light` (or SIM_LIGHT=1) answers
 * repeated vendor GETs from the bytes serialised the first time (light.ts: same bytes, for load runs):
 *
 *   {"ready":true,"pid":123,"latencyMs":0,"simulators":{"bforeai":{"origin":"http://127.0.0.1:1234","baseUrl":"http://127.0.0.1:1234/api",
 *    "credential":"…","options":{},"env":{"BFOREAI_API_KEY":"…","BFOREAI_BASE_URL":"…"}},…}}
 *
 * SIGTERM or SIGINT closes every simulator and exits 0. The sandbox's small internet (targets/) is not served here: only a
 * sandbox-mode gateway can probe it (README.md in this folder says why).
 */
import { parseArgs } from 'node:util'
import { systemClock } from '../clock.js'
import { providerEnv } from '../providers/env.js'
import { PROVIDER_MODULES } from '../providers/registry.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { startSimulator, type RunningSimulator } from './harness.js'
import { createSimulator } from './index.js'
import { enableLightMode } from './light.js'

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

const providerFlags = PROVIDER_IDS.flatMap(id => [
  { id, flag: 'port', help: 'N' },
  ...(PROVIDER_MODULES[id].simulatorFlags ?? []).map(f => ({ id, ...f }))
])
const { values } = parseArgs({
  options: {
    ...Object.fromEntries(providerFlags.map(f => [`${f.id}-${f.flag}`, { type: 'string' as const }])),
    'latency-ms': { type: 'string' },
    seed: { type: 'string' },
    count: { type: 'string' },
    light: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  },
  strict: true
}) as { values: Record<string, string | boolean | undefined> }

if (values.help === true) {
  process.stdout.write(`usage: tsx src/simulators/serve.ts ${providerFlags.map(f => `[--${f.id}-${f.flag} ${f.help}]`).join(' ')} ` +
    '[--latency-ms N] [--seed N] [--count N] [--light]\n')
  process.exit(0)
}

const env = process.env
const flag = (id: ProviderId, name: string): string | undefined => {
  const v = values[`${id}-${name}`]
  return typeof v === 'string' ? v : env[`SIM_${id.toUpperCase()}_${name.toUpperCase().replace(/-/g, '_')}`]
}
const latencyMs = integer('--latency-ms', values['latency-ms'] as string | undefined ?? env.SIM_LATENCY_MS, 0, 0, 600_000)
const seed = integer('--seed', values.seed as string | undefined ?? env.SIM_SEED, 1, 0, 2 ** 31 - 1)
const count = integer('--count', values.count as string | undefined ?? env.SIM_COUNT, 36, 1, 100_000)
const light = values.light === true || env.SIM_LIGHT === '1' || env.SIM_LIGHT === 'true'

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
  const simulators: Record<string, { origin: string, baseUrl: string, credential: string, options: Readonly<Record<string, string>>, env: Record<string, string> }> = {}
  for (const id of PROVIDER_IDS) {
    const m = PROVIDER_MODULES[id]
    const flags: Record<string, string> = {}
    for (const f of m.simulatorFlags ?? []) {
      const v = flag(id, f.flag)?.trim()
      if (v !== undefined && v !== '') flags[f.flag] = v
    }
    const sim = await createSimulator(id, { clock: systemClock, seed, count, flags })
    // vendor routes only: the fault switchboard never delays the /__sim control routes
    if (latencyMs > 0) sim.faults.add({ latencyMs })
    if (light) enableLightMode(sim, { clock: systemClock })
    const r = await startSimulator(sim, integer(`--${id}-port`, flag(id, 'port'), 0, 0, 65535))
    running.push(r)
    const endpoint = { baseUrl: r.baseUrl, credential: m.sandbox.credential, options: m.sandbox.options }
    simulators[id] = { origin: r.origin, ...endpoint, env: providerEnv(id, endpoint) }
  }
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, latencyMs, seed, count, light, simulators }) + '\n')
} catch (err) {
  process.stderr.write(`simulators: could not start: ${(err as Error).message}\n`)
  await shutdown(1)
}
