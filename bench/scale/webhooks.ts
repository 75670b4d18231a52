/**
 * Webhooks at size: ten endpoints subscribed to every event, each a fast loopback receiver (204 at once), one replica
 * fanning the event log out through its BullMQ delivery queue. Two runs: events appended at a steady rate (the delay
 * append → receiver p50 / p99 when the replica keeps up), then a burst (deliveries per second the replica sustains).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { systemClock } from '../../src/clock.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { scaleCase, templates } from './cases.js'
import { AUTH, cpuMs, fmt, gateway, percentile, until, type Row } from './env.js'

const RECEIVERS = 10

interface Receivers { urls: string[], delays: number[], lastAt: number, count: () => number, close: () => Promise<void> }

async function receivers (): Promise<Receivers> {
  const servers: Server[] = []
  const out: Receivers = { urls: [], delays: [], lastAt: 0, count: () => out.delays.length, close: async () => { for (const s of servers) { s.closeAllConnections(); await new Promise(resolve => s.close(resolve)) } } }
  for (let i = 0; i < RECEIVERS; i++) {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const at = Date.now()
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string }
        out.delays.push(at - Date.parse(body.timestamp))
        out.lastAt = at
        res.writeHead(204).end()
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    out.urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`)
  }
  return out
}

export async function webhooksSection (o: { redisUrl: string, prefix: string, sandbox: Sandbox, events: number, ratePerSecond: number }): Promise<Row[]> {
  const gw = await gateway({ redisUrl: o.redisUrl, prefix: o.prefix, clock: systemClock, sandbox: o.sandbox, env: { WEBHOOK_ENCRYPTION_KEY: randomBytes(32).toString('base64') } })
  const rx = await receivers()
  try {
    const tpl = await templates(gw.app)
    for (const url of rx.urls) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: AUTH, payload: { url } })
      if (res.statusCode !== 201) throw new Error(`POST /v1/webhook-endpoints: ${res.statusCode} ${res.body}`)
    }
    const service = gw.app.events.service
    const run = async (tag: string, n: number, every: number): Promise<{ rate: number, p50: number, p99: number, cpuUs: number }> => {
      rx.delays.length = 0
      const c0 = cpuMs()
      const t0 = performance.now()
      const started = Date.now()
      const appends: Array<Promise<unknown>> = []
      for (let k = 0; k < n; k++) {
        const wait = t0 + k * every - performance.now()
        if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
        appends.push(service.observe(scaleCase(tpl, tag, k, 0), 'poll', false))
        // a burst still lets the loop turn now and then (the appends are Redis round trips)
        if (every === 0 && k % 64 === 63) await Promise.all(appends.splice(0))
      }
      await Promise.all(appends)
      await until(() => rx.count() >= n * RECEIVERS, 300_000, `${n * RECEIVERS} webhook deliveries`)
      return { rate: rx.count() / ((rx.lastAt - started) / 1000), p50: percentile(rx.delays, 0.5), p99: percentile(rx.delays, 0.99), cpuUs: (cpuMs() - c0) * 1000 / rx.count() }
    }
    const paced = await run(`whp${process.pid}`, o.events, 1000 / o.ratePerSecond)
    const burst = await run(`whb${process.pid}`, o.events, 0)
    return [
      { section: 'webhooks', metric: `deliveries per second, burst of ${fmt(o.events)} events × ${RECEIVERS} receivers`, target: '≥ 1,000/s', measured: `${fmt(burst.rate)}/s, ${fmt(burst.cpuUs)} µs CPU per delivery (receivers included; append → receiver p50 ${fmt(burst.p50)} / p99 ${fmt(burst.p99)} ms)`, met: burst.rate >= 1000 },
      { section: 'webhooks', metric: `append → receiver p50 / p99, ${o.ratePerSecond} events/s × ${RECEIVERS} receivers`, target: '', measured: `${fmt(paced.p50)} / ${fmt(paced.p99)} ms (${fmt(paced.rate)} deliveries/s)`, met: null }
    ]
  } finally {
    await gw.close()
    await rx.close()
  }
}
