/**
 * GET /v1/events/export over the simulators: events recorded by real writes and watcher polls come out as the same
 * events, in the same order, as following GET /v1/events with the same filters, as RFC 4180 CSV (parsed back with
 * csv-parse) or NDJSON; a phone number (a formula to a spreadsheet) is neutralised; the file ends at the newest event
 * when it started; bad filters, an expired position and an event store that is down are problems before any byte.
 */
import { parse } from 'csv-parse/sync'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisEventStore } from '../../src/events/redis-store.js'
import type { CaseEvent, Event } from '../../src/schemas/event.js'
import type { ProviderId } from '../../src/schemas/provider.js'
import { auth, CLOUDFLARE_REPORT_OPTIONS, testGateway, type TestGateway } from '../support/app.js'
import { followFeed, recordEvents } from '../support/case-events.js'
import { freePort } from '../support/redis-server.js'

const HOUR = 3_600_000
const PHONE = '+14155550123'
let gw: TestGateway
const created: string[] = []

// pages of 7: the file must equal the feed followed across many pages
const feed = async (query = ''): Promise<CaseEvent[]> => await followFeed(gw.app, query, 7)

async function syncAll (): Promise<void> {
  for (const p of ['bforeai', 'phishfort', 'cloudflare'] as ProviderId[]) await gw.app.events.watcher.sync(p)
}

beforeAll(async () => {
  gw = await testGateway()
  // the first look at each vendor is silent: from here on, what the gateway writes and sees changing is an event
  await syncAll()
  for (const body of [
    { provider: 'phishfort', target: { type: 'phone', value: PHONE } },
    { provider: 'bforeai', target: { type: 'url', value: 'https://login-acme.export.example/secure' }, brand: { id: 501 }, comment: 'clone of our login page' },
    { provider: 'cloudflare', target: { type: 'url', value: 'https://pay-acme.export.example/' }, brand: { name: 'Acme Bank' }, providerOptions: CLOUDFLARE_REPORT_OPTIONS }
  ]) {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: body })
    expect(res.statusCode, res.body).toBe(201)
    created.push(res.json().id)
  }
  // a write's observe step runs after its answer: wait until the three case.created events are in the log
  const until = Date.now() + 10_000
  while ((await feed()).length < created.length && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 20))
  // the vendors move the cases along; the watcher records each step
  for (const hours of [2, 8, 60]) {
    gw.clock.advance(hours * HOUR)
    await syncAll()
  }
})
afterAll(async () => { await gw?.close() })

