/**
 * The per-case ordering promise of outbound webhooks, as README 'Outbound webhooks' states it: order is not
 * guaranteed (a retried event arrives after later ones), and every payload carries `sequence` and `epoch`, so a
 * receiver that sorts a case's events by (epoch, sequence) gets the case's timeline order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { recordEvents } from '../support/case-events.js'
import { eventually, startReceiver, type Receiver } from '../support/receiver.js'

let gw: TestGateway
let rx: Receiver

beforeAll(async () => {
  gw = await testGateway({ clock: new ManualClock(Date.now()), env: { WEBHOOK_RETRY_SCHEDULE: '0,300ms', WEBHOOK_RETRY_JITTER: '0' } })
  rx = await startReceiver()
})
afterAll(async () => {
  await gw.close()
  await rx.close()
})

describe('per-case order of webhook deliveries', () => {
  it('a retried event arrives after later ones of its case; (epoch, sequence) in every payload puts them back in order', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth('writer-secret-key'), payload: { url: rx.url } })
    expect(res.statusCode).toBe(201)
    // the first attempt of the case's first event fails; everything else is taken at once
    let failed = false
    rx.answer((req) => {
      const data = (JSON.parse(req.body) as { data: CaseEvent }).data
      if (data.sequence === 1 && !failed) { failed = true; return { status: 503 } }
      return { status: 204 }
    })
    const events = await recordEvents(gw.app.events.service, 3, { cases: 1 })
    expect(events.map(e => e.sequence)).toEqual([1, 2, 3])

    expect(await eventually(() => rx.received.filter(r => r.headers['webhook-id'] !== undefined).length === 4)).toBe(true)
    const accepted = rx.received.slice(1).map(r => (JSON.parse(r.body) as { data: CaseEvent }).data)
    // as documented: not in order
    expect(accepted.map(e => e.sequence)).toEqual([2, 3, 1])
    // and as documented: each payload says where it belongs
    const epoch = gw.app.epoch.current
    expect(epoch).not.toBeNull()
    for (const e of accepted) expect(e.epoch).toBe(epoch)
    const reordered = [...accepted].sort((a, b) => a.epoch.localeCompare(b.epoch) || a.sequence - b.sequence)
    expect(reordered.map(e => e.id)).toEqual(events.map(e => e.id))
  })
})
