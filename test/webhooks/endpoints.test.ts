/**
 * The endpoints API end to end (memory store, in-process jobs): register, list, ownership, the test delivery verified
 * by the Standard Webhooks library, secret rotation with overlap, the deliveries log, manual retry, 422 for literal
 * forbidden addresses, and secrets that never come back.
 */
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { attempt } from '../../src/features/webhooks/attempt.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { startReceiver, type Receiver } from '../support/receiver.js'

let gw: TestGateway
let rx: Receiver
const clock = new ManualClock(Date.now())

beforeAll(async () => {
  rx = await startReceiver()
  gw = await testGateway({ clock })
})
afterAll(async () => {
  await gw.close()
  await rx.close()
})

async function create (body: Record<string, unknown>, key = 'writer-secret-key'): Promise<{ status: number, json: any }> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(key), payload: body })
  return { status: res.statusCode, json: res.json() }
}

/** standardwebhooks' verdict; it checks the timestamp against Date.now(), so it runs at the gateway's (manual) time */
function verifies (secret: string, r: { headers: Record<string, unknown>, body: string }): boolean {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(clock.now())
  try {
    new Webhook(secret).verify(r.body, r.headers as Record<string, string>)
    return true
  } catch {
    return false
  } finally {
    vi.useRealTimers()
  }
}

