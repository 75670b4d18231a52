/**
 * The gateway as a real child process (`node --import tsx src/server.ts`), for tests of what only a process shows:
 * exit codes, signals, several replicas on one Redis. Every process started here is killed by `killAll()`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { inject } from 'vitest'
import type { Clock } from '../../src/clock.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'
import { createSimulator } from '../../src/simulators/index.js'
import { providerEnv } from '../../src/providers/env.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'

export interface GatewayProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** stdout lines (pino JSON) and stderr text so far */
  readonly stdout: string[]
  readonly stderr: string[]
  /** resolves with the exit code (or the signal name) */
  readonly exited: Promise<number | string>
  port: number
  origin: string
}

const started = new Set<ChildProcess>()

export function spawnGateway (env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: process.cwd(),
    // a clean environment: only what the test passes, plus what node needs to run
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  started.add(child)
  const stdout: string[] = []
  const stderr: string[] = []
  let buffered = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    stdout.push(...parts.filter(l => l !== ''))
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr.push(chunk) })
  const exited = new Promise<number | string>(resolve => {
    child.once('exit', (code, signal) => { started.delete(child); resolve(code ?? signal ?? -1) })
  })
  return { child, pid: child.pid ?? -1, stdout, stderr, exited, port: 0, origin: '' }
}

/** Waits for pino's "Server listening at" line and fills in port and origin. */
export async function listening (gw: GatewayProcess, timeoutMs = 20_000): Promise<GatewayProcess> {
  const until = Date.now() + timeoutMs
  let code: number | string | null = null
  gw.exited.then(c => { code = c }, () => {})
  while (Date.now() < until) {
    for (const line of gw.stdout) {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:(\d+))/.exec(line)
      if (m?.[1] !== undefined) {
        gw.origin = m[1]
        gw.port = Number(m[2])
        return gw
      }
    }
    if (code !== null) throw new Error(`gateway exited with ${String(code)} before listening: ${gw.stderr.join('')}${gw.stdout.join('\n')}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`gateway did not listen within ${timeoutMs} ms: ${gw.stderr.join('')}${gw.stdout.join('\n')}`)
}

/** Kills every gateway process still running (afterAll, also after a failure). */
export async function killAll (): Promise<void> {
  await Promise.all([...started].map(async child => {
    const gone = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGKILL')
    await gone
  }))
}

export interface HttpAnswer { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** One request on a fresh connection (no keep-alive), like a load balancer's first attempt. Rejects on connection errors. */
export async function httpRequest (origin: string, path: string, opts: { method?: string, headers?: Record<string, string>, body?: unknown, timeoutMs?: number } = {}): Promise<HttpAnswer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  return await new Promise<HttpAnswer>((resolve, reject) => {
    const req = request(origin + path, {
      method: opts.method ?? 'GET',
      agent: false,
      headers: { connection: 'close', ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      timeout: opts.timeoutMs ?? 10_000
    }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body })).on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('client timeout')))
    req.on('error', reject)
    req.end(payload)
  })
}

/** One set of simulators on loopback, as live vendors for gateway processes; `flags` per provider (its module's `simulatorFlags`). */
export async function startVendors (clock: Clock, seed: number, flags: Partial<Record<ProviderId, Record<string, string>>> = {}): Promise<Record<ProviderId, RunningSimulator>> {
  const sims = {} as Record<ProviderId, RunningSimulator>
  for (const id of PROVIDER_IDS) sims[id] = await startSimulator(await createSimulator(id, { clock, seed, ...(flags[id] === undefined ? {} : { flags: flags[id] }) }))
  return sims
}

/** Environment of a gateway in live mode against those simulators (credentials, options and base URLs, from each module). */
export function liveVendorEnv (sims: Record<ProviderId, RunningSimulator>): Record<string, string> {
  const env: Record<string, string> = { SANDBOX: 'false' }
  for (const id of PROVIDER_IDS) Object.assign(env, providerEnv(id, { ...PROVIDER_MODULES[id].sandbox, baseUrl: sims[id].baseUrl }))
  // required in live mode; the same on every replica (it seals webhook endpoint secrets)
  env.WEBHOOK_ENCRYPTION_KEY = 'b'.repeat(64)
  return env
}

/**
 * A replica's environment: live mode against those simulators, on the suite's Redis under a key prefix of its own
 * (`<name>-<uuid>:` unless `extra` names one), logging at info (the tests read its lines); `extra` adds or overrides.
 */
export function replicaEnv (sims: Record<ProviderId, RunningSimulator>, name: string, extra: Record<string, string>): Record<string, string> {
  return {
    ...liveVendorEnv(sims),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: `${name}-${randomUUID()}:`,
    GATEWAY_SECRET: `${name}-test-secret-0123456789`,
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...extra
  }
}
