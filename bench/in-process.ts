/**
 * What the in-process benches share (bench/promises.ts, bench/pipeline-cpu.ts, bench/listing-live-cpu.ts): the
 * simulators of every provider in a process of their own, in light mode as `npm run bench` runs them, and the
 * gateway settings of bench/run.ts with the watcher off, so only the measured requests run.
 */
import { join } from 'node:path'
import { readyLine, startProcess, type Proc } from './procs.js'

export const BENCH_KEY = 'bench-key-0123456789abcdef0123456789'

interface SimsLine { simulators: Record<string, { env: Record<string, string> }> }

/** starts `<dist>/simulators/serve.js`; `env` is what points a gateway at them, once they are ready */
export function startLightSimulators (dist: string, cwd: string): { proc: Proc, env: Promise<Record<string, string>> } {
  const proc = startProcess('simulators', process.execPath, [join(dist, 'simulators/serve.js'), '--count', '200', '--cloudflare-rate-limit', 'off', '--light'], {
    cwd, env: { ...process.env, NODE_ENV: 'production' }, stdout: 'pipe'
  })
  const env = readyLine<SimsLine>(proc).then(line => Object.assign({}, ...Object.values(line.simulators).map(s => s.env)) as Record<string, string>)
  return { proc, env }
}

/** the gateway's settings in the in-process benches, the simulators' variables last */
export function inProcessGatewayEnv (simulators: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    SANDBOX: 'false',
    LOG_LEVEL: 'info',
    RATE_LIMIT_MAX: '10000000',
    CIRCUIT_FAILURE_THRESHOLD: '1000',
    GATEWAY_API_KEYS: `bench:${BENCH_KEY}`,
    GATEWAY_SECRET: 'bench-gateway-secret-0123456789ab',
    WEBHOOK_ENCRYPTION_KEY: 'c'.repeat(64),
    WATCH_ENABLED: 'false',
    ...simulators
  }
}