describe('events export', () => {
  it('writes the feed as CSV with a header row, parsed back by a real CSV parser', async () => {
    const all = await feed()
    expect(all.length).toBeGreaterThanOrEqual(6)
    expect(new Set(all.map(e => e.case.id))).toEqual(new Set(created))

    const res = await gw.app.inject({ url: '/v1/events/export?format=csv', headers: auth('reader-secret-key') })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present')
    expect(res.headers['content-disposition']).toBe(`attachment; filename="events-${new Date(gw.clock.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}.csv"`)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.body.split('\r\n')[0]).toBe('id,type,caseId,sequence,occurredAt,observedAt,observedVia,provider,status,providerStatus,previousStatus,previousProviderStatus,targetType,targetValue,data')
    const rows = parse(res.body, { columns: true }) as Array<Record<string, string>>
    expect(rows.map(r => r.id)).toEqual(all.map(e => e.id))
    for (const [i, row] of rows.entries()) {
      const e = all[i]!
      expect(row).toMatchObject({
        type: e.type,
        caseId: e.case.id,
        sequence: String(e.sequence),
        occurredAt: e.occurredAt ?? '',
        observedAt: e.observedAt,
        observedVia: e.observedVia,
        provider: e.case.provider,
        status: e.case.status,
        previousStatus: e.previous?.status ?? ''
      })
    }
    // each case: created through the gateway, then moved on by the vendor as the watcher saw it
    for (const id of created) {
      const mine = rows.filter(r => r.caseId === id)
      expect(mine[0]).toMatchObject({ type: 'case.created', observedVia: 'gateway', sequence: '1', previousStatus: '' })
      expect(mine.slice(1).map(r => r.type)).toContain('case.status_changed')
      expect(mine.map(r => Number(r.sequence))).toEqual(mine.map((_, i) => i + 1))
    }
  })

  it('neutralises a cell a spreadsheet would run as a formula (a phone number starts with +)', async () => {
    const res = await gw.app.inject({ url: `/v1/events/export?caseId=${encodeURIComponent(created[0]!)}`, headers: auth() })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain(`,phone,'${PHONE},\r\n`)
    const rows = parse(res.body, { columns: true }) as Array<Record<string, string>>
    expect(rows.length).toBeGreaterThanOrEqual(2)
    for (const row of rows) expect(row).toMatchObject({ caseId: created[0], targetType: 'phone', targetValue: `'${PHONE}` })
    // NDJSON keeps the value as it is: a JSON reader runs nothing
    const ndjson = await gw.app.inject({ url: `/v1/events/export?format=ndjson&caseId=${encodeURIComponent(created[0]!)}`, headers: auth() })
    expect(ndjson.body.split('\n')[0]).toContain(`"value":"${PHONE}"`)
  })

  it('applies the feed filters and writes NDJSON, one event a line', async () => {
    const query = '&provider=phishfort,bforeai&types=case.status_changed,case.reopened'
    const res = await gw.app.inject({ url: `/v1/events/export?format=ndjson${query}`, headers: auth() })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8')
    expect(res.headers['content-disposition']).toMatch(/filename="events-\d{8}T\d{6}Z\.ndjson"/)
    const lines = res.body.split('\n')
    expect(lines.pop()).toBe('')
    const events = lines.map(l => JSON.parse(l) as CaseEvent)
    expect(events).toEqual(await feed(query))
    expect(events.length).toBeGreaterThanOrEqual(2)
    for (const e of events) {
      expect(['phishfort', 'bforeai']).toContain(e.case.provider)
      expect(['case.status_changed', 'case.reopened']).toContain(e.type)
    }

    const all = await feed()
    const after = all[2]!.id
    const rest = await gw.app.inject({ url: `/v1/events/export?format=ndjson&after=${after}&terminal=true`, headers: auth() })
    expect(rest.body.split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as CaseEvent).id))
      .toEqual(all.slice(3).filter(e => e.case.terminal).map(e => e.id))
  })

  it('reads page after page and ends at the newest event when it started', async () => {
    const all = await feed()
    const walk = await gw.app.events.service.walk({}, 2)
    // recorded after the export started: left for the next one
    const later = await recordEvents(gw.app.events.service, 3, { cases: 3 })
    const batches: Event[][] = []
    for await (const batch of walk) batches.push(batch)
    expect(batches.length).toBe(Math.ceil(all.length / 2))
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(2)
    expect(batches.flat().map(e => e.id)).toEqual(all.map(e => e.id))

    const next = await gw.app.inject({ url: `/v1/events/export?format=ndjson&after=${all.at(-1)!.id}`, headers: auth() })
    expect(next.body.split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as CaseEvent).id)).toEqual(later.map(e => e.id))
    const none = await gw.app.inject({ url: `/v1/events/export?after=${later.at(-1)!.id}`, headers: auth() })
    expect(none.statusCode).toBe(200)
    expect(none.body).toBe('id,type,caseId,sequence,occurredAt,observedAt,observedVia,provider,status,providerStatus,previousStatus,previousProviderStatus,targetType,targetValue,data\r\n')
  })

  it('answers bad filters and an expired position with a problem, before any byte of the file', async () => {
    for (const [query, status, code] of [
      ['types=case.deleted', 400, 'GW_ERR_VALIDATION'],
      ['provider=acme', 400, 'GW_ERR_VALIDATION'],
      ['format=xlsx', 400, 'GW_ERR_VALIDATION'],
      ['after=yesterday', 400, 'GW_ERR_VALIDATION'],
      ['limit=10', 400, 'GW_ERR_VALIDATION'],
      // an id from long before the retention window, older than the oldest event the log holds
      ['after=1000-0', 410, 'GW_ERR_EVENTS_GONE']
    ] as const) {
      const res = await gw.app.inject({ url: `/v1/events/export?${query}`, headers: auth() })
      expect(res.statusCode, query).toBe(status)
      expect(res.headers['content-type'], query).toMatch(/^application\/problem\+json/)
      expect(res.json(), query).toMatchObject({ code, requestId: res.headers['x-request-id'] })
      expect(res.headers['content-disposition']).toBeUndefined()
    }
    expect((await gw.app.inject({ url: '/v1/events/export' })).statusCode).toBe(401)
  })

  it('is a 503 problem when the event store is down, and the case API keeps working', async () => {
    // a real Redis client pointed at a port where nothing listens: every command fails at once
    const store = new RedisEventStore(`redis://127.0.0.1:${await freePort()}`, {
      keyPrefix: 'export-down:', clock: gw.clock, log: pino({ level: 'silent' }), retention: { retentionMs: 30 * 24 * HOUR, timelineRetentionMs: 365 * 24 * HOUR }
    })
    const down = await testGateway({ appOptions: { eventStore: store } })
    try {
      const res = await down.app.inject({ url: '/v1/events/export?format=csv', headers: auth() })
      expect(res.statusCode).toBe(503)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json()).toMatchObject({ code: 'GW_ERR_EVENTS_UNAVAILABLE', requestId: res.headers['x-request-id'] })
      expect(res.headers['retry-after']).toBe('5')
      expect((await down.app.inject({ url: '/v1/cases?limit=5', headers: auth() })).statusCode).toBe(200)
    } finally {
      await down.close()
      await store.close()
    }
  })
})
