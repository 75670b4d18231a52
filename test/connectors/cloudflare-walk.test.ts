/**
 * What a full listing walk of 1,500 Cloudflare abuse reports costs in Cloudflare calls (Cloudflare's budget is 1,200
 * requests per 5 minutes per token). The first walk reads the list pages and, once, the active mitigations of every
 * report that has some; a second walk a quarter of an hour later reads the list pages and the mitigations of exactly
 * the reports whose mitigation_summary changed in between, and shows their new status. Each walk reads each list page
 * about once (the page a gateway page reads past its last case is kept for the next one), within 1.2 × the 15 list
 * pages it needs. A gateway whose case-events watcher has polled Cloudflare (a running gateway's steady state) walks
 * in list pages only: 15 calls, then 15 plus the changed reports. Calls are counted from the simulator's request log;
 * time moves on the injected clock only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import type { Case } from '../../src/schemas/case.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { startSimulator, type RunningSimulator, type Simulator } from '../../src/simulators/harness.js'
import { createSimulator } from '../../src/simulators/index.js'
import { sandboxEndpoints, type Sandbox } from '../../src/simulators/sandbox.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const REPORTS = 1500
const LIMIT = 100
/** the list pages a walk needs (Cloudflare pages at the gateway's page size, 100 here), and the most it may read */
const LIST_PAGES = Math.ceil(REPORTS / LIMIT)
const MAX_LIST_CALLS = Math.floor(1.2 * LIST_PAGES)
const LIST_ROUTE = '/client/v4/accounts/:accountId/abuse-reports'
const MITIGATIONS_ROUTE = '/client/v4/accounts/:accountId/abuse-reports/:reportParam/mitigations'
const ACCOUNT = PROVIDER_MODULES.cloudflare.sandbox.options.accountId
const REMOVAL_APPEALS = 12
const FULL_APPEALS = 8

interface Walk {
  cases: Case[]
  listCalls: number
  /** report ids whose mitigations were read, in call order */
  mitigationReads: string[]
  otherCalls: string[]
}

let clock: ManualClock
let sandbox: Sandbox
let cf: Simulator

async function startSandboxWith1500 (): Promise<Sandbox> {
  const running = {} as Record<ProviderId, RunningSimulator>
  for (const id of PROVIDER_IDS) {
    // the simulator's own 1,200 / 5 min limit is off: the walks are counted here, not refused
    running[id] = await startSimulator(await createSimulator(id, { clock, ...(id === 'cloudflare' ? { count: REPORTS, flags: { 'rate-limit': 'off' } } : {}) }))
  }
  return { running, endpoints: sandboxEndpoints(running), close: async () => { await Promise.all(PROVIDER_IDS.map(async id => { await running[id].close() })) } }
}

/** every Cloudflare case through GET /v1/cases?provider=cloudflare&limit=100, following the cursor */
async function walk (gw: TestGateway): Promise<Walk> {
  const start = cf.stats.log.length
  const cases: Case[] = []
  let cursor: string | null = null
  do {
    const url = `/v1/cases?provider=cloudflare&limit=${LIMIT}${cursor === null ? '' : `&cursor=${cursor}`}`
    const res = await gw.app.inject({ method: 'GET', url, headers: auth() })
    expect(res.statusCode).toBe(200)
    const body: { items: Case[], nextCursor: string | null, partial: boolean } = res.json()
    expect(body.partial).toBe(false)
    cases.push(...body.items)
    cursor = body.nextCursor
  } while (cursor !== null)
  const calls = cf.stats.log.slice(start)
  const mitigationReads = calls.filter(c => c.method === 'GET' && c.route === MITIGATIONS_ROUTE)
    .map(c => decodeURIComponent(c.url.split('?')[0]!.split('/').at(-2)!))
  return {
    cases,
    listCalls: calls.filter(c => c.method === 'GET' && c.route === LIST_ROUTE).length,
    mitigationReads,
    otherCalls: calls.filter(c => !(c.method === 'GET' && (c.route === LIST_ROUTE || c.route === MITIGATIONS_ROUTE))).map(c => `${c.method} ${c.url}`)
  }
}

