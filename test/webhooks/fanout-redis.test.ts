/**
 * Two replicas on the suite's Redis, each with its BullMQ runner, fanning out one event log to ten receivers with
 * different filters: each receiver gets exactly the events its filter matches, each verified by standardwebhooks,
 * none twice. Prints the delivery throughput and the recorded → receiver-called latency.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { idTime } from '../../src/events/store.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { recordEvents } from '../support/case-events.js'
import { eventually, startReceiver, type Receiver } from '../support/receiver.js'

const EVENTS = Number(process.env.WH_EVENTS ?? 1000)
const prefix = `wh-${randomUUID()}:`
const replicas: TestGateway[] = []
const KEY = randomBytes(32).toString('base64')
const receivers: Receiver[] = []

/** the ten subscriptions, and the oracle each receiver is checked against (written apart from the gateway's filter) */
const SUBSCRIPTIONS: Array<{ body: Record<string, unknown>, wants: (e: CaseEvent) => boolean }> = [
  { body: {}, wants: () => true },
  { body: { eventTypes: ['case.created'] }, wants: e => e.type === 'case.created' },
  { body: { filter: { providers: ['phishfort'] } }, wants: e => e.case.provider === 'phishfort' },
  { body: { filter: { statuses: ['taken_down', 'failed'] } }, wants: e => e.case.status === 'taken_down' || e.case.status === 'failed' },
  { body: { filter: { targetTypes: ['email', 'social'] } }, wants: e => ['email', 'social'].includes(e.case.target.type) },
  { body: { filter: { terminalOnly: true } }, wants: e => e.case.terminal },
  { body: { eventTypes: ['case.status_changed', 'case.reopened'], filter: { providers: ['bforeai', 'cloudflare'] } }, wants: e => ['case.status_changed', 'case.reopened'].includes(e.type) && e.case.provider !== 'phishfort' },
  { body: { filter: { statuses: ['received'], targetTypes: ['url'] } }, wants: e => e.case.status === 'received' && e.case.target.type === 'url' },
  { body: { eventTypes: ['case.updated'], filter: { terminalOnly: true } }, wants: e => e.type === 'case.updated' && e.case.terminal },
  { body: { filter: { providers: ['cloudflare'], statuses: ['in_review', 'in_progress', 'mitigated'] } }, wants: e => e.case.provider === 'cloudflare' && ['in_review', 'in_progress', 'mitigated'].includes(e.case.status) }
]

beforeAll(async () => {
  const clock = new ManualClock(Date.now())
  for (let i = 0; i < 2; i++) {
    // one Redis prefix: the two share the endpoints, the event log (a Redis Stream) and the BullMQ queues, each with
    // its own connections; the key that seals endpoint secrets too (in sandbox mode each process would draw its own)
    replicas.push(await testGateway({ clock, store: 'redis', redisPrefix: prefix, env: { WEBHOOK_ENCRYPTION_KEY: KEY } }))
  }
  for (let i = 0; i < SUBSCRIPTIONS.length; i++) receivers.push(await startReceiver())
})
afterAll(async () => {
  for (const r of replicas) await r.close()
  await Promise.all(receivers.map(async r => await r.close()))
})

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] ?? NaN

describe('fan-out across two replicas (Redis, BullMQ)', () => {
  it(`${EVENTS} events to 10 endpoints with different filters: exactly the matching events, signed, no duplicates`, async () => {
    const endpoints = []
    for (const [i, sub] of SUBSCRIPTIONS.entries()) {
      // registered through either replica: both read the same endpoints
      const res = await replicas[i % 2]!.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: receivers[i]!.url, ...sub.body } })
      expect(res.statusCode).toBe(201)
      endpoints.push(res.json() as { id: string, secret: string })
    }
    const started = Date.now()
    // recorded through one replica's events engine; both replicas' fan-outs read the same log
    const events = await recordEvents(replicas[0]!.app.events.service, EVENTS, { cases: 250 })
    const recordedMs = Date.now() - started
    expect(new Set(events.map(e => e.type))).toEqual(new Set(['case.created', 'case.status_changed', 'case.reopened']))
    const expected = SUBSCRIPTIONS.map(sub => events.filter(sub.wants).map(e => e.id))
    const total = expected.reduce((n, ids) => n + ids.length, 0)
    const done = await eventually(() => receivers.every((r, i) => r.received.length >= expected[i]!.length), 90_000, 50)
    const elapsedMs = Math.max(...receivers.map(r => r.received.at(-1)?.at ?? started)) - started
    // a moment more, so a late duplicate would show
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(done).toBe(true)
    // the recording time is the event id's (a Redis Stream id: the ms of XADD on the server's clock)
    const recordedAt = new Map(events.map(e => [e.id, idTime(e.id)]))
    const latencies: number[] = []
    for (const [i, r] of receivers.entries()) {
      const wh = new Webhook(endpoints[i]!.secret)
      const ids = r.received.map(x => String(x.headers['webhook-id']))
      expect(new Set(ids).size, `receiver ${i}: duplicates`).toBe(ids.length)
      expect([...ids].sort(), `receiver ${i}`).toEqual([...expected[i]!].sort())
      for (const x of r.received) {
        const payload = wh.verify(x.body, x.headers as Record<string, string>) as { type: string, data: { id: string } }
        expect(payload.data.id).toBe(x.headers['webhook-id'])
        latencies.push(x.at - recordedAt.get(payload.data.id)!)
      }
    }
    expect(latencies).toHaveLength(total)
    console.log(`[webhooks] ${EVENTS} events recorded in ${recordedMs} ms; ${total} deliveries to 10 endpoints over 2 replicas in ${elapsedMs} ms: ` +
      `${Math.round(total / (elapsedMs / 1000))} deliveries/s; recorded → receiver called p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms`)
    // nothing left pending: a delivery's record is removed after its receiver answered, so wait for the last ones
    const store = replicas[0]!.app.webhooks.store
    expect(await eventually(async () => (await store.pending()).count === 0, 30_000, 50)).toBe(true)
  }, 120_000)

  it('one event at a time: added latency from recorded to receiver called', async () => {
    const rx = receivers[0]!
    const before = rx.received.length
    const latencies: number[] = []
    for (let i = 0; i < 50; i++) {
      const [e] = await recordEvents(replicas[i % 2]!.app.events.service, 1)
      expect(await eventually(() => rx.received.length === before + i + 1, 10_000, 1)).toBe(true)
      latencies.push(rx.received.at(-1)!.at - idTime(e!.id))
    }
    expect(rx.received.slice(before).map(x => x.headers['webhook-id'])).toHaveLength(50)
    console.log(`[webhooks] single events, idle gateway: recorded → receiver called p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms`)
  }, 60_000)
})
