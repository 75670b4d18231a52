/** A redis-server of a test's own (to stop, freeze or misconfigure), on a free loopback port, without persistence. */
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { waitFor } from './wait.js'

export async function freePort (): Promise<number> {
  return await new Promise(resolve => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

/** true once the redis-server process `pid` answers on the loopback port (not one killed there a moment ago) */
async function answers (port: number, pid: number | undefined): Promise<boolean> {
  return await new Promise(resolve => {
    let text = ''
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    const socket = connect(port, '127.0.0.1', () => { socket.write('INFO server\r\n') })
    socket.setTimeout(1000, () => { done(false) })
    socket.on('data', data => {
      text += data.toString()
      const m = /\r\nprocess_id:(\d+)\r\n/.exec(text)
      if (m !== null) done(Number(m[1]) === pid)
    })
    socket.once('error', () => { done(false) })
  })
}

/**
 * `port`: start one again where a killed one listened (a restart that comes back empty: nothing persists).
 * Resolves once the server answers, so no test waits on a timer for it to start.
 */
export async function spawnRedis (extraArgs: string[] = [], port?: number): Promise<{ process: ChildProcess, url: string, port: number }> {
  const at = port ?? await freePort()
  const child = spawn('redis-server', ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], { stdio: 'ignore' })
  await waitFor(`redis-server on port ${at}`, async () => child.exitCode === null && await answers(at, child.pid))
  return { process: child, url: `redis://127.0.0.1:${at}`, port: at }
}
