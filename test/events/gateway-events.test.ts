/**
 * Events of the gateway itself in the event log, on both event stores: a finished bulk batch is one `batch.completed`
 * event on GET /v1/events, beside the case events and kept apart from them by the case filters.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Value } from 'typebox/value'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Batch } from '../../src/schemas/batch.js'
import { EventPageSchema, type Event } from '../../src/schemas/event.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { eventually, startReceiver, type Receiver } from '../support/receiver.js'
import { waitFor } from '../support/wait.js'

describe.each(['memory', 'redis'] as const)('batch.completed on the %s event store', (store) => {
  let gw: TestGateway
  let rx: Receiver
  beforeAll(async () => {
    gw = await testGateway({ store })
    await gw.app.listen({ host: '127.0.0.1', port: 0 })
    rx = await startReceiver()
  })
  afterAll(async () => {
    await gw.close()
    await rx.close()
  })

  const get = async (path: string) => await gw.app.inject({ url: path, headers: auth() })
  const completed = async (): Promise<Event[]> => {
    const res = await get('/v1/events?types=batch.completed')
    expect(res.statusCode).toBe(200)
    expect(Value.Check(EventPageSchema, res.json())).toBe(true)
    return res.json<{ items: Event[] }>().items
  }

  /** the raw SSE text of GET /v1/events/stream`query` until it holds `id` */
  const streamUntil = async (query: string, id: string): Promise<string> => await new Promise((resolve, reject) => {
    const port = (gw.app.server.address() as AddressInfo).port
    const req = http.get({ host: '127.0.0.1', port, path: `/v1/events/stream${query}`, headers: auth() }, res => {
      let raw = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        raw += chunk
        if (raw.includes(`id: ${id}\n`) && raw.endsWith('\n\n')) { req.destroy(); resolve(raw) }
      })
      res.on('error', () => {})
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => { req.destroy(new Error('no event on the stream')) })
  })

  it('records exactly one event when a batch finishes, readable by type, delivered to subscribers, never by a case filter', async () => {
    const hook = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: rx.url, eventTypes: ['batch.completed'] } })
    expect(hook.statusCode).toBe(201)
    const host = `gw-events-${store}-${Date.now().toString(36)}.example.net`
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: auth(),
      payload: { defaults: { comment: 'kit hunt', brand: { id: 501, name: 'Acme Bank' } }, items: [{ provider: 'phishfort', target: { type: 'url', value: `https://${host}/login` } }, { provider: 'bforeai', target: { type: 'url', value: `https://${host}/verify` } }] }
    })
    expect(res.statusCode).toBe(202)
    const id = res.json<Batch>().id
    const events = await waitFor('the batch.completed event of the batch', async () => {
      const found = (await completed()).filter(e => e.type === 'batch.completed' && e.data.batch.id === id)
      return found.length > 0 && found
    })
    const batch = (await get(`/v1/batches/${id}`)).json<Batch>()
    expect(events).toEqual([{
      id: expect.stringMatching(/^\d+-\d+$/),
      type: 'batch.completed',
      occurredAt: batch.completedAt,
      observedAt: expect.any(String),
      observedVia: 'gateway',
      case: null,
      data: {
        batch: { id, status: 'completed', total: 2, counts: { created: 2, duplicate: 0, failed: 0, cancelled: 0, pending: 0 }, createdAt: batch.createdAt, completedAt: batch.completedAt, link: `/v1/batches/${id}` },
        owner: batch.createdBy
      }
    }])
    // the batch's case writes are case events in the same log, before it
    const all = (await get('/v1/events?limit=500')).json<{ items: Event[] }>().items
    const at = all.findIndex(e => e.id === events[0]?.id)
    expect(all.slice(0, at).filter(e => e.type === 'case.created' && e.case.target.value.includes(host))).toHaveLength(2)
    // the stream replays it after the event before it, as `event: batch.completed`
    const sse = await streamUntil(`?types=batch.completed&after=${all[at - 1]?.id ?? ''}`, events[0]?.id ?? '')
    expect(sse).toContain(`id: ${events[0]?.id}\nevent: batch.completed\ndata: ${JSON.stringify(events[0])}\n\n`)
    // provider / terminal filters select case events only
    for (const q of ['provider=phishfort', 'terminal=false', 'types=batch.completed&provider=bforeai']) {
      const page = (await get(`/v1/events?${q}&limit=500`)).json<{ items: Event[] }>()
      expect(page.items.some(e => e.case === null)).toBe(false)
    }
    // still one, a while later (the other item's worker, a retried job, records nothing more)
    await new Promise(resolve => setTimeout(resolve, 300))
    expect((await completed()).filter(e => e.type === 'batch.completed' && e.data.batch.id === id)).toHaveLength(1)
    // the webhook fan-out from the log delivers it, and only it, to the endpoint that subscribed to the type
    expect(await eventually(() => rx.received.length >= 1)).toBe(true)
    await gw.app.webhooks.fanout?.idle()
    expect(rx.received.map(r => JSON.parse(r.body) as unknown)).toEqual([{ type: 'batch.completed', timestamp: events[0]?.observedAt, data: events[0] }])
    const metrics = (await gw.app.inject({ url: '/metrics' })).body
    expect(metrics).toMatch(/takedown_gateway_events_total\{type="batch.completed",provider=""\} 1\b/)
  })

  it('names the new types in the 400 for an unknown one', async () => {
    const res = await get('/v1/events?types=batch.finished')
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json()).toMatchObject({ allowed: expect.arrayContaining(['batch.completed', 'endpoint.disabled', 'case.created']) })
  })
})
