/**
 * Delivery from the event log to receivers on loopback (memory store, in-process jobs, a shortened retry schedule):
 * retries across a receiver outage, 410 → disabled, a failing streak → disabled, Retry-After, endpoint.disabled.
 */
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { auth, KEYS, testGateway, type TestGateway } from '../support/app.js'
import { recordEvents } from '../support/case-events.js'
import { eventually, startReceiver, type Receiver } from '../support/receiver.js'
import { waitFor } from '../support/wait.js'

let gw: TestGateway
const clock = new ManualClock(Date.now())
const receivers: Receiver[] = []

beforeAll(async () => {
  gw = await testGateway({
    clock,
    env: { GATEWAY_API_KEYS: `${KEYS},other:other-secret-key:write`, WEBHOOK_RETRY_SCHEDULE: '0,300ms,300ms,300ms', WEBHOOK_RETRY_JITTER: '0', WEBHOOK_DISABLE_AFTER_MS: '60000' }
  })
})
afterAll(async () => {
  await gw.close()
  await Promise.all(receivers.map(async r => await r.close()))
})

/** case events recorded by the events engine (the memory event store), `n` of them */
async function record (n: number): Promise<Array<{ id: string, type: string }>> {
  return await recordEvents(gw.app.events.service, n)
}

async function receiver (): Promise<Receiver> {
  const r = await startReceiver()
  receivers.push(r)
  return r
}

async function register (url: string, body: Record<string, unknown> = {}, key = 'writer-secret-key'): Promise<{ id: string, secret: string }> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(key), payload: { url, ...body } })
  expect(res.statusCode).toBe(201)
  return res.json()
}

async function deliveries (id: string): Promise<Array<Record<string, any>>> {
  return (await gw.app.inject({ url: `/v1/webhook-endpoints/${id}/deliveries?limit=1000`, headers: auth('writer-secret-key') })).json().items
}

async function endpoint (id: string): Promise<Record<string, any>> {
  return (await gw.app.inject({ url: `/v1/webhook-endpoints/${id}`, headers: auth('writer-secret-key') })).json()
}

