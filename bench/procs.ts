/**
 * Child-process plumbing for the benchmark: start, wait for a ready line, sample memory and CPU from /proc,
 * and kill everything that was started, on success, failure or Ctrl-C.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { request } from 'undici'

export interface Proc {
  name: string
  child: ChildProcess
  /** the last few KB of stderr, for error messages */
  stderrTail: () => string
  exited: Promise<number | null>
}

const procs = new Set<Proc>()

export function startProcess (name: string, command: string, args: string[], opts: {
  env: NodeJS.ProcessEnv
  cwd: string
  /** 'pipe' when the process prints a ready line; 'ignore' sends stdout to /dev/null */
  stdout: 'pipe' | 'ignore'
}): Proc {
  const stdio: StdioOptions = ['ignore', opts.stdout, 'pipe']
  const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio })
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => { tail = (tail + chunk).slice(-4000) })
  const exited = new Promise<number | null>(resolve => {
    child.once('exit', code => { procs.delete(proc); resolve(code) })
    child.once('error', () => { procs.delete(proc); resolve(null) })
  })
  const proc: Proc = { name, child, stderrTail: () => tail, exited }
  procs.add(proc)
  return proc
}

/** Resolves with the first stdout line that parses as JSON with `ready: true`. */
export async function readyLine<T> (proc: Proc, timeoutMs = 30_000): Promise<T> {
  const out = proc.child.stdout
  if (out === null) throw new Error(`${proc.name}: stdout is not piped`)
  out.setEncoding('utf8')
  return await new Promise<T>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => finish(new Error(`${proc.name} printed no ready line within ${timeoutMs} ms\n${proc.stderrTail()}`)), timeoutMs)
    const onData = (chunk: string): void => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (!line.startsWith('{')) continue
        try {
          const v = JSON.parse(line) as { ready?: boolean }
          if (v.ready === true) { finish(null, v as T); return }
        } catch { /* not our line */ }
      }
    }
    const onExit = (code: number | null): void => finish(new Error(`${proc.name} exited (${code}) before it was ready\n${proc.stderrTail()}`))
    const finish = (err: Error | null, value?: T): void => {
      clearTimeout(timer)
      out.off('data', onData)
      proc.child.off('exit', onExit)
      // keep draining so the child never blocks on a full pipe
      out.resume()
      if (err !== null) reject(err)
      else resolve(value as T)
    }
    out.on('data', onData)
    proc.child.once('exit', onExit)
  })
}

/** Resolves once `url` answers 200 (a gateway's /readyz); throws when the process exits or `timeoutMs` passes. */
export async function waitReady (url: string, proc: Proc, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}) during start-up:\n${proc.stderrTail()}`)
    try {
      const res = await request(url)
      await res.body.dump()
      if (res.statusCode === 200) return
    } catch { /* not listening yet */ }
    if (Date.now() > until) throw new Error(`${proc.name} was not ready within ${timeoutMs} ms:\n${proc.stderrTail()}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess (proc: Proc, graceMs = 5000): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode
  proc.child.kill('SIGTERM')
  const timer = setTimeout(() => { proc.child.kill('SIGKILL') }, graceMs)
  const code = await proc.exited
  clearTimeout(timer)
  return code
}

export async function stopAll (): Promise<void> {
  await Promise.allSettled([...procs].map(p => stopProcess(p)))
}

/** Last resort on exit: the event loop is gone, so only synchronous kills. */
export function killAllSync (): void {
  for (const p of procs) {
    try { p.child.kill('SIGKILL') } catch { /* already gone */ }
  }
}

export async function freePort (): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** A throw-away redis-server on a free loopback port, without persistence, once it answers. */
export async function startRedis (): Promise<{ url: string, stop: () => void }> {
  const port = await freePort()
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const url = `redis://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null })
    probe.on('error', () => {})
    try {
      await probe.connect()
      await probe.quit()
      return { url, stop: () => { server.kill('SIGTERM') } }
    } catch (err) {
      probe.disconnect()
      if (tries > 50) {
        server.kill('SIGTERM')
        throw err
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}

export interface MemSample { rssKb: number, hwmKb: number }

export function readMem (pid: number): MemSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') }
  } catch {
    return null
  }
}

/** user + system CPU time of a process in milliseconds (Linux /proc; null elsewhere) */
export function readCpuMs (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * 10 : null // CLK_TCK is 100 on Linux
  } catch {
    return null
  }
}

/** Polls a process's memory every `everyMs`; `mark(label)` starts a new phase so peaks can be told apart. */
export class RssMonitor {
  readonly #pid: number
  readonly #timer: NodeJS.Timeout
  #phase = 'startup'
  peakRssKb = 0
  hwmKb = 0
  readonly phases = new Map<string, number>()

  constructor (pid: number, everyMs = 200) {
    this.#pid = pid
    this.#timer = setInterval(() => this.sample(), everyMs)
    this.#timer.unref()
    this.sample()
  }

  mark (phase: string): void { this.#phase = phase }

  sample (): void {
    const m = readMem(this.#pid)
    if (m === null) return
    if (m.rssKb > this.peakRssKb) this.peakRssKb = m.rssKb
    if (m.hwmKb > this.hwmKb) this.hwmKb = m.hwmKb
    if (m.rssKb > (this.phases.get(this.#phase) ?? 0)) this.phases.set(this.#phase, m.rssKb)
  }

  stop (): void {
    this.sample()
    clearInterval(this.#timer)
  }
}
