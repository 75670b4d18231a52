/**
 * One slow receiver cannot take every delivery slot: with 4 slots per replica and at most 2 per endpoint, a receiver
 * that holds each request for seconds gets 2 at a time while a fast receiver gets all of its messages meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { recordEvents } from '../support/case-events.js'
import { eventually, startReceiver, type Receiver } from '../support/receiver.js'

let gw: TestGateway
let slow: Receiver
let fast: Receiver

beforeAll(async () => {
  gw = await testGateway({ clock: new ManualClock(Date.now()), env: { WEBHOOK_CONCURRENCY: '4', WEBHOOK_ENDPOINT_CONCURRENCY: '2' } })
  slow = await startReceiver()
  fast = await startReceiver()
  slow.answer(() => ({ status: 204, delayMs: 3000 }))
})
afterAll(async () => {
  await gw.close()
  await slow.close()
  await fast.close()
})

describe('per-endpoint concurrency', () => {
  it('a slow receiver holds at most its share of slots; the others are served meanwhile', async () => {
    for (const rx of [slow, fast]) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: rx.url } })
      expect(res.statusCode).toBe(201)
    }
    const events = await recordEvents(gw.app.events.service, 12)
    expect(await eventually(() => fast.received.length === events.length, 2500)).toBe(true)
    // the slow receiver's first requests are still being held: it has seen at most its 2 slots' worth
    expect(slow.received.length).toBeLessThanOrEqual(2)
    expect(await eventually(() => slow.received.length === events.length, 60_000, 100)).toBe(true)
    expect(new Set(slow.received.map(r => r.headers['webhook-id'])).size).toBe(events.length)
  }, 90_000)
})