describe('delivery', () => {
  it('a receiver down for two retry steps, then up: every event delivered, the failed attempts in the log', async () => {
    const rx = await receiver()
    const ep = await register(rx.url)
    const tries = new Map<string, number>()
    rx.answer((req) => {
      const id = String(req.headers['webhook-id'])
      const n = (tries.get(id) ?? 0) + 1
      tries.set(id, n)
      return n <= 2 ? { status: 503, body: 'down for maintenance' } : { status: 200, body: 'ok' }
    })
    const events = await record(5)
    expect(await eventually(async () => (await deliveries(ep.id)).filter(d => d.outcome === 'delivered').length === 5)).toBe(true)
    const all = await deliveries(ep.id)
    for (const e of events) {
      const mine = all.filter(d => d.eventId === e.id).reverse()
      expect(mine.map(d => [d.attempt, d.outcome, d.statusCode])).toEqual([[1, 'failed', 503], [2, 'failed', 503], [3, 'delivered', 200]])
      expect(mine[0]!.error).toBe('receiver answered HTTP 503')
      expect(Date.parse(mine[0]!.nextRetryAt) - Date.parse(mine[0]!.at)).toBe(300)
    }
    // each message verified by the spec's library; the same webhook-id on every attempt of one event
    const wh = new Webhook(ep.secret)
    const delivered = rx.received
    const typeOf = new Map(events.map(e => [e.id, e.type]))
    for (const r of delivered) expect(wh.verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: typeOf.get(String(r.headers['webhook-id'])) })
    expect(new Set(delivered.map(r => r.headers['webhook-id']))).toEqual(new Set(events.map(e => e.id)))
    expect(rx.received).toHaveLength(15)
  })

  it('410 Gone disables the endpoint at once, tells the owner\'s endpoint.disabled subscribers, and nothing more is sent', async () => {
    const gone = await receiver()
    gone.answer(() => ({ status: 410 }))
    const watcher = await receiver()
    const ep = await register(gone.url)
    const ops = await register(watcher.url, { eventTypes: ['endpoint.disabled'] })
    // another key's endpoint is not told; an admin key's is
    const stranger = await receiver()
    await register(stranger.url, { eventTypes: ['endpoint.disabled'] }, 'other-secret-key')
    const admin = await receiver()
    await register(admin.url, { eventTypes: ['endpoint.disabled'] }, 'ops-secret-key')
    await record(1)
    expect(await eventually(async () => (await endpoint(ep.id)).enabled === false)).toBe(true)
    expect(await endpoint(ep.id)).toMatchObject({ enabled: false, disabledReason: 'the receiver answered 410 Gone' })
    expect((await deliveries(ep.id)).map(d => [d.outcome, d.statusCode, d.nextRetryAt])).toEqual([['endpoint_disabled', 410, null]])
    expect(await eventually(() => watcher.received.length === 1)).toBe(true)
    const note = new Webhook(ops.secret).verify(watcher.received[0]!.body, watcher.received[0]!.headers as Record<string, string>) as Record<string, any>
    expect(note).toMatchObject({ type: 'endpoint.disabled', data: { type: 'endpoint.disabled', case: null, data: { endpoint: { id: ep.id, host: new URL(gone.url).host, reason: 'the receiver answered 410 Gone' }, owner: 'writer' } } })
    expect(watcher.received[0]!.body).not.toContain(gone.url)
    // one event in the log, readable on the feed
    const logged = (await gw.app.inject({ url: '/v1/events?types=endpoint.disabled', headers: auth('reader-secret-key') })).json()
    expect(logged.items).toHaveLength(1)
    expect(logged.items[0]).toEqual(note.data)
    expect(await eventually(() => admin.received.length === 1)).toBe(true)
    // later events: nothing reaches the disabled endpoint, while an endpoint registered beside it receives them
    const beside = await receiver()
    await register(beside.url)
    const later = await record(2)
    await waitFor('the later events at the endpoint beside the disabled one', () =>
      later.every(e => beside.received.some(r => r.headers['webhook-id'] === e.id)))
    expect(gone.received).toHaveLength(1)
    expect(stranger.received).toHaveLength(0)
    const m = await gw.app.inject({ url: '/metrics' })
    expect(m.body).toMatch(/takedown_gateway_webhook_endpoints\{state="disabled"\} [1-9]/)
    expect(m.body).toMatch(/takedown_gateway_webhook_deliveries_total\{outcome="endpoint_disabled"\} [1-9]/)
  })

  it('an endpoint failing longer than WEBHOOK_DISABLE_AFTER_MS is disabled; Retry-After stretches the wait', async () => {
    const rx = await receiver()
    rx.answer(() => ({ status: 429, headers: { 'retry-after': '1' } }))
    const ep = await register(rx.url)
    await record(1)
    expect(await eventually(async () => (await deliveries(ep.id)).length === 1)).toBe(true)
    const [first] = await deliveries(ep.id)
    expect(first).toMatchObject({ attempt: 1, outcome: 'failed', statusCode: 429 })
    // the schedule says 300 ms; the receiver asked for 1 s
    expect(Date.parse(first!.nextRetryAt) - Date.parse(first!.at)).toBe(1000)
    clock.advance(61_000) // the failing streak is now older than the 60 s limit
    expect(await eventually(async () => (await endpoint(ep.id)).enabled === false, 5000)).toBe(true)
    expect((await endpoint(ep.id)).disabledReason).toMatch(/^failing since .* without a successful delivery$/)
    expect((await deliveries(ep.id))[0]).toMatchObject({ attempt: 2, outcome: 'endpoint_disabled', statusCode: 429 })
  })

  it('gives up when the schedule is used up, and records it', async () => {
    const rx = await receiver()
    rx.answer(() => ({ status: 500 }))
    const ep = await register(rx.url)
    await record(1)
    expect(await eventually(async () => (await deliveries(ep.id)).length === 4, 8000)).toBe(true)
    expect((await deliveries(ep.id)).map(d => d.outcome).reverse()).toEqual(['failed', 'failed', 'failed', 'gave_up'])
    expect((await endpoint(ep.id)).enabled).toBe(true)
  })

  it('recover: events recorded while the endpoint was disabled are delivered once it is recovered; since must lie inside the retention', async () => {
    const rx = await receiver()
    const ep = await register(rx.url)
    const off = await gw.app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${ep.id}`, headers: auth('writer-secret-key'), payload: { enabled: false } })
    expect(off.json().enabled).toBe(false)
    clock.advance(1) // earlier tests recorded events at the previous instant: `since` is inclusive
    const since = new Date(clock.now()).toISOString()
    const missed = await record(3)
    await gw.app.webhooks.fanout?.idle()
    expect(rx.received).toHaveLength(0)
    const res = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${ep.id}/recover`, headers: auth('writer-secret-key'), payload: { since } })
    expect(res.statusCode).toBe(202)
    expect(res.json()).toEqual({ queued: 3, since })
    expect(await eventually(() => rx.received.length === 3)).toBe(true)
    expect(new Set(rx.received.map(r => r.headers['webhook-id']))).toEqual(new Set(missed.map(e => e.id)))
    expect((await endpoint(ep.id)).enabled).toBe(true)
    const old = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${ep.id}/recover`, headers: auth('writer-secret-key'), payload: { since: new Date(clock.now() - 31 * 86_400_000).toISOString() } })
    expect(old.statusCode).toBe(400)
    expect(old.json().errors).toEqual([{ path: '/since', message: 'is older than the event retention' }])
  })
})
