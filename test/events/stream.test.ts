/**
 * GET /v1/events/stream over real loopback HTTP, on Redis (the shared XREAD tail): live events, resumption with
 * Last-Event-ID (every event once, in order), and the memory cost of idle clients.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseEvent } from '../../src/schemas/event.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const HOUR = 3_600_000
let gw: TestGateway
let port = 0
let n = 0

interface Stream { events: CaseEvent[], raw: string, close: () => void, status: number }

async function open (headers: Record<string, string> = {}, query = '', to = port): Promise<Stream> {
  return await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: to, path: `/v1/events/stream${query}`, headers: { ...auth(), ...headers } }, res => {
      const s: Stream = { events: [], raw: '', close: () => { req.destroy() }, status: res.statusCode ?? 0 }
      res.setEncoding('utf8')
      let buffer = ''
      res.on('data', (chunk: string) => {
        s.raw += chunk
        buffer += chunk
        let i
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, i)
          buffer = buffer.slice(i + 2)
          const data = message.split('\n').find(l => l.startsWith('data: '))
          const id = message.split('\n').find(l => l.startsWith('id: '))
          if (data !== undefined) {
            const e = JSON.parse(data.slice(6)) as CaseEvent
            expect(id).toBe(`id: ${e.id}`)
            s.events.push(e)
          }
        }
      })
      res.on('error', () => {})
      resolve(s)
    })
    req.on('error', reject)
  })
}

async function until (cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function create (): Promise<string> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'phishfort', target: { type: 'url', value: `https://stream-${++n}.events.example/login` } } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

beforeAll(async () => {
  gw = await testGateway({ store: 'redis' })
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  port = (gw.app.server.address() as { port: number }).port
  await gw.app.events.watcher.sync('phishfort')
})
afterAll(async () => { await gw.close() })

describe('GET /v1/events/stream', () => {
  it('pushes new events; a client that reconnects with Last-Event-ID gets every event once, in order', async () => {
    const first = await open()
    expect(first.status).toBe(200)
    const a = await create()
    await until(() => first.events.length === 1)
    expect(first.events[0]).toMatchObject({ type: 'case.created', case: { id: a } })
    const lastSeen = first.events[0]?.id as string
    first.close()

    // while the client is away: a second case, and both cases move on at PhishFort
    const b = await create()
    gw.clock.advance(3 * HOUR)
    await gw.app.events.watcher.sync('phishfort')
    const missed = (await gw.app.inject({ url: `/v1/events?after=${lastSeen}`, headers: auth() })).json().items as CaseEvent[]
    expect(missed.length).toBeGreaterThanOrEqual(3)
    expect(new Set(missed.map(e => e.case.id))).toEqual(new Set([a, b]))

    const resumed = await open({ 'last-event-id': lastSeen })
    await until(() => resumed.events.length >= missed.length)
    const c = await create()
    await until(() => resumed.events.some(e => e.case.id === c))
    resumed.close()
    const ids = resumed.events.map(e => e.id)
    expect(ids.slice(0, missed.length)).toEqual(missed.map(e => e.id))
    expect(new Set(ids).size).toBe(ids.length)
    expect(resumed.events.at(-1)).toMatchObject({ type: 'case.created', case: { id: c } })
    expect(resumed.raw.startsWith('retry: ')).toBe(true)
  })

  it('filters the stream like the feed, and refuses a malformed Last-Event-ID with a problem', async () => {
    const only = await open({}, '?types=case.status_changed')
    const id = await create()
    gw.clock.advance(30 * HOUR)
    await gw.app.events.watcher.sync('phishfort')
    await until(() => only.events.some(e => e.case.id === id))
    only.close()
    expect(only.events.every(e => e.type === 'case.status_changed')).toBe(true)

    const bad = await open({ 'last-event-id': 'not-an-id' })
    expect(bad.status).toBe(400)
    bad.close()
  })

  it('sends an idle client a keep-alive comment at the configured heartbeat interval', async () => {
    const quick = await testGateway({ env: { EVENTS_STREAM_HEARTBEAT_MS: '200' } })
    try {
      await quick.app.listen({ port: 0, host: '127.0.0.1' })
      const s = await open({}, '', (quick.app.server.address() as { port: number }).port)
      expect(s.status).toBe(200)
      // nothing happens on this gateway, so only the heartbeat can write; at the 15 s default none would come in the
      // 3 s this waits, at 200 ms several do
      await until(() => s.raw.split(': keep-alive\n\n').length > 2, 3000)
      s.close()
      expect(s.events).toEqual([])
    } finally {
      await quick.close()
    }
  })

  it('holds 1,000 idle clients on one replica for well under 50 MB of extra RSS', async () => {
    global.gc?.()
    const before = process.memoryUsage().rss
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
    const clients: http.ClientRequest[] = []
    let opened = 0
    let reached = 0
    for (let i = 0; i < 1000; i++) {
      const req = http.get({ host: '127.0.0.1', port, path: '/v1/events/stream', headers: auth(), agent }, res => {
        opened++
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { if (chunk.includes('event: case.created')) reached++ })
      })
      req.on('error', () => {})
      clients.push(req)
    }
    await until(() => opened === 1000, 30_000)
    global.gc?.()
    const extraMb = (process.memoryUsage().rss - before) / 1024 / 1024
    // client and server sides of each connection live in this one process: the server's share is below this
    console.log(`1000 idle SSE clients: +${extraMb.toFixed(1)} MB RSS (both ends of every connection)`)
    expect(extraMb).toBeLessThan(50)
    // every one of them gets the next event, fanned out from the one shared tail
    await create()
    await until(() => reached === 1000, 30_000)
    for (const req of clients) req.destroy()
    agent.destroy()
  }, 60_000)
})
