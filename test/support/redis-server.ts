/** A redis-server of a test's own (to stop, freeze or misconfigure), on a free loopback port, without persistence. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export async function freePort (): Promise<number> {
  return await new Promise(resolve => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

/** `port`: start one again where a killed one listened (a restart that comes back empty: nothing persists) */
export async function spawnRedis (extraArgs: string[] = [], port?: number): Promise<{ process: ChildProcess, url: string, port: number }> {
  port ??= await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], { stdio: 'ignore' })
  return { process: child, url: `redis://127.0.0.1:${port}`, port }
}
