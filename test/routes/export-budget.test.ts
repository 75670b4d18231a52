/**
 * A case export that needs more Cloudflare calls than its outbound budget holds: a first export reads the active
 * mitigations of every report that has some (ADR 0028). With a budget of 20 calls per 1 s window (the export's share
 * is half: 10), a listing walk of the ~150 seeded reports is refused part-way, while the export waits for room in its
 * share and writes every report, each with the status the detail view gives it. The window is on the injected clock,
 * moved on by a timer while the export runs; the assertions are about the rows and the calls, never the time taken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXPORT_BUDGET_SHARE } from '../../src/features/reporting/export.js'
import type { Case } from '../../src/schemas/case.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const BUDGET = 20
const WINDOW_MS = 1000
const SHARE = Math.floor(BUDGET * EXPORT_BUDGET_SHARE)
const MITIGATIONS_ROUTE = '/client/v4/accounts/:accountId/abuse-reports/:reportParam/mitigations'

let gw: TestGateway

beforeAll(async () => {
  gw = await testGateway({
    count: 150,
    env: { CLOUDFLARE_OUTBOUND_BUDGET: String(BUDGET), CLOUDFLARE_OUTBOUND_WINDOW_MS: String(WINDOW_MS), CLOUDFLARE_TIMEOUT_MS: '10000' }
  })
})
afterAll(async () => { await gw?.close() })

/** runs `fn` while the injected clock moves one budget window on every 300 ms (far slower than the calls of a window); the windows the clock entered */
async function withMovingClock<T> (fn: () => Promise<T>): Promise<{ value: T, windows: number }> {
  const start = gw.clock.now()
  const timer = setInterval(() => { gw.clock.advance(WINDOW_MS) }, 300)
  try {
    const value = await fn()
    return { value, windows: Math.floor((gw.clock.now() - start) / WINDOW_MS) + 1 }
  } finally {
    clearInterval(timer)
  }
}

/** GET /v1/cases?provider=cloudflare page after page; stops at the first refused or partial page */
async function walk (): Promise<{ cases: Case[], complete: boolean }> {
  const cases: Case[] = []
  let cursor: string | null = null
  do {
    const res: Awaited<ReturnType<typeof gw.app.inject>> = await gw.app.inject({ method: 'GET', url: `/v1/cases?provider=cloudflare&limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, headers: auth() })
    if (res.statusCode !== 200) return { cases, complete: false }
    const body = res.json<{ items: Case[], partial: boolean, nextCursor: string | null }>()
    if (body.partial) return { cases, complete: false }
    cases.push(...body.items)
    cursor = body.nextCursor
  } while (cursor !== null)
  return { cases, complete: true }
}

describe('case export within a vendor budget', () => {
  it('waits for room in its share of Cloudflare\'s budget instead of ending, and writes every report', async () => {
    const cf = gw.sandbox.running.cloudflare.sim

    // a listing walk spends the whole budget and is refused part-way (reads fail fast once it is spent)
    const first = cf.stats.log.length
    expect((await walk()).complete).toBe(false)
    expect(cf.stats.log.length - first).toBeLessThanOrEqual(BUDGET)

    // the export, past the walk's window: it reads the mitigations the walk did not get to, within its share
    gw.clock.advance(2 * WINDOW_MS)
    const before = cf.stats.log.length
    const { value: res, windows } = await withMovingClock(async () =>
      await gw.app.inject({ method: 'GET', url: '/v1/cases/export?format=ndjson&provider=cloudflare', headers: auth() }))
    expect(res.statusCode, res.body).toBe(200)
    const rows = res.body.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Case)
    const calls = cf.stats.log.slice(before)
    // more calls than the whole budget holds in a window: the export waited for room to finish
    expect(calls.length).toBeGreaterThan(BUDGET)
    expect(calls.filter(c => c.route === MITIGATIONS_ROUTE).length).toBeGreaterThan(SHARE)
    // and they fit in its share, window after window (the sliding window may let one window's worth through twice)
    expect(calls.length).toBeLessThanOrEqual(SHARE * (windows + 1))

    // every report, as a listing walks them now (list pages only: the export recorded the mitigations it read), each
    // with the status its detail view gives (a removal mitigation read: taken_down, not mitigated)
    gw.clock.advance(10 * WINDOW_MS)
    const listed = await walk()
    expect(listed.complete).toBe(true)
    expect(rows.map(r => [r.id, r.status])).toEqual(listed.cases.map(c => [c.id, c.status]))
    expect(rows.length).toBeGreaterThan(100)
    const statuses = new Set(rows.map(r => r.status))
    expect(statuses.has('taken_down')).toBe(true)
    expect(statuses.has('mitigated')).toBe(true)
    for (const row of rows.filter(r => r.status === 'taken_down' || r.status === 'mitigated').slice(0, 5)) {
      gw.clock.advance(WINDOW_MS)
      const detail = await gw.app.inject({ method: 'GET', url: `/v1/cases/${encodeURIComponent(row.id)}`, headers: auth() })
      expect(detail.statusCode, detail.body).toBe(200)
      expect(detail.json<Case>().status).toBe(row.status)
    }
  })
})