/** a call on the simulator's own routes, as the vendor's other clients would make it (not through the gateway) */
async function vendor (method: 'GET' | 'POST', path: string, payload?: unknown): Promise<any> {
  const res = await cf.app.inject({
    method,
    url: `/client/v4/accounts/${ACCOUNT}/abuse-reports/${path}`,
    headers: { authorization: `Bearer ${PROVIDER_MODULES.cloudflare.sandbox.credential}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> })
  })
  expect(res.statusCode).toBe(200)
  return res.json()
}

function report (w: Walk, label: string): string {
  return `${label}: ${w.listCalls} list pages + ${w.mitigationReads.length} mitigation reads = ${w.listCalls + w.mitigationReads.length} Cloudflare calls`
}

beforeAll(async () => {
  clock = new ManualClock()
  sandbox = await startSandboxWith1500()
  cf = sandbox.running.cloudflare.sim
}, 30_000)
afterAll(async () => { await sandbox?.close() })

describe('walking 1,500 Cloudflare reports twice', () => {
  let gw: TestGateway
  afterAll(async () => { await gw?.close() })

  it('reads each report\'s mitigations once, then only for the reports whose mitigation_summary changed', async () => {
    gw = await testGateway({ clock, sandbox })
    const first = await walk(gw)
    console.log(`[cloudflare walk] ${report(first, 'walk 1')}`)
    expect(first.cases).toHaveLength(REPORTS)
    expect(new Set(first.cases.map(c => c.id)).size).toBe(REPORTS)
    expect(first.otherCalls).toEqual([])
    expect(first.listCalls).toBeGreaterThanOrEqual(LIST_PAGES)
    expect(first.listCalls).toBeLessThanOrEqual(MAX_LIST_CALLS)
    // first sight: one read per report with active mitigations (its status is taken_down or mitigated), none twice
    const withActive = first.cases.filter(c => c.status === 'taken_down' || c.status === 'mitigated').map(c => c.providerCaseId)
    expect(withActive.length).toBeGreaterThan(300)
    expect(new Set(first.mitigationReads).size).toBe(first.mitigationReads.length)
    expect([...first.mitigationReads].sort()).toEqual([...withActive].sort())

    // a quarter of an hour later (past any short cache of the gateway), the vendor changed some reports:
    // a removal appealed (taken_down → mitigated, one mitigation still active) and every active mitigation appealed
    // (mitigated → in_review, none active: nothing to read)
    clock.advance(15 * 60_000)
    const removals = first.cases.filter(c => c.status === 'taken_down').slice(0, REMOVAL_APPEALS).map(c => c.providerCaseId)
    for (const id of removals) {
      const { result } = await vendor('GET', `${id}/mitigations?status=active`)
      const removal = (result.mitigations as Array<{ id: string, type: string }>).find(m => !m.type.endsWith('_interstitial'))
      expect(removal).toBeDefined()
      await vendor('POST', `${id}/mitigations/appeal`, { appeals: [{ id: removal!.id, reason: 'removed' }] })
    }
    const interstitials = first.cases.filter(c => c.status === 'mitigated').slice(0, FULL_APPEALS).map(c => c.providerCaseId)
    for (const id of interstitials) await vendor('POST', `${id}/mitigations/appeal`, { type: 'content_removed' })

    const second = await walk(gw)
    console.log(`[cloudflare walk] ${report(second, 'walk 2')} (${REMOVAL_APPEALS + FULL_APPEALS} summaries changed, ${REMOVAL_APPEALS} of them still with active mitigations)`)
    expect(second.otherCalls).toEqual([])
    expect(second.listCalls).toBe(first.listCalls)
    expect(second.listCalls).toBeLessThanOrEqual(MAX_LIST_CALLS)
    // exactly the changed reports that still have active mitigations are read, each once
    expect([...second.mitigationReads].sort()).toEqual([...removals].sort())
    expect(second.listCalls + second.mitigationReads.length).toBeLessThanOrEqual(Math.ceil(1.2 * second.listCalls) + removals.length)

    // and the listing shows what changed; everything else is as in walk 1
    const before = new Map(first.cases.map(c => [c.providerCaseId, c]))
    expect(second.cases).toHaveLength(REPORTS)
    for (const c of second.cases) {
      if (removals.includes(c.providerCaseId)) expect(c.status).toBe('mitigated')
      else if (interstitials.includes(c.providerCaseId)) expect(c.status).toBe('in_review')
      else expect(c).toEqual(before.get(c.providerCaseId))
    }
    // the detail view reads the mitigations itself and agrees with the listing
    for (const id of [removals[0]!, interstitials[0]!]) {
      const res = await gw.app.inject({ method: 'GET', url: `/v1/cases/cloudflare:${id}`, headers: auth() })
      expect(res.json().status).toBe(second.cases.find(c => c.providerCaseId === id)?.status)
    }
  }, 60_000)
})

describe('a gateway whose case-events watcher has polled Cloudflare (the steady state of a running gateway)', () => {
  let gw: TestGateway
  afterAll(async () => { await gw?.close() })

  it('walks the 1,500 reports in list pages only, and a quarter of an hour later adds only the changed reports\' reads', async () => {
    // the watcher's poll reads reports the way a listing does and leaves what it read for the listings (ADR 0028);
    // its budget share is lifted here because the injected clock does not move while it waits
    gw = await testGateway({ clock, sandbox, env: { CLOUDFLARE_OUTBOUND_BUDGET: '0', WATCH_LOOKBACK_DAYS: '3650' } })
    await gw.app.events.watcher.sync('cloudflare')

    const first = await walk(gw)
    console.log(`[cloudflare walk] after a watcher poll: ${report(first, 'walk 1')}`)
    expect(first.cases).toHaveLength(REPORTS)
    expect(first.mitigationReads).toEqual([])
    expect(first.listCalls).toBeGreaterThanOrEqual(LIST_PAGES)
    expect(first.listCalls).toBeLessThanOrEqual(MAX_LIST_CALLS)

    clock.advance(15 * 60_000)
    const changed = first.cases.filter(c => c.status === 'taken_down').slice(0, 5).map(c => c.providerCaseId)
    for (const id of changed) {
      const { result } = await vendor('GET', `${id}/mitigations?status=active`)
      const removal = (result.mitigations as Array<{ id: string, type: string }>).find(m => !m.type.endsWith('_interstitial'))
      await vendor('POST', `${id}/mitigations/appeal`, { appeals: [{ id: removal!.id, reason: 'removed' }] })
    }
    const second = await walk(gw)
    console.log(`[cloudflare walk] after a watcher poll: ${report(second, 'walk 2')} (${changed.length} summaries changed)`)
    expect(second.listCalls).toBeLessThanOrEqual(MAX_LIST_CALLS)
    expect([...second.mitigationReads].sort()).toEqual([...changed].sort())
    for (const id of changed) expect(second.cases.find(c => c.providerCaseId === id)?.status).toBe('mitigated')
  }, 60_000)
})

describe('two replicas sharing Redis', () => {
  const gateways: TestGateway[] = []
  afterAll(async () => { for (const g of gateways) await g.close() })

  it('a replica walks without mitigation reads for the reports another replica has already read', async () => {
    const prefix = `t-cfwalk-${Date.now()}:`
    const a = await testGateway({ clock, sandbox, store: 'redis', redisPrefix: prefix })
    gateways.push(a)
    const b = await testGateway({ clock, sandbox, store: 'redis', redisPrefix: prefix })
    gateways.push(b)
    const first = await walk(a)
    expect(first.mitigationReads.length).toBeGreaterThan(300)
    clock.advance(15 * 60_000)
    const second = await walk(b)
    console.log(`[cloudflare walk] replicas: ${report(first, 'replica A')}; ${report(second, 'then replica B')}`)
    expect(second.mitigationReads).toEqual([])
    expect(first.listCalls).toBeLessThanOrEqual(MAX_LIST_CALLS)
    expect(second.listCalls).toBe(first.listCalls)
    expect(second.cases).toEqual(first.cases)
  }, 60_000)
})
