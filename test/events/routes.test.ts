/**
 * The events engine through the API, on the memory store and the simulators: the silent first look, gateway writes,
 * watcher polls, late changes (inside and beyond the look-back window), the feed, the timeline, resumption limits.
 */
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { CaseEventSchema, type CaseEvent } from '../../src/schemas/event.js'
import type { ProviderId } from '../../src/schemas/provider.js'
import { SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import { auth, CLOUDFLARE_REPORT_OPTIONS, testGateway, type TestGateway } from '../support/app.js'
import { followFeed } from '../support/case-events.js'
import { eventually } from '../support/receiver.js'

const DAY = 86_400_000
const HOUR = 3_600_000
let gw: TestGateway
let n = 0
const url = (): string => `https://login-acme-${++n}.events.example/secure`

async function syncAll (): Promise<number> {
  let events = 0
  for (const p of ['bforeai', 'phishfort', 'cloudflare'] as ProviderId[]) events += (await gw.app.events.watcher.sync(p)).events
  return events
}

const feed = async (query = ''): Promise<CaseEvent[]> => await followFeed(gw.app, query)

/** a PhishFort incident reported straight at the vendor (not through the gateway) */
async function reportAtPhishfort (kind: 'tkd' | 'monitor'): Promise<string> {
  const res = await request(`${gw.sandbox.endpoints.phishfort.baseUrl}/v1/incident/${kind}`, {
    method: 'POST',
    headers: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort, 'content-type': 'application/json' },
    body: JSON.stringify({ url: url(), reportedBy: 'someone-else@acme.example' })
  })
  const body = await res.body.json() as { id?: string, data?: { id?: string } }
  expect(res.statusCode).toBeLessThan(300)
  return `phishfort:${body.id ?? body.data?.id}`
}

async function actAtPhishfort (caseId: string, action: 'tkd' | 'safe'): Promise<void> {
  const res = await request(`${gw.sandbox.endpoints.phishfort.baseUrl}/v1/incident/${caseId.slice('phishfort:'.length)}/${action}`, {
    method: 'POST', headers: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort }
  })
  await res.body.dump()
  expect(res.statusCode).toBeLessThan(300)
}

beforeAll(async () => { gw = await testGateway({ env: { WATCH_LOOKBACK_DAYS: '90', WATCH_OLD_CASES_BATCH: '1000' } }) })
afterAll(async () => { await gw.close() })

