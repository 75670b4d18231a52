/**
 * GET /v1/cases/{id} for a vendor that keeps no history (BforeAI): the status changes the gateway recorded come back
 * as `source: 'gateway'` entries before the vendor's one current entry; vendors with a history of their own are left
 * as they are; an event store that is down leaves the vendor's entries and still answers.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisEventStore } from '../../src/events/redis-store.js'
import type { HistoryEntry } from '../../src/schemas/case.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { followFeed } from '../support/case-events.js'
import { freePort } from '../support/redis-server.js'

const HOUR = 3_600_000
let gw: TestGateway

async function createBforeai (app: TestGateway['app'], value: string): Promise<{ id: string, createdAt: string }> {
  const res = await app.inject({
    method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'bforeai', target: { type: 'url', value }, brand: { id: 501 }, comment: 'clone of our login page' }
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function history (app: TestGateway['app'], id: string): Promise<HistoryEntry[]> {
  const res = await app.inject({ url: `/v1/cases/${encodeURIComponent(id)}`, headers: auth() })
  expect(res.statusCode, res.body).toBe(200)
  return res.json().history
}

beforeAll(async () => {
  gw = await testGateway()
  // the first look at a vendor is silent; from here on its changes are events
  await gw.app.events.watcher.sync('bforeai')
})
afterAll(async () => { await gw?.close() })

describe('case history of a vendor that keeps none', () => {
  it('shows the earlier states the gateway recorded, then the vendor\'s current entry', async () => {
    const { id, createdAt } = await createBforeai(gw.app, 'https://login-acme.history.example/secure')
    // the create's event is recorded after the answer: wait for it
    const until = Date.now() + 10_000
    while ((await followFeed(gw.app, `&caseId=${encodeURIComponent(id)}`)).length === 0 && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 20))
    // BforeAI alone shows one entry: its current state
    const fresh = await history(gw.app, id)
    expect(fresh.map(e => [e.status, e.source])).toEqual([['received', 'provider']])

    // the vendor moves the case on (Pending → In Progress after an hour); the watcher records the change
    gw.clock.advance(2 * HOUR)
    expect((await gw.app.events.watcher.sync('bforeai')).events).toBeGreaterThanOrEqual(1)
    // a cancel through the gateway: BforeAI now shows "Cancelled" only, the earlier states are gone from its object
    const cancel = await gw.app.inject({ method: 'POST', url: `/v1/cases/${encodeURIComponent(id)}/cancel`, headers: auth(), payload: { reasonId: 1, description: 'false positive' } })
    expect(cancel.statusCode, cancel.body).toBe(200)
    expect(cancel.json()).toMatchObject({ status: 'cancelled', terminal: true })

    const entries = await history(gw.app, id)
    expect(entries).toEqual([
      { at: createdAt, status: 'received', providerStatus: 'Pending', message: 'case created (observed by the gateway)', source: 'gateway' },
      { at: new Date(Date.parse(createdAt) + HOUR).toISOString(), status: 'in_progress', providerStatus: 'In Progress', message: 'status changed (observed by the gateway)', source: 'gateway' },
      { at: new Date(gw.clock.now()).toISOString(), status: 'cancelled', providerStatus: 'Cancelled', message: 'False positive', source: 'provider' }
    ])
    // the same steps as the case's timeline, which also holds the cancel the gateway recorded (the vendor's entry wins)
    const timeline = (await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}/timeline`, headers: auth() })).json().items as Array<{ case: { status: string } }>
    expect(timeline.map(e => e.case.status)).toEqual(['received', 'in_progress', 'cancelled'])
  })

  it('leaves the history of a vendor that keeps its own as the vendor gives it', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'phishfort', target: { type: 'url', value: 'https://pay-acme.history.example/' } } })
    expect(res.statusCode, res.body).toBe(201)
    const id = res.json().id as string
    gw.clock.advance(2 * HOUR)
    await gw.app.events.watcher.sync('phishfort')
    expect((await followFeed(gw.app, `&caseId=${encodeURIComponent(id)}`)).length).toBeGreaterThanOrEqual(1)
    const entries = await history(gw.app, id)
    expect(entries.length).toBeGreaterThanOrEqual(1)
    expect(entries.every(e => e.source === 'provider')).toBe(true)
  })

  it('answers with the vendor\'s entries when the event store is down, and says so at warn', async () => {
    const lines: Array<{ level: number, msg: string, caseId?: string }> = []
    const store = new RedisEventStore(`redis://127.0.0.1:${await freePort()}`, {
      keyPrefix: 'history-down:', clock: gw.clock, log: pino({ level: 'silent' }), retention: { retentionMs: 30 * 24 * HOUR, timelineRetentionMs: 365 * 24 * HOUR }
    })
    const down = await testGateway({
      sandbox: gw.sandbox,
      clock: gw.clock,
      appOptions: { eventStore: store, loggerInstance: pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line)) } }) }
    })
    try {
      const { id } = await createBforeai(down.app, 'https://verify-acme.history.example/secure')
      gw.clock.advance(2 * HOUR)
      const entries = await history(down.app, id)
      expect(entries).toMatchObject([{ status: 'in_progress', providerStatus: 'In Progress', source: 'provider' }])
      expect(lines.some(l => l.level === 40 && l.caseId === id && /history shows the vendor's entries only/.test(l.msg))).toBe(true)
    } finally {
      await down.close()
      await store.close()
    }
  })
})
