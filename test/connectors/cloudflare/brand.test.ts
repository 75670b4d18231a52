import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MockAgent } from 'undici'
import { ManualClock } from '../../../src/clock.js'
import type { ProviderConnector } from '../../../src/connectors/connector.js'
import { cloudflareModule } from '../../../src/connectors/cloudflare/index.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import type { Detection } from '../../../src/schemas/detection.js'
import { StatusEngine } from '../../../src/status/engine.js'
import { connectorHarness, testCtx, type ConnectorHarness } from '../../support/connectors.js'

const ORIGIN = 'https://api.cloudflare.com'
const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353'
const V2 = `/client/v4/accounts/${ACCOUNT}/cloudforce-one/v2/brand-protection`
const TOKEN = 'cf-test-token-do-not-leak'
const JSON_HEADERS = { 'content-type': 'application/json' }

const domainQuery = (id: number, tag: string, patterns: string[]) =>
  ({ query_id: id, query_tag: tag, scan: true, created: '2026-06-01T00:00:00Z', updated: '2026-06-01T00:00:00Z', parameters: { string_matches: patterns.map(pattern => ({ pattern })) } })
const match = (domain: string, firstSeen: string, over: Record<string, unknown> = {}) =>
  ({ domain, first_seen: firstSeen, public_scans: null, registrar: null, scan_status: 'pending', scan_submission_id: null, source: 'certificate_transparency', dismissed: false, ...over })
const matchesPath = (id: number, offset: number, limit: number) =>
  `${V2}/domain/matches?query_id=${id}&offset=${offset}&limit=${limit}&orderBy=first_seen&order=desc`

