/**
 * A small TCP proxy for chaos tests, between the gateway and a simulator on loopback. It forwards requests as they
 * are and can spoil the answers: reset the connection after N bytes of a response, or drip a response slowly.
 * A fault can be limited to requests of one method (it reads the request line of each request on the connection;
 * the gateway's pools do not pipeline, so requests and responses alternate).
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export type ProxyMode =
  | { kind: 'pass' }
  /** forward `afterBytes` bytes of the response, then destroy both sockets (RST) */
  | { kind: 'reset', afterBytes: number, method?: string }
  /** forward the response `chunkBytes` at a time, one chunk every `intervalMs` */
  | { kind: 'drip', chunkBytes: number, intervalMs: number, method?: string }

export interface TcpProxy {
  readonly port: number
  readonly origin: string
  mode: ProxyMode
  /** connections accepted so far */
  readonly accepted: number
  close (): Promise<void>
}

export async function startTcpProxy (targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const proxy: { mode: ProxyMode } = { mode: { kind: 'pass' } }

  const server: Server = createServer(client => {
    accepted++
    const upstream = connect(targetPort, targetHost)
    sockets.add(client)
    sockets.add(upstream)
    let method = ''
    let sent = 0 // response bytes forwarded since the current request began
    let queue = Promise.resolve()
    const end = (): void => { client.destroy(); upstream.destroy() }
    client.on('close', () => { sockets.delete(client); upstream.destroy() })
    upstream.on('close', () => { sockets.delete(upstream); client.end() })
    client.on('error', end)
    upstream.on('error', end)

    client.on('data', chunk => {
      const line = /^([A-Z]+) \S+ HTTP\/1\.[01]\r\n/.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 2048)))
      if (line?.[1] !== undefined) { method = line[1]; sent = 0 }
      upstream.write(chunk)
    })

    upstream.on('data', chunk => {
      const mode = proxy.mode
      const applies = mode.kind !== 'pass' && (mode.method === undefined || mode.method === method)
      if (!applies) { client.write(chunk); return }
      if (mode.kind === 'reset') {
        const room = mode.afterBytes - sent
        if (room > 0) client.write(chunk.subarray(0, room))
        sent += chunk.length
        if (sent >= mode.afterBytes) {
          client.resetAndDestroy()
          upstream.destroy()
        }
        return
      }
      if (mode.kind === 'drip') {
        upstream.pause()
        queue = queue.then(async () => {
          for (let i = 0; i < chunk.length && !client.destroyed; i += mode.chunkBytes) {
            client.write(chunk.subarray(i, i + mode.chunkBytes))
            await new Promise(resolve => setTimeout(resolve, mode.intervalMs))
          }
          sent += chunk.length
          upstream.resume()
        })
      }
    })
  })

  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    get mode () { return proxy.mode },
    set mode (m: ProxyMode) { proxy.mode = m },
    get accepted () { return accepted },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
