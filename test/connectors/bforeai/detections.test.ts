import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MockAgent } from 'undici'
import { ManualClock } from '../../../src/clock.js'
import { ConnectorError, type ProviderConnector } from '../../../src/connectors/connector.js'
import { bforeaiModule } from '../../../src/connectors/bforeai/index.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import type { Detection } from '../../../src/schemas/detection.js'
import { StatusEngine } from '../../../src/status/engine.js'
import { connectorHarness, testCtx, type ConnectorHarness } from '../../support/connectors.js'

const ORIGIN = 'https://takedown.bfore.ai'
const KEY = 'bfore-test-key-do-not-leak'
const JSON_HEADERS = { 'content-type': 'application/json' }
const NOW = '2026-07-02T00:00:00.000Z'

function attack (id: number, detected: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    company_id: 1,
    protected_asset_id: 501,
    protected_asset_name: 'Acme Bank',
    attack_id: id,
    attack_name: `login-acme${id}.example`,
    value: { type: 'domain', value: `login-acme${id}.example` },
    detection_date: detected,
    identification_status: { value: 'confirmed', updated_at: detected },
    score: { value: 88.5, updated_at: detected },
    asset_type: 'domain',
    takedown: null,
    ...over
  }
}

describe('bforeai detections (MockAgent: exact requests)', () => {
  let agent: MockAgent
  let connector: ProviderConnector

  beforeEach(() => {
    agent = new MockAgent({ enableCallHistory: true })
    agent.disableNetConnect()
    connector = bforeaiModule.create({ baseUrl: `${ORIGIN}/api`, credential: KEY, timeoutMs: 2000 },
      { dispatcher: agent, status: new StatusEngine(STATUS_TABLES), clock: new ManualClock(NOW) })
  })
  afterEach(async () => {
    agent.assertNoPendingInterceptors()
    await agent.close()
  })
  const calls = () => agent.getCallHistory()?.calls() ?? []

  it('asks for the 90-day window ending now, reads every page, sorts by detection_date, tolerates warning and null takedown', async () => {
    const pool = agent.get(ORIGIN)
    const from = '2026-04-03T00:00:00.000Z'
    pool.intercept({ path: `/api/v2/takedown/attacks?from=${encodeURIComponent(from)}&until=${encodeURIComponent(NOW)}&page=1&size=100`, method: 'GET' })
      .reply(200, { items: [attack(1, '2026-06-01T00:00:00Z'), attack(2, '2026-06-20T00:00:00Z', { takedown: { id: 'td-9', status: 'Pending' } })], total: 3, page: 1, size: 100, pages: 2, warning: 'confirmed only' }, { headers: JSON_HEADERS })
    pool.intercept({ path: `/api/v2/takedown/attacks?from=${encodeURIComponent(from)}&until=${encodeURIComponent(NOW)}&page=2&size=100`, method: 'GET' })
      .reply(200, { items: [attack(3, '2026-06-10T00:00:00Z', { takedown: undefined, score: null })], total: 3, page: 2, size: 100, pages: 2, warning: 'confirmed only' }, { headers: JSON_HEADERS })

    const page = await connector.listDetections!({ pageToken: null, pageSize: 2 }, testCtx())
    expect(page.items.map(d => d.id)).toEqual(['bforeai:attack:2', 'bforeai:attack:3'])
    expect(page.items[0]).toMatchObject({
      provider: 'bforeai',
      kind: 'attack',
      target: { type: 'domain', value: 'login-acme2.example', domain: 'login-acme2.example' },
      score: 88.5,
      matched: { queryId: '501', queryTag: null, asset: 'Acme Bank' },
      caseId: 'bforeai:td-9'
    })
    expect(page.items[1]!.score).toBeNull()
    expect(page.items[1]!.caseId).toBeNull()
    for (const c of calls()) expect(c.headers).toMatchObject({ 'x-authorization': KEY })
    // the second page comes from the same window read (no further vendor call)
    const next = await connector.listDetections!({ pageToken: page.next, pageSize: 2 }, testCtx())
    expect(next.items.map(d => d.id)).toEqual(['bforeai:attack:1'])
    expect(next.next).toBeNull()
    expect(calls()).toHaveLength(2)
  })

  it('uses since/until (widened by a second) for from/until', async () => {
    agent.get(ORIGIN).intercept({
      path: `/api/v2/takedown/attacks?from=${encodeURIComponent('2026-05-31T23:59:59.000Z')}&until=${encodeURIComponent('2026-06-30T00:00:01.000Z')}&page=1&size=100`,
      method: 'GET'
    }).reply(200, { items: [], total: 0, page: 1, size: 100, pages: 0 }, { headers: JSON_HEADERS })
    const page = await connector.listDetections!({ pageToken: null, pageSize: 50, since: '2026-06-01T00:00:00.000Z', until: '2026-06-30T00:00:00.000Z' }, testCtx())
    expect(page).toEqual({ items: [], next: null })
  })

  it('accepts an attack with {attack_id, brand_id} and answers the takedown as a Case; a vendor 422 is `rejected` without the key', async () => {
    const pool = agent.get(ORIGIN)
    pool.intercept({ path: '/api/v2/takedown/accept', method: 'POST', body: JSON.stringify({ attack_id: 7, brand_id: 501 }) })
      .reply(200, { id: 'td-7', created: '2026-07-01T00:00:00Z', attack_url: 'https://login-acme7.example', value: { type: 'domain', value: 'login-acme7.example' }, status_name: 'Pending', brand_id: 501, brand_name: 'Acme Bank', attack_id: 7 }, { headers: JSON_HEADERS })
    const c = await connector.detectionAcceptance!.accept('7', 501, testCtx())
    expect(c).toMatchObject({ id: 'bforeai:td-7', provider: 'bforeai', status: 'received', target: { type: 'domain', value: 'login-acme7.example' } })
    expect(calls()[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'x-authorization': KEY })

    pool.intercept({ path: '/api/v2/takedown/accept', method: 'POST' })
      .reply(422, { detail: [{ loc: ['body', 'brand_id'], msg: 'field required', type: 'value_error.missing' }] }, { headers: JSON_HEADERS })
    const err = await connector.detectionAcceptance!.accept('8', 1, testCtx()).catch(e => e as ConnectorError)
    expect(err).toBeInstanceOf(ConnectorError)
    expect((err as ConnectorError).kind).toBe('rejected')
    expect((err as ConnectorError).message).toContain('body.brand_id: field required')
    expect(String((err as ConnectorError).message)).not.toContain(KEY)
  })

  it('a tampered page token is a bad cursor, not a vendor call', async () => {
    await expect(connector.listDetections!({ pageToken: 'not-a-token', pageSize: 10 }, testCtx())).rejects.toMatchObject({ code: 'GW_ERR_BAD_CURSOR' })
    expect(calls()).toHaveLength(0)
  })
})