describe('cloudflare brand protection (MockAgent: exact requests)', () => {
  let agent: MockAgent
  let connector: ProviderConnector

  beforeEach(() => {
    agent = new MockAgent({ enableCallHistory: true })
    agent.disableNetConnect()
    connector = cloudflareModule.create({ baseUrl: `${ORIGIN}/client/v4`, credential: TOKEN, timeoutMs: 2000, options: { accountId: ACCOUNT } },
      { dispatcher: agent, status: new StatusEngine(STATUS_TABLES), clock: new ManualClock('2026-07-02T00:00:00Z') })
  })
  afterEach(async () => {
    agent.assertNoPendingInterceptors()
    await agent.close()
  })
  const calls = () => agent.getCallHistory()?.calls() ?? []

  it.each([
    ['the legacy bare array', (qs: unknown[]) => qs],
    ['the envelope', (qs: unknown[]) => ({ success: true, errors: [], messages: [], result: qs })]
  ])('reads domain queries as %s, then each query\'s matches newest first, merged across queries', async (_name, shape) => {
    const pool = agent.get(ORIGIN)
    pool.intercept({ path: `${V2}/domain/queries`, method: 'GET' }).reply(200, shape([domainQuery(1, 'acme', ['acme']), domainQuery(2, 'globex', ['globex', 'globx'])]), { headers: JSON_HEADERS })
    pool.intercept({ path: `${V2}/logo/queries`, method: 'GET' }).reply(200, [], { headers: JSON_HEADERS })
    pool.intercept({ path: matchesPath(1, 0, 2), method: 'GET' })
      .reply(200, { matches: [match('acme-login.example', '2026-06-30T00:00:00Z'), match('acme-pay.example', '2026-06-20T00:00:00Z')], total: 3 }, { headers: JSON_HEADERS })
    pool.intercept({ path: matchesPath(2, 0, 2), method: 'GET' })
      .reply(200, { matches: [match('globex-x.example', '2026-06-25T00:00:00Z', { dismissed: true }), match('globx.example', '2026-06-10T00:00:00Z')], total: 2 }, { headers: JSON_HEADERS })

    const page = await connector.listDetections!({ pageToken: null, pageSize: 2 }, testCtx())
    // query 1 has more after 2026-06-20: nothing older than that is handed out yet; dismissed matches are left out
    expect(page.items.map(d => d.id)).toEqual(['cloudflare:domain-match:1%3Aacme-login.example', 'cloudflare:domain-match:1%3Aacme-pay.example'])
    expect(page.items[0]).toMatchObject({
      kind: 'domain-match',
      target: { type: 'domain', value: 'acme-login.example', domain: 'acme-login.example' },
      source: 'certificate_transparency',
      matched: { queryId: '1', queryTag: 'acme', asset: 'acme' },
      caseId: null
    })
    for (const c of calls()) expect(c.headers).toMatchObject({ authorization: `Bearer ${TOKEN}` })

    // the token resumes query 1 at offset 2 and query 2 at offset 1 (its dismissed match was handed out as nothing)
    pool.intercept({ path: `${V2}/domain/queries`, method: 'GET' }).reply(200, shape([domainQuery(1, 'acme', ['acme']), domainQuery(2, 'globex', ['globex', 'globx'])]), { headers: JSON_HEADERS })
    pool.intercept({ path: `${V2}/logo/queries`, method: 'GET' }).reply(200, [], { headers: JSON_HEADERS })
    pool.intercept({ path: matchesPath(1, 2, 2), method: 'GET' }).reply(200, { matches: [match('acme-old.example', '2026-06-01T00:00:00Z')], total: 3 }, { headers: JSON_HEADERS })
    pool.intercept({ path: matchesPath(2, 1, 2), method: 'GET' })
      .reply(200, { matches: [match('globx.example', '2026-06-10T00:00:00Z')], total: 2 }, { headers: JSON_HEADERS })
    const next = await connector.listDetections!({ pageToken: page.next, pageSize: 2 }, testCtx())
    expect(next.items.map(d => d.target.value)).toEqual(['globx.example', 'acme-old.example'])
    expect(next.next).toBeNull()
  })

  it('logo matches: bare lists, similarity kept, matches without a domain left out', async () => {
    const pool = agent.get(ORIGIN)
    pool.intercept({ path: `${V2}/domain/queries`, method: 'GET' }).reply(200, { success: true, errors: [], messages: [], result: [] }, { headers: JSON_HEADERS })
    pool.intercept({ path: `${V2}/logo/queries`, method: 'GET' })
      .reply(200, [{ id: 7, tag: 'acme-logo', r2_path: 'x', similarity_threshold: 0.8, uploaded_at: null }], { headers: JSON_HEADERS })
    pool.intercept({ path: `${V2}/logo/matches?query_id=7&offset=0&limit=50&orderBy=matchedAt&order=desc`, method: 'GET' })
      .reply(200, {
        matches: [
          { id: 70, query_id: 7, url_scan_id: 's1', similarity_score: 0.93, matched_at: '2026-06-30T00:00:00Z', domain: 'acme-brand.example', registrar: null },
          { id: 71, query_id: 7, url_scan_id: null, similarity_score: 0.85, matched_at: '2026-06-29T00:00:00Z', domain: null, registrar: null }
        ],
        total: 2
      }, { headers: JSON_HEADERS })
    const page = await connector.listDetections!({ pageToken: null, pageSize: 50 }, testCtx())
    expect(page.items).toHaveLength(1)
    expect(page.items[0]).toMatchObject({ id: 'cloudflare:logo-match:7%3A70', kind: 'logo-match', similarity: 0.93, matched: { queryId: '7', queryTag: 'acme-logo' } })
    expect(page.next).toBeNull()
  })

  it('creates a domain query with {tag, string_matches} and a logo query with base64 image_data', async () => {
    const pool = agent.get(ORIGIN)
    pool.intercept({ path: `${V2}/domain/queries`, method: 'POST', body: JSON.stringify({ tag: 'acme', string_matches: [{ pattern: 'acme' }, { pattern: 'acm3' }] }) })
      .reply(200, { success: true, message: 'ok', query_id: 9 }, { headers: JSON_HEADERS })
    pool.intercept({ path: `${V2}/domain/queries?id=9`, method: 'GET' })
      .reply(200, { success: true, errors: [], messages: [], result: domainQuery(9, 'acme', ['acme', 'acm3']) }, { headers: JSON_HEADERS })
    const m = await connector.brandProtection!.createMonitor({ type: 'domain', tag: 'acme', patterns: ['acme', 'acm3'], scan: null }, testCtx())
    expect(m).toMatchObject({ id: 'domain:9', type: 'domain', patterns: ['acme', 'acm3'] })

    pool.intercept({ path: `${V2}/logo/queries`, method: 'POST', body: JSON.stringify({ tag: 'logo', image_data: 'data:image/png;base64,AQID', similarity_threshold: 0.7 }) })
      .reply(200, { success: true, message: 'ok', query_id: 3 }, { headers: JSON_HEADERS })
    pool.intercept({ path: `${V2}/logo/queries?id=3`, method: 'GET' })
      .reply(200, [{ id: 3, tag: 'logo', r2_path: 'x', similarity_threshold: 0.7, uploaded_at: '2026-07-01T00:00:00Z' }], { headers: JSON_HEADERS })
    const l = await connector.brandProtection!.createMonitor({ type: 'logo', tag: 'logo', similarityThreshold: 0.7, image: { data: Buffer.from([1, 2, 3]), contentType: 'image/png' } }, testCtx())
    expect(l).toMatchObject({ id: 'logo:3', similarityThreshold: 0.7 })
  })
})