describe('case change events', () => {
  it('records the vendors\' existing cases silently, then every change once, in order per case', async () => {
    expect(await syncAll()).toBe(0)
    expect(await feed()).toEqual([])

    const created: string[] = []
    for (const body of [
      { provider: 'phishfort', target: { type: 'url', value: url() } },
      { provider: 'bforeai', target: { type: 'url', value: url() }, brand: { id: 501 }, comment: 'clone of our login page' },
      { provider: 'cloudflare', target: { type: 'url', value: url() }, brand: { name: 'Acme Bank' }, providerOptions: CLOUDFLARE_REPORT_OPTIONS }
    ]) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: body })
      expect(res.statusCode, res.body).toBe(201)
      created.push(res.json().id)
    }
    // the observe step of a write is not awaited by the answer: wait for its events
    let afterCreate: CaseEvent[] = []
    expect(await eventually(async () => (afterCreate = await feed()).length >= created.length)).toBe(true)
    expect(afterCreate.map(e => [e.type, e.observedVia, e.case.id, e.sequence])).toEqual(created.map(id => ['case.created', 'gateway', id, 1]))
    for (const e of afterCreate) expect(Value.Check(CaseEventSchema, e)).toBe(true)

    // the vendors move the cases along; the watcher sees each step
    for (const hours of [2, 8, 30, 60]) {
      gw.clock.advance(hours * HOUR)
      await syncAll()
    }
    expect(await syncAll()).toBe(0)
    const all = await feed()
    for (const id of created) {
      const mine = all.filter(e => e.case.id === id)
      expect(mine.map(e => e.sequence)).toEqual(mine.map((_, i) => i + 1))
      expect(mine.length).toBeGreaterThanOrEqual(3)
      expect(mine.at(-1)?.case.terminal).toBe(true)
      for (const e of mine.slice(1)) {
        expect(e.observedVia).toBe('poll')
        expect(e.previous).not.toBeNull()
        // a vendor status of its own within the same unified status is case.updated (README, events)
        expect(e.type).toBe(e.previous?.status === e.case.status ? 'case.updated' : 'case.status_changed')
      }
      const timeline = await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}/timeline`, headers: auth() })
      expect(timeline.json().items.map((e: CaseEvent) => e.id)).toEqual(mine.map(e => e.id))
    }
    const ids = all.map(e => e.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]) || Number(a.split('-')[1]) - Number(b.split('-')[1]))).toEqual(ids)

    const statusOnly = await feed('&types=case.status_changed&provider=phishfort')
    expect(statusOnly.length).toBeGreaterThan(0)
    expect(statusOnly.every(e => e.type === 'case.status_changed' && e.case.provider === 'phishfort')).toBe(true)
    const terminal = await feed('&terminal=true')
    expect(terminal.map(e => e.case.id).sort()).toEqual([...created].sort())
  })

  it('catches a change made at the vendor to a case created 60 days earlier', async () => {
    const id = await reportAtPhishfort('monitor')
    await syncAll()
    gw.clock.advance(60 * DAY)
    await syncAll()
    const before = (await feed()).filter(e => e.case.id === id).length
    await actAtPhishfort(id, 'tkd')
    gw.clock.advance(HOUR)
    await syncAll()
    const mine = (await feed()).filter(e => e.case.id === id)
    expect(mine.length).toBe(before + 1)
    expect(mine.at(-1)).toMatchObject({ type: 'case.status_changed', observedVia: 'poll', case: { providerStatus: 'case_building' } })
  })

  it('a case older than the look-back window that leaves the open set is read once by the next sync', async () => {
    const id = await reportAtPhishfort('monitor')
    await syncAll()
    gw.clock.advance(120 * DAY)
    await syncAll()
    await actAtPhishfort(id, 'safe')
    gw.clock.advance(2 * HOUR)
    // outside the 90-day window and no longer in PhishFort's open statuses: the sync reads it once
    const report = await gw.app.events.watcher.sync('phishfort')
    expect(report.reads).toBeGreaterThanOrEqual(1)
    const mine = (await feed()).filter(e => e.case.id === id)
    expect(mine.at(-1)).toMatchObject({ type: 'case.status_changed', observedVia: 'poll', case: { terminal: true } })
  })

  it('re-reads open cases older than the look-back window one by one', async () => {
    const id = await reportAtPhishfort('monitor')
    await syncAll()
    gw.clock.advance(120 * DAY)
    expect(await gw.app.events.watcher.enqueueOldCases()).toBeGreaterThanOrEqual(1)
    await actAtPhishfort(id, 'tkd')
    gw.clock.advance(HOUR)
    expect(await gw.app.events.watcher.enqueueOldCases()).toBeGreaterThanOrEqual(1)
    const end = Date.now() + 5000
    let mine: CaseEvent[] = []
    while (Date.now() < end) {
      mine = (await feed()).filter(e => e.case.id === id)
      if (mine.some(e => e.case.providerStatus === 'case_building')) break
      await new Promise(resolve => setTimeout(resolve, 25))
    }
    expect(mine.at(-1)).toMatchObject({ type: 'case.status_changed', observedVia: 'poll', case: { providerStatus: 'case_building' } })
  })

  it('repeated reads of an unchanged case skip the store\'s compare for 30 s; a read showing a change is recorded at once', async () => {
    const id = await reportAtPhishfort('monitor')
    await syncAll()
    const store = gw.app.events.service.store
    const original = store.observe.bind(store)
    const compared: string[] = []
    store.observe = async (input) => { if (input.case.id === id) compared.push(input.via); return await original(input) }
    try {
      const read = async (): Promise<void> => {
        const res = await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}`, headers: auth() })
        expect(res.statusCode).toBe(200)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      for (let i = 0; i < 5; i++) await read()
      expect(compared).toEqual(['read']) // the first read compared, the four others found the state it left
      gw.clock.advance(31_000)
      await read()
      expect(compared).toEqual(['read', 'read'])
      await actAtPhishfort(id, 'tkd')
      await read()
      expect(compared).toEqual(['read', 'read', 'read'])
      expect((await feed()).filter(e => e.case.id === id).at(-1)).toMatchObject({ observedVia: 'read', case: { providerStatus: 'case_building' } })
    } finally {
      store.observe = original
    }
  })

  it('records a read that shows a change, and a write that changes a case without returning it', async () => {
    const id = await reportAtPhishfort('monitor')
    await syncAll()
    await actAtPhishfort(id, 'tkd')
    const read = await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}`, headers: auth() })
    expect(read.statusCode).toBe(200)
    let lastRead: CaseEvent | undefined
    await eventually(async () => (lastRead = (await feed()).filter(e => e.case.id === id).at(-1))?.observedVia === 'read')
    expect(lastRead).toMatchObject({ observedVia: 'read', case: { providerStatus: 'case_building' } })

    const act = await gw.app.inject({ method: 'POST', url: `/v1/cases/${encodeURIComponent(id)}/actions/mark-safe`, headers: auth() })
    expect(act.statusCode, act.body).toBeLessThan(300)
    gw.clock.advance(2 * HOUR)
    const end = Date.now() + 5000
    let last: CaseEvent | undefined
    while (Date.now() < end) {
      last = (await feed()).filter(e => e.case.id === id).at(-1)
      if (last?.observedVia === 'gateway') break
      await new Promise(resolve => setTimeout(resolve, 25))
    }
    expect(last).toMatchObject({ observedVia: 'gateway', case: { status: 'closed' } })
  })

  it('answers bad filters with 400, an id past the retention with 410, and unknown ids of cases with an empty timeline', async () => {
    const bad = await gw.app.inject({ url: '/v1/events?types=case.deleted', headers: auth() })
    expect(bad.statusCode).toBe(400)
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/)
    expect((await gw.app.inject({ url: '/v1/events?after=yesterday', headers: auth() })).statusCode).toBe(400)
    expect((await gw.app.inject({ url: '/v1/events?provider=acme', headers: auth() })).statusCode).toBe(400)
    const gone = await gw.app.inject({ url: `/v1/events?after=${gw.clock.now() - 31 * DAY}-0`, headers: auth() })
    expect(gone.statusCode).toBe(410)
    expect(gone.json()).toMatchObject({ status: 410, detail: expect.stringContaining('re-list cases') })
    expect(gone.json().requestId).toBeTruthy()
    const empty = await gw.app.inject({ url: '/v1/cases/bforeai:nothing-here/timeline', headers: auth() })
    expect(empty.json()).toEqual({ caseId: 'bforeai:nothing-here', items: [], next: null })
    expect((await gw.app.inject({ url: '/v1/cases/nope/timeline', headers: auth() })).statusCode).toBe(404)
    expect((await gw.app.inject({ url: '/v1/events' })).statusCode).toBe(401)
  })

  it('an id no provider can own: a 404 timeline, a 400 caseId filter on the feed, the stream and the export', async () => {
    // Netcraft ids are numbers, and no provider is called "acme"
    for (const id of ['netcraft:abc', 'acme:123', 'nope']) {
      const timeline = await gw.app.inject({ url: `/v1/cases/${id}/timeline`, headers: auth() })
      expect(timeline.statusCode, timeline.body).toBe(404)
      expect(timeline.json()).toMatchObject({ code: 'GW_ERR_CASE_NOT_FOUND', detail: `No case ${id}: case ids look like <provider>:<id>` })
      for (const route of ['/v1/events', '/v1/events/stream', '/v1/events/export']) {
        const res = await gw.app.inject({ url: `${route}?caseId=${id}`, headers: auth() })
        expect(res.statusCode, `${route} ${id}: ${res.body}`).toBe(400)
        expect(res.json().errors).toEqual([{ path: '/caseId', message: 'is not a case id: <provider>:<id>' }])
      }
    }
    const owned = await gw.app.inject({ url: '/v1/events?caseId=netcraft:123456', headers: auth() })
    expect(owned.statusCode).toBe(200)
  })
})