describe('bforeai detections against the simulator', () => {
  let h: ConnectorHarness
  beforeEach(async () => { h = await connectorHarness('bforeai', { seed: 3 }) })
  afterEach(async () => { await h.close() })

  async function walk (size: number): Promise<Detection[]> {
    const out: Detection[] = []
    let token: string | null = null
    do {
      const page = await h.connector.listDetections!({ pageToken: token, pageSize: size }, testCtx())
      out.push(...page.items)
      token = page.next
    } while (token !== null)
    return out
  }

  it('walks the confirmed attacks of the last 90 days once, newest first; two seeded ones already have a takedown', async () => {
    const all = await walk(5)
    expect(all.length).toBe(14) // 12 in the window (2 older left out) + 2 mirroring seeded takedowns
    expect(new Set(all.map(d => d.id)).size).toBe(all.length)
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i - 1]!.detectedAt)).toBeGreaterThanOrEqual(Date.parse(all[i]!.detectedAt))
    expect(all.filter(d => d.caseId !== null)).toHaveLength(2)
    expect(await walk(100)).toEqual(all)
  })

  it('accepting an attack creates a takedown the list shows, with the same target, and the attack then links to it', async () => {
    const open = (await walk(100)).find(d => d.caseId === null)!
    const created = await h.connector.detectionAcceptance!.accept(open.id.split(':')[2]!, Number(open.matched.queryId), testCtx())
    expect(created.provider).toBe('bforeai')
    expect(created.target).toMatchObject(open.target) // the case also keeps the attack URL as `submitted`
    const listed = await h.connector.listCases({ pageToken: null, pageSize: 100, filters: {} }, testCtx())
    expect(listed.items.map(c => c.id)).toContain(created.id)
    const again = await h.connector.getDetection!('attack', open.id.split(':')[2]!, testCtx())
    expect(again?.caseId).toBe(created.id)
    // a second accept of the same attack is refused by the vendor
    await expect(h.connector.detectionAcceptance!.accept(open.id.split(':')[2]!, 501, testCtx())).rejects.toMatchObject({ kind: 'rejected' })
    expect(await h.connector.getDetection!('attack', '999999', testCtx())).toBeNull()
  })
})
