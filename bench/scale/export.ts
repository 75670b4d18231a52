/**
 * The case export at size, measured on a gateway of its own: `src/server.ts` in a child process (tsx), pointed at the
 * bench's seeded simulators as a live gateway is pointed at its vendors, on the bench's Redis under its own prefix. The
 * child's memory is read from /proc (VmRSS sampled every 50 ms, and VmHWM, the kernel's own peak) so the figure is
 * the gateway's alone, not the bench process's with the 125,000-case simulators in it. A fresh child per size: each
 * peak is that export's, and the Cloudflare mitigation records (ADR 0028) start empty, as on a first export.
 */
import { request } from 'undici'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { providerEnv } from '../../src/providers/env.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { freePort, readCpuMs, readMem, startProcess, stopProcess, waitReady, type Proc } from '../procs.js'
import { KEY } from './env.js'

export interface ExportRun {
  rows: number
  seconds: number
  /** the child's RSS once ready, the highest sampled while it exported, and the kernel's high-water mark, MB */
  rssReadyMb: number
  rssPeakMb: number
  hwmMb: number
  /** the child's CPU during the export, ms */
  cpuMs: number
  /** vendor calls of the export, per provider (the simulators count them) */
  calls: Record<string, number>
}

const ROOT = new URL('../../', import.meta.url).pathname

/** a live-mode gateway in a process of its own, every provider pointed at the bench's simulator */
async function startGateway (o: { redisUrl: string, prefix: string, sandbox: Sandbox, env?: Record<string, string> }): Promise<{ proc: Proc, origin: string }> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    // live mode on the bench's Redis, under a prefix of this export's own (deleted with the section's keys)
    REDIS_URL: o.redisUrl,
    REDIS_KEY_PREFIX: o.prefix,
    SANDBOX: 'false',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GATEWAY_API_KEYS: `bench:${KEY}:read+write+admin`,
    GATEWAY_SECRET: 'scale-bench-gateway-secret-0123456789',
    WEBHOOK_ENCRYPTION_KEY: 'c'.repeat(64),
    MAX_EVENT_LOOP_DELAY_MS: '0',
    RATE_LIMIT_MAX: '10000000',
    WATCH_ENABLED: 'false',
    VERIFY_ENABLED: 'false',
    RDAP_ENABLED: 'false',
    ...Object.assign({}, ...PROVIDER_IDS.map(id => ({ ...providerEnv(id, o.sandbox.endpoints[id]), [`${id.toUpperCase()}_TIMEOUT_MS`]: '30000' }))) as Record<string, string>,
    ...o.env
  }
  const proc = startProcess('export gateway', process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdout: 'ignore' })
  const origin = `http://127.0.0.1:${port}`
  await waitReady(`${origin}/readyz`, proc, 60_000)
  return { proc, origin }
}

/** GET /v1/cases/export?format=ndjson&since=… on a fresh gateway process, read as fast as loopback allows */
export async function exportOnOwnGateway (o: { redisUrl: string, prefix: string, sandbox: Sandbox, since: string, env?: Record<string, string>, /** more listing filters, e.g. `&provider=…` */ query?: string }): Promise<ExportRun> {
  const { proc, origin } = await startGateway(o)
  const pid = proc.child.pid as number
  try {
    const ready = readMem(pid)
    let peakKb = ready?.rssKb ?? 0
    const sampler = setInterval(() => { peakKb = Math.max(peakKb, readMem(pid)?.rssKb ?? 0) }, 50)
    const before = Object.fromEntries(PROVIDER_IDS.map(id => [id, o.sandbox.running[id].sim.stats.total()]))
    const cpu0 = readCpuMs(pid) ?? 0
    const t0 = performance.now()
    let rows = 0
    try {
      const res = await request(`${origin}/v1/cases/export?format=ndjson&since=${encodeURIComponent(o.since)}${o.query ?? ''}`, {
        headers: { authorization: `Bearer ${KEY}` }, bodyTimeout: 900_000, headersTimeout: 900_000
      })
      for await (const chunk of res.body) for (const b of chunk as Buffer) if (b === 10) rows++
      if (res.statusCode !== 200) throw new Error(`export: ${res.statusCode}\n${proc.stderrTail()}`)
    } finally {
      clearInterval(sampler)
    }
    const seconds = (performance.now() - t0) / 1000
    const cpuMs = (readCpuMs(pid) ?? 0) - cpu0
    const end = readMem(pid)
    peakKb = Math.max(peakKb, end?.rssKb ?? 0)
    return {
      rows,
      seconds,
      rssReadyMb: (ready?.rssKb ?? 0) / 1024,
      rssPeakMb: peakKb / 1024,
      hwmMb: (end?.hwmKb ?? 0) / 1024,
      cpuMs,
      calls: Object.fromEntries(PROVIDER_IDS.map(id => [id, o.sandbox.running[id].sim.stats.total() - before[id]!]))
    }
  } finally {
    await stopProcess(proc)
  }
}
