/**
 * Backfill: the cases the simulators hold become recorded milestones dated by the vendors' own timestamps, once;
 * `npm start` in sandbox mode runs it by itself so the analytics have real figures from the start.
 */
import { STATUS_TABLES } from '../../src/providers/registry.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { listenSandboxGateway, type ListeningGateway } from '../support/sandbox-gateway.js'

let gw: TestGateway

beforeAll(async () => { gw = await testGateway({ count: 40 }) })
afterAll(async () => { await gw?.close() })

async function allCases (): Promise<Array<Record<string, any>>> {
  const res = await gw.app.inject({ method: 'GET', url: '/v1/cases/export?format=ndjson', headers: auth() })
  return res.body.split('\n').filter(l => l !== '').map(l => JSON.parse(l))
}

/** whether a provider's status table can say taken_down at all */
function takesDown (id: ProviderId): boolean {
  const table = STATUS_TABLES[id]
  return table.kind === 'lookup' ? Object.values(table.entries).includes('taken_down') : table.rules.some(r => r.then === 'taken_down')
}

describe('POST /v1/analytics/backfill', () => {
  it('records every case once, dating taken-down PhishFort cases by their takedown timestamps', async () => {
    const denied = await gw.app.inject({ method: 'POST', url: '/v1/analytics/backfill', headers: auth('reader-secret-key') })
    expect(denied.statusCode).toBe(403)

    const cases = await allCases()
    const first = await gw.app.inject({ method: 'POST', url: '/v1/analytics/backfill', headers: auth() })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toEqual({ cases: cases.length, recorded: cases.length })
    const again = await gw.app.inject({ method: 'POST', url: '/v1/analytics/backfill', headers: auth() })
    expect(again.json()).toEqual({ cases: cases.length, recorded: 0 })

    const report = (await gw.app.inject({ method: 'GET', url: '/v1/analytics/takedowns?groupBy=provider', headers: auth() })).json()
    for (const g of report.groups) {
      const mine = cases.filter(c => c.provider === g.key.provider)
      expect(g.cases).toBe(mine.length)
      expect(g.takenDown).toBe(mine.filter(c => c.status === 'taken_down').length)
    }
    const pf = report.groups.find((g: any) => g.key.provider === 'phishfort')
    const takenDown = cases.filter(c => c.provider === 'phishfort' && c.status === 'taken_down')
    const details = await Promise.all(takenDown.map(async c => (await gw.app.inject({ method: 'GET', url: `/v1/cases/${c.id}`, headers: auth() })).json()))
    const durations = details.filter(d => d.resolvedAt !== null).map(d => (Date.parse(d.resolvedAt) - Date.parse(d.createdAt)) / 1000)
    expect(durations.length).toBeGreaterThan(0)
    expect(pf.timeToTakedown.count).toBe(durations.length)
    expect(pf.timeToTakedown.vendorTimed).toBe(durations.length)
    expect(pf.timeToTakedown.max).toBe(Math.max(...durations))
    expect(pf.timeToTakedown.median).toBeGreaterThan(0)
  })
})

describe('sandbox mode', () => {
  let sandbox: ListeningGateway
  beforeAll(async () => { sandbox = await listenSandboxGateway() })
  afterAll(async () => { await sandbox?.close() })

  it('backfills at start: the analytics show medians without any setup', async () => {
    let report: any = null
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${sandbox.origin}/v1/analytics/takedowns?groupBy=provider`, { headers: { authorization: 'Bearer sandbox' } })
      report = await res.json()
      if (report.groups.length === PROVIDER_IDS.length && report.groups.every((g: any) => !takesDown(g.key.provider) || g.timeToTakedown.count > 0)) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    expect(report.groups.map((g: any) => g.key.provider)).toEqual([...PROVIDER_IDS].sort())
    for (const g of report.groups) {
      expect(g.cases).toBeGreaterThan(0)
      // a provider whose statuses never say taken_down (a blocklist) has no time to takedown
      if (takesDown(g.key.provider)) expect(g.timeToTakedown.median, g.key.provider).toBeGreaterThan(0)
      expect(g.successRate, g.key.provider).not.toBeNull()
    }
  })
})