describe('cloudflare brand protection against the simulator', () => {
  let h: ConnectorHarness
  beforeEach(async () => { h = await connectorHarness('cloudflare') })
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

  it.each([1, 3, 10, 100])('walks every domain and logo match of every saved query once, newest first (page size %i)', async (size) => {
    const all = await walk(size)
    expect(new Set(all.map(d => d.id)).size).toBe(all.length)
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i - 1]!.detectedAt)).toBeGreaterThanOrEqual(Date.parse(all[i]!.detectedAt))
    expect(all.filter(d => d.kind === 'domain-match').length).toBe(18) // 6 per pattern: acme; globex, globx
    expect(all.some(d => d.kind === 'logo-match')).toBe(true)
    expect(all.map(d => d.id).sort()).toEqual((await walk(100)).map(d => d.id).sort())
  })

  it('a new domain query brings its matches; deleting it removes them; detections are found by id', async () => {
    const m = await h.connector.brandProtection!.createMonitor({ type: 'domain', tag: 'initech', patterns: ['initech'], scan: true }, testCtx())
    expect(m).toMatchObject({ type: 'domain', tag: 'initech', patterns: ['initech'], scan: true })
    const all = await walk(100)
    const mine = all.filter(d => d.matched.queryTag === 'initech')
    expect(mine).toHaveLength(6)
    const one = mine[0]!
    const native = decodeURIComponent(one.id.split(':').slice(2).join(':'))
    expect(await h.connector.getDetection!('domain-match', native, testCtx())).toEqual(one)
    await h.connector.brandProtection!.deleteMonitor('domain', m.id.slice('domain:'.length), testCtx())
    expect((await walk(100)).some(d => d.matched.queryTag === 'initech')).toBe(false)
    expect(await h.connector.getDetection!('domain-match', native, testCtx())).toBeNull()
    await expect(h.connector.brandProtection!.deleteMonitor('domain', '424242', testCtx())).rejects.toMatchObject({ kind: 'not_found' })
  })

  it('submits URLs to the scanner and reads their results', async () => {
    const s = await h.connector.brandProtection!.submitScans(['https://login-acme.example/x', 'https://www.cloudflare.com/'], testCtx())
    expect(s.submitted).toHaveLength(1)
    expect(s.excluded).toEqual(['https://www.cloudflare.com/'])
    const info = await h.connector.brandProtection!.scanInfo({ urls: ['https://login-acme.example/x'], scanIds: [] }, testCtx())
    expect(info).toHaveLength(1)
    expect(info[0]).toMatchObject({ url: 'https://login-acme.example/x', scanId: s.submitted[0]!.scanId, complete: false })
  })
})