describe('webhook endpoints', () => {
  it('registers an endpoint, returns the secret once, and keeps it encrypted', async () => {
    const { status, json } = await create({ url: rx.url, eventTypes: ['case.status_changed'], filter: { providers: ['phishfort'], terminalOnly: true }, description: 'SOAR' })
    expect(status).toBe(201)
    expect(json.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(json.secret.slice(6), 'base64')).toHaveLength(32)
    expect(json).toMatchObject({ owner: 'writer', url: rx.url, enabled: true, eventTypes: ['case.status_changed'], filter: { providers: ['phishfort'], terminalOnly: true } })
    const read = await gw.app.inject({ url: `/v1/webhook-endpoints/${json.id as string}`, headers: auth('writer-secret-key') })
    expect(read.statusCode).toBe(200)
    expect(read.body).not.toContain(json.secret.slice(6, 20))
    expect(read.json().secret).toBeUndefined()
    const stored = JSON.stringify(await gw.app.webhooks.store.getEndpoint(json.id))
    expect(stored).not.toContain(json.secret.slice(6))
    expect(stored).toMatch(/"sealed":"v1\./)
  })

  it('an endpoint belongs to its key: others get 404, admin sees all', async () => {
    const { json } = await create({ url: rx.url })
    const other = await gw.app.inject({ url: `/v1/webhook-endpoints/${json.id as string}`, headers: auth('reader-secret-key') })
    expect(other.statusCode).toBe(403) // read-only key: endpoints need the write scope
    const mine = await gw.app.inject({ url: '/v1/webhook-endpoints', headers: auth('writer-secret-key') })
    expect(mine.json().items.map((e: { id: string }) => e.id)).toContain(json.id)
    const { json: opsOwn } = await create({ url: rx.url }, 'ops-secret-key')
    const writerSees = await gw.app.inject({ url: `/v1/webhook-endpoints/${opsOwn.id as string}`, headers: auth('writer-secret-key') })
    expect(writerSees.statusCode).toBe(404)
    expect(writerSees.headers['content-type']).toMatch(/application\/problem\+json/)
    const admin = await gw.app.inject({ url: '/v1/webhook-endpoints', headers: auth('ops-secret-key') })
    const ids = admin.json().items.map((e: { id: string }) => e.id)
    expect(ids).toEqual(expect.arrayContaining([json.id, opsOwn.id]))
    const del = await gw.app.inject({ method: 'DELETE', url: `/v1/webhook-endpoints/${opsOwn.id as string}`, headers: auth('writer-secret-key') })
    expect(del.statusCode).toBe(404)
  })

  it('refuses literal forbidden addresses at registration with 422 and the reason; bad input is 400', async () => {
    for (const [url, reason] of [
      ['http://169.254.169.254/latest/meta-data', 'metadata'],
      ['http://0.0.0.0:8080/', 'unspecified'],
      ['http://[ff02::1]/', 'multicast']
    ] as const) {
      const { status, json } = await create({ url })
      expect([url, status]).toEqual([url, 422])
      expect(json.detail).toContain(reason)
      expect(json.requestId).toEqual(expect.any(String))
    }
    expect((await create({ url: 'ftp://example.com/x' })).status).toBe(422)
    expect((await create({ url: 'https://user:pw@example.com/x' })).status).toBe(422)
    const bad = await create({ url: rx.url, eventTypes: ['case.deleted'] })
    expect(bad.status).toBe(400)
    expect(bad.json.errors[0].path).toBe('/eventTypes/0')
  })

  it('test: a webhook.test message, sent now, verified by standardwebhooks, recorded in the deliveries log', async () => {
    const { json } = await create({ url: rx.url })
    const before = rx.received.length
    const res = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${json.id as string}/test`, headers: auth('writer-secret-key') })
    expect(res.statusCode).toBe(200)
    const attempt = res.json()
    expect(attempt).toMatchObject({ eventType: 'webhook.test', attempt: 1, outcome: 'delivered', statusCode: 204, error: null, nextRetryAt: null })
    const got = rx.received[before]!
    expect(verifies(json.secret, got)).toBe(true)
    expect(got.headers['webhook-id']).toBe(attempt.eventId)
    expect(JSON.parse(got.body)).toMatchObject({ type: 'webhook.test', data: { endpointId: json.id } })
    const log = await gw.app.inject({ url: `/v1/webhook-endpoints/${json.id as string}/deliveries`, headers: auth('writer-secret-key') })
    expect(log.json().items[0]).toEqual(attempt)
    // the same message retried: the same webhook-id, attempt 2
    const again = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${json.id as string}/deliveries/${attempt.eventId as string}/retry`, headers: auth('writer-secret-key') })
    expect(again.json()).toMatchObject({ eventId: attempt.eventId, attempt: 2, outcome: 'delivered' })
    expect(rx.received.at(-1)!.headers['webhook-id']).toBe(attempt.eventId)
  })

  it('a failing test reports the receiver status and does not disable the endpoint', async () => {
    const { json } = await create({ url: rx.url })
    rx.answer(() => ({ status: 410, body: 'gone' }))
    try {
      const res = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${json.id as string}/test`, headers: auth('writer-secret-key') })
      expect(res.json()).toMatchObject({ outcome: 'failed', statusCode: 410, error: 'receiver answered HTTP 410' })
      const ep = await gw.app.inject({ url: `/v1/webhook-endpoints/${json.id as string}`, headers: auth('writer-secret-key') })
      expect(ep.json().enabled).toBe(true)
    } finally {
      rx.answer(() => ({ status: 204 }))
    }
  })

  it('rotation: during the overlap both secrets sign and either verifies; after it only the new one', async () => {
    const { json } = await create({ url: rx.url })
    const oldSecret = json.secret as string
    const rot = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${json.id as string}/rotate-secret`, headers: auth('writer-secret-key'), payload: { overlapSeconds: 3600 } })
    expect(rot.statusCode).toBe(200)
    const newSecret = rot.json().secret as string
    expect(newSecret).not.toBe(oldSecret)
    expect(rot.json().previousSecretExpiresAt).toBe(new Date(clock.now() + 3_600_000).toISOString())
    const send = async (): Promise<{ headers: Record<string, unknown>, body: string }> => {
      const n = rx.received.length
      await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${json.id as string}/test`, headers: auth('writer-secret-key') })
      return rx.received[n]!
    }
    const during = await send()
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect([verifies(oldSecret, during), verifies(newSecret, during)]).toEqual([true, true])
    clock.advance(3_600_000)
    const after = await send()
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect([verifies(oldSecret, after), verifies(newSecret, after)]).toEqual([false, true])
    // the library really checks: a tampered body fails with the right secret
    expect(verifies(newSecret, { ...after, body: after.body.replace('test', 'tset') })).toBe(false)
  })

  it('PATCH changes the filter and re-checks the URL; DELETE removes', async () => {
    const { json } = await create({ url: rx.url })
    const patched = await gw.app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${json.id as string}`, headers: auth('writer-secret-key'), payload: { filter: { statuses: ['taken_down'] }, enabled: false } })
    expect(patched.json()).toMatchObject({ filter: { statuses: ['taken_down'] }, enabled: false, disabledReason: 'disabled by its owner' })
    const refused = await gw.app.inject({ method: 'PATCH', url: `/v1/webhook-endpoints/${json.id as string}`, headers: auth('writer-secret-key'), payload: { url: 'http://169.254.169.254/' } })
    expect(refused.statusCode).toBe(422)
    const del = await gw.app.inject({ method: 'DELETE', url: `/v1/webhook-endpoints/${json.id as string}`, headers: auth('writer-secret-key') })
    expect(del.statusCode).toBe(204)
    expect((await gw.app.inject({ url: `/v1/webhook-endpoints/${json.id as string}`, headers: auth('writer-secret-key') })).statusCode).toBe(404)
  })

  it('does not follow redirects and reads at most WEBHOOK_MAX_RESPONSE_BYTES of an answer', async () => {
    const target = await startReceiver()
    try {
      const { json } = await create({ url: rx.url })
      rx.answer(() => ({ status: 307, headers: { location: target.url } }))
      const res = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${json.id as string}/test`, headers: auth('writer-secret-key') })
      expect(res.json()).toMatchObject({ outcome: 'failed', statusCode: 307, error: 'receiver answered HTTP 307' })
      expect(target.connections()).toBe(0)
      rx.answer(() => ({ status: 200, body: 'x'.repeat(1_000_000) }))
      const big = await attempt(gw.app.webhooks.delivery.agent, rx.url, {}, '{}', { timeoutMs: 5000, maxResponseBytes: 4096, now: Date.now })
      expect([big.statusCode, big.error, big.responseExcerpt.length]).toEqual([200, null, 4096])
    } finally {
      rx.answer(() => ({ status: 204 }))
      await target.close()
    }
  })
})
