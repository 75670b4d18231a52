import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { MockAgent } from 'undici'
import { ManualClock } from '../../../src/clock.js'
import { ConnectorError, type CreateCaseInput, type ProviderConnector } from '../../../src/connectors/connector.js'
import { cloudflareModule } from '../../../src/connectors/cloudflare/index.js'
import { parseCloudflareError } from '../../../src/connectors/cloudflare/client.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { StatusEngine } from '../../../src/status/engine.js'
import { MemoryKvStore } from '../../../src/store/memory-kv-store.js'
import { testCtx } from '../../support/connectors.js'

const ORIGIN = 'https://api.cloudflare.com'
const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353'
const BASE = `/client/v4/accounts/${ACCOUNT}/abuse-reports`
const TOKEN = 'cf-test-token-do-not-leak'
const JSON_HEADERS = { 'content-type': 'application/json' }

const envelope = (result: unknown, resultInfo?: unknown): Record<string, unknown> =>
  ({ success: true, errors: [], messages: [], result, ...(resultInfo === undefined ? {} : { result_info: resultInfo }) })

function report (id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    cdate: '2026-07-01T12:00:00Z',
    domain: 'evil.example.net',
    type: 'PHISH',
    status: 'accepted',
    mitigation_summary: { accepted_url_count: 1, active_count: 0, external_host_notified: false, in_review_count: 0, pending_count: 0 },
    justification: 'clone of our login',
    original_work: 'Example Bank',
    submitter: { name: 'Jane Doe', email: 'soc@example.com' },
    urls: ['https://evil.example.net/login'],
    some_future_field: { ignored: true },
    ...over
  }
}

const mitigation = (id: string, type: string, status: string, effective: string): Record<string, unknown> =>
  ({ id, type, status, effective_date: effective, entity_type: 'url_pattern', entity_id: 'https://evil.example.net/login' })

function input (): CreateCaseInput {
  return {
    action: 'takedown',
    target: { type: 'url', value: 'https://evil.example.net/login' },
    brand: { id: null, name: 'Example Bank' },
    comment: null,
    reportedBy: null,
    clientId: null,
    social: null,
    attachments: [],
    providerOptions: {
      reportType: 'abuse_phishing',
      reporter: { name: 'Jane Doe', email: 'soc@example.com' },
      justification: 'Credential-harvesting clone of our login page',
      ownerNotification: 'send-anon'
    }
  }
}

