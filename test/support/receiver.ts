/**
 * A webhook receiver on loopback: records every request (headers, raw body, time) and answers what the test says,
 * call by call. Counts TCP connections too, so a test can prove that no connection was made.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received { headers: IncomingHttpHeaders, body: string, at: number }
export interface Answer { status: number, headers?: Record<string, string>, body?: string, delayMs?: number }

export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** TCP connections accepted so far */
  connections: () => number
  /** what to answer the next request with; default 204 */
  answer: (fn: (req: Received, n: number) => Answer) => void
  close: () => Promise<void>
}

export async function startReceiver (path = '/hook'): Promise<Receiver> {
  const received: Received[] = []
  let connections = 0
  let answer: (req: Received, n: number) => Answer = () => ({ status: 204 })
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      received.push(r)
      const a = answer(r, received.length)
      const send = (): void => { res.writeHead(a.status, a.headers ?? {}).end(a.body ?? '') }
      if (a.delayMs === undefined) send()
      else setTimeout(send, a.delayMs)
    })
  })
  server.on('connection', () => { connections++ })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    received,
    connections: () => connections,
    answer: (fn) => { answer = fn },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

/** Polls until `check` holds or `ms` pass; returns whether it held. */
export async function eventually (check: () => boolean | Promise<boolean>, ms = 10_000, stepMs = 20): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, stepMs))
  }
  return await check()
}
