/**
 * PhishFort webhooks end to end over loopback: the gateway registers itself at the simulator, the simulator signs and
 * delivers with PhishFort's retry schedule, the gateway checks signature, time and delivery id, answers 202 and
 * records the change it re-reads from PhishFort.
 */
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { phishfortSignature } from '../../src/connectors/phishfort/webhook.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import { eventually } from '../support/receiver.js'
import { RETRY_DELAYS_MS, type PhishfortWebhooks } from '../../src/simulators/phishfort/webhooks.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const SECRET_A = 'first-secret-0123456789abcdef'
const SECRET_B = 'second-secret-0123456789abcdef'
let gw: TestGateway
let origin = ''
let hooks: PhishfortWebhooks

const pf = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, json: any }> => {
  const res = await request(`${gw.sandbox.endpoints.phishfort.baseUrl}${path}`, {
    method,
    headers: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: res.statusCode, json: await res.body.json() }
}

const reReads = (): number => gw.sandbox.running.phishfort.sim.stats.get('GET', '/v1/incident/:id')

async function deliver (body: string, headers: Record<string, string>): Promise<{ status: number, json: any }> {
  const res = await request(`${origin}/v1/inbound/phishfort`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
  return { status: res.statusCode, json: await res.body.json() }
}

function signed (secret: string, body: string, deliveryId: string, at = gw.clock.now()): Record<string, string> {
  const ts = String(Math.floor(at / 1000))
  return { 'x-phishfort-signature': phishfortSignature(secret, ts, body), 'x-phishfort-timestamp': ts, 'x-phishfort-delivery-id': deliveryId, 'x-phishfort-event': 'incident.status_changed' }
}

async function eventsOf (caseId: string): Promise<CaseEvent[]> {
  return (await gw.app.inject({ url: `/v1/events?caseId=${encodeURIComponent(caseId)}&limit=100`, headers: auth() })).json().items
}

async function openIncident (): Promise<string> {
  const list = (await gw.app.inject({ url: '/v1/cases?provider=phishfort&limit=100', headers: auth() })).json().items as Array<{ id: string, terminal: boolean }>
  const open = list.find(c => !c.terminal)
  expect(open).toBeDefined()
  return (open as { id: string }).id
}

beforeAll(async () => {
  gw = await testGateway({ env: { PHISHFORT_WEBHOOK_SECRETS: `${SECRET_A},${SECRET_B}` } })
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  origin = `http://127.0.0.1:${(gw.app.server.address() as { port: number }).port}`
  hooks = gw.sandbox.running.phishfort.sim.webhooks as PhishfortWebhooks
  await gw.app.events.watcher.sync('phishfort')
})
afterAll(async () => { await gw.close() })

describe('PhishFort inbound webhooks', () => {
  it('refuses a bad signature and a stale timestamp with 401 problems, without calling PhishFort', async () => {
    const id = await openIncident()
    const body = JSON.stringify({ event: 'incident.status_changed', data: { incidentId: id.slice('phishfort:'.length) } })
    const before = reReads()
    const wrong = await deliver(body, signed('not-the-secret-0123456789', body, 'dlv-bad-1'))
    expect(wrong.status).toBe(401)
    expect(wrong.json).toMatchObject({ status: 401, code: 'GW_ERR_BAD_SIGNATURE' })
    expect(wrong.json.requestId).toBeTruthy()
    const stale = await deliver(body, signed(SECRET_A, body, 'dlv-stale-1', gw.clock.now() - 6 * 60_000))
    expect(stale.status).toBe(401)
    expect(stale.json.detail).toMatch(/5 minutes/)
    const unsigned = await deliver(body, { 'x-phishfort-delivery-id': 'dlv-none' })
    expect(unsigned.status).toBe(401)
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(reReads()).toBe(before)
    expect(JSON.stringify([wrong.json, stale.json])).not.toContain(SECRET_A)
  })

  it('takes either of two secrets, records a replayed delivery once, and the event is readable within 1 s', async () => {
    const id = await openIncident()
    const native = id.slice('phishfort:'.length)
    expect((await pf('POST', `/v1/incident/${native}/monitor`)).status).toBe(200)
    const body = JSON.stringify({ event: 'incident.status_changed', data: { incidentId: native } })
    const before = (await eventsOf(id)).length
    const first = await deliver(body, signed(SECRET_B, body, 'dlv-replay-1'))
    expect(first).toMatchObject({ status: 202, json: { accepted: true, duplicate: false } })
    const again = await deliver(body, signed(SECRET_A, body, 'dlv-replay-1'))
    expect(again).toMatchObject({ status: 202, json: { duplicate: true } })
    let mine: CaseEvent[] = []
    expect(await eventually(async () => (mine = await eventsOf(id)).length > before, 1000, 10)).toBe(true)
    expect(mine.slice(before)).toHaveLength(1)
    expect(mine.at(-1)).toMatchObject({ observedVia: 'webhook', case: { id, providerStatus: 'pre_weaponised' } })
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(await eventsOf(id)).toHaveLength(before + 1)
  })

  it('registers itself at PhishFort, keeps the secret to itself, and receives signed deliveries of real changes', async () => {
    const reg = await gw.app.inject({ method: 'POST', url: '/v1/admin/inbound/phishfort/subscription', headers: auth(), payload: { url: `${origin}/v1/inbound/phishfort` } })
    expect(reg.statusCode, reg.body).toBe(201)
    expect(reg.json()).toMatchObject({ url: `${origin}/v1/inbound/phishfort`, active: true, secretStored: true })
    expect(reg.body).not.toMatch(/secret"\s*:\s*"/)
    const subs = (await pf('GET', '/v1/webhooks')).json.data
    expect(subs).toHaveLength(1)
    expect(subs[0].secret).toBeUndefined()

    const id = await openIncident()
    expect((await pf('POST', `/v1/incident/${id.slice('phishfort:'.length)}/safe`)).status).toBe(200)
    gw.clock.advance(2 * 3_600_000)
    await hooks.deliverDue()
    const sent = hooks.attempts.filter(a => a.event === 'incident.status_changed')
    expect(sent.length).toBeGreaterThan(0)
    expect(sent.every(a => a.status === 202)).toBe(true)
    let last: CaseEvent | undefined
    await eventually(async () => (last = (await eventsOf(id)).at(-1))?.case.status === 'closed', 2000)
    expect(last).toMatchObject({ observedVia: 'webhook', case: { status: 'closed' } })

    // the test delivery names no incident: acknowledged
    const test = await pf('POST', `/v1/webhooks/${subs[0].id as string}/test`)
    expect(test.json.data.delivered).toBe(202)
  })

  it('retries a failing receiver immediately, then after 30 s, 2 min, 10 min and 1 h, then marks the subscription failed', async () => {
    const created = await pf('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['incident.created'] })
    expect(created.status).toBe(201)
    const subId = created.json.data.id as string
    expect((await pf('POST', '/v1/incident/tkd', { url: 'https://retry-me.events.example/login' })).status).toBe(201)
    const mine = (): number[] => hooks.attempts.filter(a => a.subscriptionId === subId).map(a => a.attempt)
    await hooks.deliverDue()
    expect(mine()).toEqual([1])
    for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
      gw.clock.advance(delay - 1000)
      await hooks.deliverDue()
      expect(mine()).toHaveLength(i + 1)
      gw.clock.advance(1000)
      await hooks.deliverDue()
      expect(mine()).toHaveLength(i + 2)
    }
    const sub = (await pf('GET', '/v1/webhooks')).json.data.find((s: { id: string }) => s.id === subId)
    expect(sub).toMatchObject({ active: false, status: 'failed' })
  })
})