describe('cloudflare client (MockAgent)', () => {
  let agent: MockAgent
  let connector: ProviderConnector
  let clock: ManualClock

  beforeEach(() => {
    agent = new MockAgent({ enableCallHistory: true })
    agent.disableNetConnect()
    clock = new ManualClock('2026-07-02T00:00:00Z')
    connector = cloudflareModule.create(
      { baseUrl: `${ORIGIN}/client/v4`, credential: TOKEN, timeoutMs: 2000, options: { accountId: ACCOUNT } },
      { dispatcher: agent, status: new StatusEngine(STATUS_TABLES), clock }
    )
  })
  afterEach(async () => {
    agent.assertNoPendingInterceptors()
    await agent.close()
  })

  const pool = (): ReturnType<MockAgent['get']> => agent.get(ORIGIN)
  const calls = () => agent.getCallHistory()?.calls() ?? []

  it('refuses to build without an account id', () => {
    expect(() => cloudflareModule.create({ baseUrl: ORIGIN, credential: TOKEN, timeoutMs: 1000 }, {
      dispatcher: agent, status: new StatusEngine(STATUS_TABLES), clock
    })).toThrow(/account id is required/)
  })

  it('lists one page: page/per_page/sort/created_* query, Bearer auth, active mitigations fetched once (cached)', async () => {
    const listBody = envelope({
      reports: [
        report('r1', { cdate: '2026-07-01T10:00:00Z' }),
        report('r2', { cdate: '2026-07-01T11:00:00Z', mitigation_summary: { accepted_url_count: 1, active_count: 1, external_host_notified: false, in_review_count: 0, pending_count: 0 } }),
        report('r3', { status: 'in_review', urls: [], cdate: '2026-06-30T00:00:00.123+02:00' })
      ]
    }, { page: 2, per_page: 100, count: 3, total_count: 203, total_pages: 3 })
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) }).reply(200, listBody, { headers: JSON_HEADERS }).times(2)
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}/r2/mitigations?`) })
      .reply(200, envelope({ mitigations: [mitigation('m1', 'r2_takedown_object', 'active', '2026-07-01T12:30:00Z')] },
        { page: 1, per_page: 100, count: 1, total_count: 1, total_pages: 1 }), { headers: JSON_HEADERS })

    const page = await connector.listCases({
      pageToken: '2', pageSize: 500, filters: { since: '2026-06-01T00:00:00.500Z', until: '2026-07-01T00:00:00Z', q: 'evil', statuses: ['in_review'] }
    }, testCtx())
    expect(page.next).toBe('3')
    expect(page.items.map(c => [c.providerCaseId, c.status])).toEqual([['r2', 'taken_down'], ['r1', 'closed'], ['r3', 'in_review']])
    expect(page.items[0]).toEqual({
      id: 'cloudflare:r2',
      provider: 'cloudflare',
      providerCaseId: 'r2',
      target: expect.objectContaining({ type: 'url', value: 'https://evil.example.net/login', domain: 'evil.example.net', host: 'evil.example.net', registrableDomain: 'example.net' }),
      status: 'taken_down',
      terminal: true,
      providerStatus: 'accepted',
      brand: { id: null, name: 'Example Bank' },
      threat: { class: 'phishing', name: null, platform: null },
      reportedBy: 'soc@example.com',
      createdAt: '2026-07-01T11:00:00.000Z',
      updatedAt: '2026-07-01T12:30:00.000Z',
      links: { self: '/v1/cases/cloudflare:r2', provider: null }
    })
    expect(page.items[2]).toMatchObject({ target: { type: 'domain', value: 'evil.example.net', domain: 'evil.example.net' }, createdAt: '2026-06-29T22:00:00.123Z', updatedAt: null })

    const [list, mits] = calls()
    expect(list?.method).toBe('GET')
    expect(list?.path.split('?')[0]).toBe(BASE)
    // bounds widened by one second; no status, no domain for q
    expect(list?.searchParams).toEqual({
      page: '2', per_page: '100', sort: 'cdate,desc', created_after: '2026-05-31T23:59:59Z', created_before: '2026-07-01T00:00:01Z'
    })
    expect(list?.headers).toMatchObject({ authorization: `Bearer ${TOKEN}` })
    expect(mits?.searchParams).toEqual({ page: '1', per_page: '100', status: 'active' })

    // same summary within 60 s: the active mitigations come from the cache
    await connector.listCases({ pageToken: '2', pageSize: 100, filters: {} }, testCtx())
    expect(calls()).toHaveLength(3)
  })

  it('reuses a report\'s active mitigations while its mitigation_summary is unchanged, reads them again when it changes or the record is a day old', async () => {
    const summary = (active: number, inReview: number): Record<string, unknown> =>
      ({ accepted_url_count: 1, active_count: active, external_host_notified: false, in_review_count: inReview, pending_count: 0 })
    const listing = (s: Record<string, unknown>): void => {
      pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) })
        .reply(200, envelope({ reports: [report('r2', { mitigation_summary: s })] }, { page: 1, per_page: 20, count: 1, total_count: 1, total_pages: 1 }), { headers: JSON_HEADERS })
    }
    const mitigations = (...list: Array<Record<string, unknown>>): void => {
      pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}/r2/mitigations?`) })
        .reply(200, envelope({ mitigations: list }, { page: 1, per_page: 100, count: list.length, total_count: list.length, total_pages: 1 }), { headers: JSON_HEADERS })
    }
    const list = async (): Promise<string | undefined> => (await connector.listCases({ pageToken: null, pageSize: 20, filters: {} }, testCtx())).items[0]?.status
    const mitigationCalls = (): number => calls().filter(c => c.path.includes('/mitigations')).length

    listing(summary(2, 0))
    mitigations(mitigation('m1', 'phishing_interstitial', 'active', '2026-07-01T12:30:00Z'), mitigation('m2', 'r2_takedown_object', 'active', '2026-07-01T13:00:00Z'))
    expect(await list()).toBe('taken_down')
    expect(mitigationCalls()).toBe(1)

    // an hour later, same summary: no mitigation call (none is intercepted: one would fail the test)
    clock.advance(3_600_000)
    listing(summary(2, 0))
    expect(await list()).toBe('taken_down')
    expect(mitigationCalls()).toBe(1)

    // the removal was appealed: the summary changed, so the listing reads the mitigations again
    listing(summary(1, 1))
    mitigations(mitigation('m1', 'phishing_interstitial', 'active', '2026-07-01T12:30:00Z'))
    expect(await list()).toBe('mitigated')
    expect(mitigationCalls()).toBe(2)

    // a day later the record is past its maximum age: read again even with the same summary
    clock.advance(24 * 3_600_000)
    listing(summary(1, 1))
    mitigations(mitigation('m3', 'account_suspend', 'active', '2026-07-02T09:00:00Z'))
    expect(await list()).toBe('taken_down')
    expect(mitigationCalls()).toBe(3)
  })

  it('lists from the vendor when the store does not answer, and the process still remembers what it read', async () => {
    const failing = new MemoryKvStore(clock)
    failing.mget = async () => { throw new Error('store down') }
    failing.set = async () => { throw new Error('store down') }
    const withStore = cloudflareModule.create(
      { baseUrl: `${ORIGIN}/client/v4`, credential: TOKEN, timeoutMs: 2000, options: { accountId: ACCOUNT } },
      { dispatcher: agent, status: new StatusEngine(STATUS_TABLES), clock, store: failing }
    )
    const s = { accepted_url_count: 1, active_count: 1, external_host_notified: false, in_review_count: 0, pending_count: 0 }
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) })
      .reply(200, envelope({ reports: [report('r2', { mitigation_summary: s })] }, { page: 1, per_page: 20, count: 1, total_count: 1, total_pages: 1 }), { headers: JSON_HEADERS })
      .times(2)
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}/r2/mitigations?`) })
      .reply(200, envelope({ mitigations: [mitigation('m1', 'legal_block', 'active', '2026-07-01T12:30:00Z')] }, { page: 1, per_page: 100, count: 1, total_count: 1, total_pages: 1 }), { headers: JSON_HEADERS })
    for (let i = 0; i < 2; i++) {
      const page = await withStore.listCases({ pageToken: null, pageSize: 20, filters: {} }, testCtx())
      expect(page.items[0]?.status).toBe('taken_down')
    }
    expect(calls().filter(c => c.path.includes('/mitigations')).length).toBe(1)
  })

  it('the detail view always reads every mitigation, and a listing then reuses what it saw', async () => {
    const s = { accepted_url_count: 1, active_count: 1, external_host_notified: false, in_review_count: 0, pending_count: 0 }
    pool().intercept({ method: 'GET', path: `${BASE}/r2` }).reply(200, envelope(report('r2', { mitigation_summary: s })), { headers: JSON_HEADERS }).times(2)
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}/r2/mitigations?`) })
      .reply(200, envelope({ mitigations: [mitigation('m1', 'legal_block', 'active', '2026-07-01T12:30:00Z')] }, { page: 1, per_page: 100, count: 1, total_count: 1, total_pages: 1 }), { headers: JSON_HEADERS })
      .times(2)
    expect((await connector.getCase('r2', { raw: false }, testCtx())).status).toBe('taken_down')
    expect((await connector.getCase('r2', { raw: false }, testCtx())).status).toBe('taken_down')
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) })
      .reply(200, envelope({ reports: [report('r2', { mitigation_summary: s })] }, { page: 1, per_page: 20, count: 1, total_count: 1, total_pages: 1 }), { headers: JSON_HEADERS })
    const page = await connector.listCases({ pageToken: null, pageSize: 20, filters: {} }, testCtx())
    expect(page.items[0]).toMatchObject({ status: 'taken_down', updatedAt: '2026-07-01T12:30:00.000Z' })
    expect(calls().filter(c => c.path.includes('/mitigations')).length).toBe(2)
  })

  it('ends the listing on the last page and starts at page 1 for a null token', async () => {
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) })
      .reply(200, envelope({ reports: [] }, { page: 1, per_page: 20, count: 0, total_count: 0, total_pages: 0 }), { headers: JSON_HEADERS })
    const page = await connector.listCases({ pageToken: null, pageSize: 20, filters: {} }, testCtx())
    expect(page).toEqual({ items: [], next: null })
    expect(calls()[0]?.searchParams).toEqual({ page: '1', per_page: '20', sort: 'cdate,desc' })
  })

  it('refuses a page token that is not a page number', async () => {
    await expect(connector.listCases({ pageToken: 'abc', pageSize: 10, filters: {} }, testCtx())).rejects.toMatchObject({ code: 'GW_ERR_BAD_CURSOR' })
    expect(calls()).toHaveLength(0)
  })

  it('looks for an open case by exact domain and skips terminal ones', async () => {
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) }).reply(200, envelope({
      reports: [report('closed1'), report('open1', { status: 'in_review' })]
    }, { page: 1, per_page: 100, count: 2, total_count: 2, total_pages: 1 }), { headers: JSON_HEADERS })
    const open = await connector.findOpenCase!({ type: 'url', value: 'https://Evil.example.net/other/path' }, testCtx())
    expect(open?.id).toBe('cloudflare:open1')
    expect(calls()[0]?.searchParams).toEqual({ page: '1', per_page: '100', sort: 'cdate,desc', domain: 'evil.example.net' })
  })

  it('gets the detail view, paging through all mitigations; a pending one\'s planned date dates neither the case nor its history', async () => {
    pool().intercept({ method: 'GET', path: `${BASE}/r%2F1` })
      .reply(200, envelope(report('r/1', { mitigation_summary: { accepted_url_count: 1, active_count: 1, external_host_notified: false, in_review_count: 0, pending_count: 1 } })), { headers: JSON_HEADERS })
    pool().intercept({ method: 'GET', path: `${BASE}/r%2F1/mitigations?page=1&per_page=100` })
      .reply(200, envelope({ mitigations: [mitigation('m2', 'account_suspend', 'pending', '2026-07-03T00:00:00Z')] },
        { page: 1, per_page: 100, count: 1, total_count: 2, total_pages: 2 }), { headers: JSON_HEADERS })
    pool().intercept({ method: 'GET', path: `${BASE}/r%2F1/mitigations?page=2&per_page=100` })
      .reply(200, envelope({ mitigations: [mitigation('m1', 'phishing_interstitial', 'active', '2026-07-01T13:00:00Z')] },
        { page: 2, per_page: 100, count: 1, total_count: 2, total_pages: 2 }), { headers: JSON_HEADERS })
    const detail = await connector.getCase('r/1', { raw: true }, testCtx())
    expect(detail).toMatchObject({ id: 'cloudflare:r%2F1', providerCaseId: 'r/1', status: 'mitigated', updatedAt: '2026-07-01T13:00:00.000Z' })
    expect(detail.mitigations).toEqual([
      { id: 'm2', type: 'account_suspend', status: 'pending', effectiveAt: '2026-07-03T00:00:00.000Z', entityType: 'url_pattern', entityId: 'https://evil.example.net/login' },
      { id: 'm1', type: 'phishing_interstitial', status: 'active', effectiveAt: '2026-07-01T13:00:00.000Z', entityType: 'url_pattern', entityId: 'https://evil.example.net/login' }
    ])
    expect(detail.history).toEqual([
      { at: '2026-07-01T12:00:00.000Z', status: null, providerStatus: 'submitted', message: 'report submitted', source: 'provider' },
      { at: '2026-07-01T13:00:00.000Z', status: null, providerStatus: 'active', message: 'phishing_interstitial on url_pattern https://evil.example.net/login', source: 'provider' }
    ])
    expect(detail.raw).toMatchObject({ id: 'r/1', some_future_field: { ignored: true } })
  })

  it('submits once with the exact JSON body, reads the bare success, then GETs the report', async () => {
    pool().intercept({ method: 'POST', path: `${BASE}/abuse_phishing` })
      .reply(200, { abuse_rand: 'abc123', request: { act: 'abuse_phishing' }, result: 'success' }, { headers: JSON_HEADERS })
    pool().intercept({ method: 'GET', path: `${BASE}/abc123` })
      .reply(200, envelope(report('abc123', { status: 'in_review' })), { headers: JSON_HEADERS })
    pool().intercept({ method: 'GET', path: `${BASE}/abc123/mitigations?page=1&per_page=100` })
      .reply(200, envelope({ mitigations: [] }, { page: 1, per_page: 100, count: 0, total_count: 0, total_pages: 0 }), { headers: JSON_HEADERS })
    const prepared = await connector.prepareCreate!(input(), testCtx())
    const outcome = await connector.submitCreate!(prepared, input(), testCtx())
    expect(outcome).toMatchObject({ kind: 'created', case: { id: 'cloudflare:abc123', status: 'in_review', providerStatus: 'in_review' } })
    const post = calls()[0]
    expect(post?.method).toBe('POST')
    expect(post?.path).toBe(`${BASE}/abuse_phishing`)
    expect(post?.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' })
    expect(JSON.parse(post?.body ?? 'null')).toEqual({
      act: 'abuse_phishing',
      name: 'Jane Doe',
      email: 'soc@example.com',
      email2: 'soc@example.com',
      urls: 'https://evil.example.net/login',
      host_notification: 'send',
      owner_notification: 'send-anon',
      justification: 'Credential-harvesting clone of our login page',
      original_work: 'Example Bank'
    })
  })

  it('never retries a submit: a 503 is reported once as unavailable', async () => {
    pool().intercept({ method: 'POST', path: `${BASE}/abuse_phishing` })
      .reply(503, { result: 'error', msg: 'An unexpected error occurred', err_code: 'x', error_code: 'x', request: { act: 'abuse_phishing' } }, { headers: JSON_HEADERS })
    const prepared = await connector.prepareCreate!(input(), testCtx())
    await expect(connector.submitCreate!(prepared, input(), testCtx())).rejects.toMatchObject({ kind: 'unavailable', upstreamStatus: 503 })
    expect(calls()).toHaveLength(1)
  })

  it('maps the duplicate submit error to rejected with the vendor message', async () => {
    pool().intercept({ method: 'POST', path: `${BASE}/abuse_phishing` }).reply(400, {
      result: 'error', msg: 'You have already submitted this URL in the last 7 days', err_code: 'dup', error_code: 'dup', request: { act: 'abuse_phishing' }
    }, { headers: JSON_HEADERS })
    const prepared = await connector.prepareCreate!(input(), testCtx())
    const err = await connector.submitCreate!(prepared, input(), testCtx()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectorError)
    expect(err).toMatchObject({ kind: 'rejected', upstreamStatus: 400, message: 'You have already submitted this URL in the last 7 days (dup)' })
  })

  it('sends an appeal with the exact body', async () => {
    pool().intercept({ method: 'POST', path: `${BASE}/r1/mitigations/appeal` }).reply(200, envelope(
      [mitigation('m1', 'phishing_interstitial', 'in_review', '2026-07-01T13:00:00Z')],
      { page: 1, per_page: 1, count: 1, total_count: 1, total_pages: 1 }
    ), { headers: JSON_HEADERS })
    pool().intercept({ method: 'POST', path: `${BASE}/r1/mitigations/appeal` }).reply(200, envelope([], { page: 1, per_page: 0, count: 0, total_count: 0, total_pages: 1 }), { headers: JSON_HEADERS })
    await connector.appeal!('r1', { appeals: [{ id: 'm1', reason: 'misclassified' }] }, testCtx())
    await connector.appeal!('r1', { type: 'counter_notice', data: { full_name: 'A B' } }, testCtx())
    expect(calls().map(c => [c.method, c.path, JSON.parse(c.body ?? 'null')])).toEqual([
      ['POST', `${BASE}/r1/mitigations/appeal`, { appeals: [{ id: 'm1', reason: 'misclassified' }] }],
      ['POST', `${BASE}/r1/mitigations/appeal`, { type: 'counter_notice', data: { full_name: 'A B' } }]
    ])
  })

  const errorRows: Array<[string, number, unknown, Record<string, string>, { kind: string, message?: string, retryAfter?: number | null }]> = [
    ['401 envelope', 401, { success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null }, {}, { kind: 'auth', message: 'Authentication error (code 10000)' }],
    ['401 entitlement shape', 401, { result: 'error', msg: 'Not entitled to use feature: Abuse Report API', err_code: 'unknown_err', error_code: 'unknown_err' }, {},
      { kind: 'auth', message: 'Not entitled to use feature: Abuse Report API (unknown_err)' }],
    ['403 wrong account', 403, { success: false, errors: [{ code: 9109, message: 'Unauthorized to access requested resource' }], messages: [], result: null }, {}, { kind: 'auth' }],
    ['404', 404, { success: false, errors: [{ code: 1002, message: 'Abuse report not found' }], messages: [], result: null }, {}, { kind: 'not_found', message: 'Abuse report not found (code 1002)' }],
    ['400 envelope', 400, { success: false, errors: [{ code: 1001, message: 'per_page must be between 1 and 100' }, { code: '1003', message: 'second' }], messages: [] }, {},
      { kind: 'rejected', message: 'per_page must be between 1 and 100 (code 1001); second (code 1003)' }],
    ['422', 422, { success: false, errors: [{ message: 'unprocessable' }], messages: [] }, {}, { kind: 'rejected', message: 'unprocessable' }],
    ['429 with Retry-After', 429, { success: false, errors: [{ code: 971, message: 'Please wait and consider throttling your request speed' }], messages: [] }, { 'retry-after': '7' },
      { kind: 'rate_limited', retryAfter: 7 }],
    ['500', 500, { success: false, errors: [{ code: 10001, message: 'Internal server error' }], messages: [] }, {}, { kind: 'unavailable' }]
  ]
  for (const [name, status, body, headers, expected] of errorRows) {
    it(`maps a ${name} answer to kind ${expected.kind}`, async () => {
      // a short deadline: a retry that would overrun it fails fast, so retried kinds need one interceptor
      pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) }).reply(status, body as object, { headers: { ...JSON_HEADERS, ...headers } })
      const err = await connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx(150)).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ConnectorError)
      expect(err).toMatchObject({ provider: 'cloudflare', upstreamStatus: status, ...expected })
      expect((err as Error).message).not.toContain(TOKEN)
      expect(calls()).toHaveLength(1)
    })
  }

  it('maps malformed JSON on a 200 to protocol', async () => {
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) }).reply(200, '{"success": true, "result": {"rep', { headers: JSON_HEADERS })
    await expect(connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())).rejects.toMatchObject({ kind: 'protocol', upstreamStatus: 200 })
  })

  it('maps a 200 of the wrong shape to protocol', async () => {
    pool().intercept({ method: 'GET', path: p => p.startsWith(`${BASE}?`) }).reply(200, envelope([report('r1')]), { headers: JSON_HEADERS })
    await expect(connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())).rejects.toMatchObject({ kind: 'protocol' })
  })

  it('parses every Cloudflare error shape into one line', () => {
    expect(parseCloudflareError(401, { success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null })).toBe('Authentication error (code 10000)')
    expect(parseCloudflareError(400, { result: 'error', msg: 'Provided emails did not match', err_code: 'a', error_code: 'b' })).toBe('Provided emails did not match (b)')
    expect(parseCloudflareError(500, { success: false, errors: [], messages: [] })).toBeNull()
    expect(parseCloudflareError(502, '<html>bad gateway</html>')).toBe('<html>bad gateway</html>')
    expect(parseCloudflareError(500, null)).toBeNull()
  })
})
