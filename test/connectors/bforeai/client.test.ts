import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { MockAgent } from 'undici'
import { ManualClock } from '../../../src/clock.js'
import { bforeaiModule } from '../../../src/connectors/bforeai/index.js'
import type { Takedown } from '../../../src/connectors/bforeai/wire.js'
import { ConnectorError, type CreateCaseInput, type ProviderConnector } from '../../../src/connectors/connector.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { GatewayError } from '../../../src/domain/problems.js'
import { StatusEngine } from '../../../src/status/engine.js'
import { testCtx } from '../../support/connectors.js'

const ORIGIN = 'https://takedown.bfore.ai'
const KEY = 'test-bforeai-key-42'
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

let agent: MockAgent
let clock: ManualClock
let unknown: Array<string | null>
let connector: ProviderConnector

beforeEach(() => {
  agent = new MockAgent({ enableCallHistory: true })
  agent.disableNetConnect()
  clock = new ManualClock()
  unknown = []
  const status = new StatusEngine(STATUS_TABLES, {}, (_p, s) => { unknown.push(s) })
  connector = bforeaiModule.create({ baseUrl: `${ORIGIN}/api`, credential: KEY, timeoutMs: 2000 }, { dispatcher: agent, status, clock })
})

afterEach(async () => {
  agent.assertNoPendingInterceptors()
  await agent.close()
})

const pool = () => agent.get(ORIGIN)
const calls = () => agent.getCallHistory()?.calls() ?? []
const startsWith = (prefix: string) => (path: string) => path === prefix || path.startsWith(prefix + '?')

function takedown (over: Partial<Takedown> = {}): Takedown {
  return {
    id: '6750f0c2a1b2c3d4e5f60718',
    created: '2026-10-20T10:00:00.000Z',
    attack_url: 'https://login-acme.example.io/secure',
    value: { type: 'url', value: 'https://login-acme.example.io/secure' },
    brand_name: 'Acme Bank',
    user_id: 'u-1',
    description: 'Credential phishing page',
    company_id: 77,
    status_id: 2,
    status_name: 'In Progress',
    updated_at: '2026-10-21T08:30:00.000Z',
    brand_id: 501,
    attack_id: 12345,
    takedown_type: 'Infrastructure',
    cancellation_reason: null,
    platform: null,
    threat_type: null,
    ...over
  }
}

function input (over: Partial<CreateCaseInput> = {}): CreateCaseInput {
  return {
    action: 'takedown',
    target: { type: 'url', value: 'https://login-acme.example.io/secure' },
    brand: { id: 501, name: 'Acme Bank' },
    comment: 'Credential phishing page cloning our login form',
    reportedBy: 'soc@acme.example',
    clientId: null,
    social: null,
    providerOptions: {},
    attachments: [],
    ...over
  }
}

async function rejection (p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('bforeai client: list', () => {
  it('sends page/size/sort/order, widened since/until and the raw key, no brand_name; maps one page newest first', async () => {
    pool().intercept({ path: startsWith('/api/v2/takedown/list'), method: 'GET' }).reply(200, {
      items: [
        takedown({ id: 'a', created: '2026-10-01T00:00:00Z' }),
        takedown({ id: 'b', created: '2026-10-05T00:00:00Z', attack_url: 'https://evil-acme.net', value: { type: 'domain', value: 'evil-acme.net' } }),
        takedown({
          id: 'c',
          created: '2026-09-01T00:00:00Z',
          attack_url: 'https://www.facebook.com/acme.support',
          platform: 'Facebook',
          threat_type: 'Impersonation',
          takedown_type: 'Social Media',
          status_name: 'Pending',
          attack_id: null
        })
      ],
      total: 250,
      page: 2,
      size: 100,
      pages: 3
    }, JSON_HEADERS)
    const page = await connector.listCases({
      pageToken: '2',
      pageSize: 250,
      filters: { since: '2026-09-01T00:00:00.000Z', until: '2026-11-01T00:00:00.000Z', brand: 'Acme Bank', q: 'acme', statuses: ['in_progress'] }
    }, testCtx())

    const [call] = calls()
    expect(call?.method).toBe('GET')
    expect(call?.path).toBe('/api/v2/takedown/list')
    expect(call?.searchParams).toEqual({
      page: '2',
      size: '100',
      sort: 'created',
      order: 'descending',
      since: '2026-08-31T23:59:59.000Z',
      until: '2026-11-01T00:00:01.000Z'
    }) // a brand name is matched by words in the gateway, never sent as brand_name (which would narrow it)
    expect(call?.headers).toMatchObject({ 'x-authorization': KEY })
    expect(page.next).toBe('3')
    expect(page.items.map(c => c.providerCaseId)).toEqual(['b', 'a', 'c'])
    const [domainCase, urlCase, socialCase] = page.items
    expect(urlCase).toEqual({
      id: 'bforeai:a',
      provider: 'bforeai',
      providerCaseId: 'a',
      target: { type: 'url', value: 'https://login-acme.example.io/secure', domain: 'login-acme.example.io', host: 'login-acme.example.io', hostUnicode: 'login-acme.example.io', registrableDomain: 'example.io', publicSuffix: 'io', canonicalUrl: 'https://login-acme.example.io/secure' },
      status: 'in_progress',
      terminal: false,
      providerStatus: 'In Progress',
      brand: { id: 501, name: 'Acme Bank' },
      threat: { class: 'Infrastructure', name: null, platform: null },
      reportedBy: null,
      createdAt: '2026-10-01T00:00:00.000Z',
      updatedAt: '2026-10-21T08:30:00.000Z',
      links: { self: '/v1/cases/bforeai:a', provider: null }
    })
    expect(domainCase?.target).toMatchObject({ type: 'domain', value: 'evil-acme.net', domain: 'evil-acme.net', submitted: 'https://evil-acme.net' })
    expect(socialCase?.target).toMatchObject({ type: 'social', value: 'https://www.facebook.com/acme.support', domain: null })
    expect(socialCase?.threat).toEqual({ class: 'Social Media', name: 'Impersonation', platform: 'Facebook' })
    expect(socialCase?.status).toBe('received')
  })

  it('first page for a null token, brand id for a numeric brand, next null on the last page', async () => {
    pool().intercept({ path: startsWith('/api/v2/takedown/list'), method: 'GET' })
      .reply(200, { items: [takedown()], total: 1, page: 1, size: 20, pages: 1 }, JSON_HEADERS)
    const page = await connector.listCases({ pageToken: null, pageSize: 20, filters: { brand: '501' } }, testCtx())
    expect(calls()[0]?.searchParams).toEqual({ page: '1', size: '20', sort: 'created', order: 'descending', brand_id: '501' })
    expect(page.next).toBeNull()
    expect(page.items).toHaveLength(1)
  })

  it('looks a missing status_name up by status_id in the run-time list, refreshing at most once a minute', async () => {
    pool().intercept({ path: startsWith('/api/v2/takedown/list'), method: 'GET' })
      .reply(200, { items: [takedown({ status_name: null, status_id: 5 }), takedown({ id: 'x', status_name: null, status_id: 99 })], total: 2, page: 1, size: 50, pages: 1 }, JSON_HEADERS)
      .times(2)
    pool().intercept({ path: '/api/v2/takedown/statuses', method: 'GET' })
      .reply(200, [{ id: 5, name: 'Taken Down', description: 'offline' }], JSON_HEADERS)
    const first = await connector.listCases({ pageToken: null, pageSize: 50, filters: {} }, testCtx())
    expect(first.items.map(c => [c.providerStatus, c.status, c.terminal])).toEqual([['Taken Down', 'taken_down', true], [null, 'unknown', false]])
    // id 99 is still unseen, but the list was fetched less than a minute ago: no second statuses call
    clock.advance(30_000)
    await connector.listCases({ pageToken: null, pageSize: 50, filters: {} }, testCtx())
    expect(calls().filter(c => c.path === '/api/v2/takedown/statuses')).toHaveLength(1)
    expect(unknown).toEqual([null, null])
  })

  it('rejects a page token that is not a page number', async () => {
    const err = await rejection(connector.listCases({ pageToken: 'abc', pageSize: 10, filters: {} }, testCtx()))
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).code).toBe('GW_ERR_BAD_CURSOR')
  })
})

describe('bforeai client: get', () => {
  it('builds the detail with one derived history entry, raw only on request, naive timestamps read as UTC', async () => {
    const t = takedown({ id: 'id/with space', created: '2026-10-20T10:00:00', updated_at: '2026-10-22T11:00:00.5', status_name: 'Cancelled', cancellation_reason: 'False positive' })
    pool().intercept({ path: '/api/v2/takedown/id%2Fwith%20space', method: 'GET' }).reply(200, t, JSON_HEADERS).times(2)
    const detail = await connector.getCase('id/with space', { raw: false }, testCtx())
    expect(detail.id).toBe('bforeai:id%2Fwith%20space')
    expect(detail.createdAt).toBe('2026-10-20T10:00:00.000Z')
    expect(detail.history).toEqual([{ at: '2026-10-22T11:00:00.500Z', status: 'cancelled', providerStatus: 'Cancelled', message: 'False positive', source: 'provider' }])
    expect(detail).not.toHaveProperty('raw')
    expect(detail).not.toHaveProperty('mitigations')
    const withRaw = await connector.getCase('id/with space', { raw: true }, testCtx())
    expect(withRaw.raw).toEqual(t)
    expect(calls()[0]?.headers).toMatchObject({ 'x-authorization': KEY })
  })
})

describe('bforeai client: vendor errors', () => {
  it('404 → not_found with the vendor detail', async () => {
    pool().intercept({ path: '/api/v2/takedown/nope', method: 'GET' }).reply(404, { detail: 'Takedown not found' }, JSON_HEADERS)
    const err = await rejection(connector.getCase('nope', { raw: false }, testCtx()))
    expect(err).toBeInstanceOf(ConnectorError)
    expect(err).toMatchObject({ kind: 'not_found', message: 'Takedown not found', upstreamStatus: 404 })
  })

  it('401 → auth, and the key never appears in the error', async () => {
    pool().intercept({ path: '/api/v2/takedown/x', method: 'GET' }).reply(401, { detail: 'Invalid API key' }, JSON_HEADERS)
    const err = await rejection(connector.getCase('x', { raw: false }, testCtx())) as ConnectorError
    expect(err).toMatchObject({ kind: 'auth', upstreamStatus: 401 })
    expect(JSON.stringify({ m: err.message, s: err.stack })).not.toContain(KEY)
  })

  it('422 validation body → rejected with loc and msg', async () => {
    pool().intercept({ path: startsWith('/api/v2/takedown/list'), method: 'GET' }).reply(422, {
      detail: [{ loc: ['query', 'size'], msg: 'ensure this value is less than or equal to 100', type: 'value_error.number.not_le', ctx: { limit_value: 100 } }]
    }, JSON_HEADERS)
    const err = await rejection(connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx()))
    expect(err).toMatchObject({ kind: 'rejected', message: 'query.size: ensure this value is less than or equal to 100', upstreamStatus: 422 })
  })

  it('400 with a string detail → rejected with the vendor message', async () => {
    pool().intercept({ path: '/api/v2/takedown/request', method: 'POST' }).reply(400, { detail: 'Brand 9 not found for this company' }, JSON_HEADERS)
    const prepared = { method: 'POST' as const, path: '/v2/takedown/request', contentType: 'application/json' as const, body: { url: 'https://a.example/x', brand_id: 9, comment: 'c' }, files: [] }
    const err = await rejection(connector.submitCreate!(prepared, input(), testCtx()))
    expect(err).toMatchObject({ kind: 'rejected', message: 'Brand 9 not found for this company' })
  })

  it('429 with Retry-After → rate_limited with retryAfter', async () => {
    pool().intercept({ path: '/api/v2/takedown/statuses', method: 'GET' }).reply(429, { detail: 'Too Many Requests' }, { headers: { 'content-type': 'application/json', 'retry-after': '30' } })
    const err = await rejection(connector.listReference('statuses', testCtx()))
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfter: 30, upstreamStatus: 429 })
  })

  it('500 on a create → unavailable, sent exactly once', async () => {
    pool().intercept({ path: '/api/v2/takedown/request', method: 'POST' }).reply(500, { detail: 'Internal Server Error' }, JSON_HEADERS)
    const prepared = await connector.prepareCreate!(input(), testCtx())
    const err = await rejection(connector.submitCreate!(prepared, input(), testCtx()))
    expect(err).toMatchObject({ kind: 'unavailable', upstreamStatus: 500, message: 'Internal Server Error' })
    expect(calls()).toHaveLength(1)
  })

  it('malformed JSON on 200 → protocol', async () => {
    pool().intercept({ path: '/api/v2/takedown/x', method: 'GET' }).reply(200, '{"id": "trunc', JSON_HEADERS)
    const err = await rejection(connector.getCase('x', { raw: false }, testCtx()))
    expect(err).toMatchObject({ kind: 'protocol' })
  })

  it('a 200 body that is not a takedown → protocol', async () => {
    pool().intercept({ path: '/api/v2/takedown/x', method: 'GET' }).reply(200, { hello: 'world' }, JSON_HEADERS)
    const err = await rejection(connector.getCase('x', { raw: false }, testCtx()))
    expect(err).toMatchObject({ kind: 'protocol' })
  })
})

describe('bforeai client: reference', () => {
  it('fetches every kind from its documented path (takedown_types/ with the trailing slash)', async () => {
    pool().intercept({ path: '/api/v2/takedown/statuses', method: 'GET' }).reply(200, [
      { id: 1, name: 'Pending', description: 'queued' }, { id: 5, name: 'Taken Down', description: null }, { id: 12, name: 'Escalated to Partner' }
    ], JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/takedown_types/', method: 'GET' }).reply(200, ['Infrastructure', 'Social Media'], JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/social_media/platforms', method: 'GET' }).reply(200, { items: ['Facebook', 'X'] }, JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/social_media/threat_types', method: 'GET' }).reply(200, { items: ['Impersonation'] }, JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/cancellation_reasons', method: 'GET' })
      .reply(200, [{ id: 1, reason: 'False positive', is_active: true }, { id: 4, reason: 'Duplicate', is_active: false }], JSON_HEADERS)
    const ctx = testCtx()
    expect(await connector.listReference('statuses', ctx)).toEqual([
      { provider: 'bforeai', kind: 'statuses', id: 1, name: 'Pending', description: 'queued', unifiedStatus: 'received', terminal: false },
      { provider: 'bforeai', kind: 'statuses', id: 5, name: 'Taken Down', description: null, unifiedStatus: 'taken_down', terminal: true },
      { provider: 'bforeai', kind: 'statuses', id: 12, name: 'Escalated to Partner', description: null, unifiedStatus: 'unknown', terminal: false }
    ])
    expect(await connector.listReference('takedown-types', ctx)).toEqual([
      { provider: 'bforeai', kind: 'takedown-types', id: null, name: 'Infrastructure', description: null },
      { provider: 'bforeai', kind: 'takedown-types', id: null, name: 'Social Media', description: null }
    ])
    expect((await connector.listReference('platforms', ctx))?.map(i => i.name)).toEqual(['Facebook', 'X'])
    expect((await connector.listReference('threat-types', ctx))?.map(i => [i.kind, i.name])).toEqual([['threat-types', 'Impersonation']])
    expect(await connector.listReference('cancellation-reasons', ctx)).toEqual([
      { provider: 'bforeai', kind: 'cancellation-reasons', id: 1, name: 'False positive', description: null, active: true },
      { provider: 'bforeai', kind: 'cancellation-reasons', id: 4, name: 'Duplicate', description: null, active: false }
    ])
    expect(await connector.listReference('report-types', ctx)).toBeNull()
    expect(await connector.listReference('mitigation-types', ctx)).toBeNull()
  })
})

describe('bforeai client: create', () => {
  it('url target: POST /v2/takedown/request once, then reads the takedown back', async () => {
    const created = takedown({ id: 'new1', status_name: 'Pending', status_id: 1 })
    pool().intercept({ path: '/api/v2/takedown/request', method: 'POST' }).reply(200, created, JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/new1', method: 'GET' }).reply(200, { ...created, status_name: 'In Progress', status_id: 2 }, JSON_HEADERS)
    const prepared = await connector.prepareCreate!(input(), testCtx())
    expect(prepared).toEqual({
      method: 'POST',
      path: '/v2/takedown/request',
      contentType: 'application/json',
      body: { url: 'https://login-acme.example.io/secure', brand_id: 501, comment: 'Credential phishing page cloning our login form' },
      files: []
    })
    const out = await connector.submitCreate!(prepared, input(), testCtx())
    expect(out.kind).toBe('created')
    expect(out.kind === 'created' && out.case.providerStatus).toBe('In Progress')
    const [post, get] = calls()
    expect(post?.method).toBe('POST')
    expect(post?.headers).toMatchObject({ 'x-authorization': KEY, 'content-type': 'application/json' })
    expect(JSON.parse(String(post?.body))).toEqual(prepared.body)
    expect(get?.path).toBe('/api/v2/takedown/new1')
  })

  it('a failed read-back still answers with the takedown the create returned', async () => {
    pool().intercept({ path: '/api/v2/takedown/request', method: 'POST' }).reply(200, takedown({ id: 'new2', status_name: 'Pending' }), JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/new2', method: 'GET' }).reply(404, { detail: 'Takedown not found' }, JSON_HEADERS)
    const prepared = await connector.prepareCreate!(input(), testCtx())
    const out = await connector.submitCreate!(prepared, input(), testCtx())
    expect(out).toMatchObject({ kind: 'created', case: { providerCaseId: 'new2', status: 'received', providerStatus: 'Pending' } })
  })

  it('domain target is sent as https://<domain>; a brand id string of digits becomes an integer', async () => {
    const prepared = await connector.prepareCreate!(input({ target: { type: 'domain', value: 'Evil-Acme.net' }, brand: { id: '502', name: null } }), testCtx())
    expect(prepared.body).toEqual({ url: 'https://evil-acme.net', brand_id: 502, comment: 'Credential phishing page cloning our login form' })
  })

  it('202 "already detected" → exists with the message and the takedown found by attack_url; never parsed as a Takedown', async () => {
    pool().intercept({ path: '/api/v2/takedown/request', method: 'POST' }).reply(202, { message: 'Domain already detected' }, JSON_HEADERS)
    pool().intercept({ path: startsWith('/api/v2/takedown/list'), method: 'GET' })
      .reply(200, { items: [takedown({ id: 'old' })], total: 1, page: 1, size: 100, pages: 1 }, JSON_HEADERS)
    const prepared = await connector.prepareCreate!(input(), testCtx())
    const out = await connector.submitCreate!(prepared, input(), testCtx())
    expect(out).toMatchObject({ kind: 'exists', message: 'Domain already detected', existing: { providerCaseId: 'old' } })
    expect(calls()[1]?.searchParams).toMatchObject({ attack_url: 'https://login-acme.example.io/secure', page: '1', size: '100' })
  })

  it('social target: validates against the live lists and posts /v2/takedown/social-media with the vendor spelling', async () => {
    pool().intercept({ path: '/api/v2/takedown/social_media/platforms', method: 'GET' }).reply(200, { items: ['Facebook', 'X'] }, JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/social_media/threat_types', method: 'GET' }).reply(200, { items: ['Impersonation', 'Fraud'] }, JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/social-media', method: 'POST' })
      .reply(200, takedown({ id: 's1', platform: 'Facebook', threat_type: 'Impersonation', status_name: 'Pending' }), JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/s1', method: 'GET' })
      .reply(200, takedown({ id: 's1', platform: 'Facebook', threat_type: 'Impersonation', status_name: 'Pending' }), JSON_HEADERS)
    const social = input({ target: { type: 'social', value: 'https://www.facebook.com/acme.fake' }, social: { platform: 'facebook', threatType: 'impersonation' } })
    const prepared = await connector.prepareCreate!(social, testCtx())
    expect(prepared.path).toBe('/v2/takedown/social-media')
    expect(prepared.body).toEqual({
      threat_type: 'Impersonation', platform: 'Facebook', malicious_url: 'https://www.facebook.com/acme.fake', brand_id: 501, comment: 'Credential phishing page cloning our login form'
    })
    const out = await connector.submitCreate!(prepared, social, testCtx())
    expect(out).toMatchObject({ kind: 'created', case: { target: { type: 'social' }, status: 'received' } })
    expect(JSON.parse(String(calls()[2]?.body))).toEqual(prepared.body)
  })

  it('unknown platform / threat type → 400 with field paths and the allowed values', async () => {
    pool().intercept({ path: '/api/v2/takedown/social_media/platforms', method: 'GET' }).reply(200, { items: ['Facebook', 'X'] }, JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/social_media/threat_types', method: 'GET' }).reply(200, { items: ['Impersonation'] }, JSON_HEADERS)
    const err = await rejection(connector.prepareCreate!(input({
      target: { type: 'social', value: 'https://myspace.com/x' }, social: { platform: 'MySpace', threatType: 'Spam' }
    }), testCtx())) as GatewayError
    expect(err.code).toBe('GW_ERR_VALIDATION')
    expect(err.extras.errors?.map(e => e.path)).toEqual(['/social/platform', '/social/threatType'])
    expect(err.extras.errors?.[0]?.message).toContain('Facebook, X')
  })

  it('missing brand id, empty comment, too long URL → one 400 listing every field', async () => {
    const err = await rejection(connector.prepareCreate!(input({
      brand: { id: 'acme', name: 'Acme' }, comment: '  ', target: { type: 'url', value: 'https://a.example/' + 'x'.repeat(2100) }
    }), testCtx())) as GatewayError
    expect(err.code).toBe('GW_ERR_VALIDATION')
    expect(err.extras.errors?.map(e => e.path)).toEqual(['/brand/id', '/comment', '/target/value'])
  })

  it('email / phone / ipv4 targets and the monitor action are unsupported', async () => {
    for (const type of ['email', 'phone', 'ipv4'] as const) {
      const err = await rejection(connector.prepareCreate!(input({ target: { type, value: 'x' } }), testCtx())) as GatewayError
      expect(err.code).toBe('GW_ERR_UNSUPPORTED')
      expect(err.extras.provider).toBe('bforeai')
    }
    const err = await rejection(connector.prepareCreate!(input({ action: 'monitor' }), testCtx())) as GatewayError
    expect(err.code).toBe('GW_ERR_UNSUPPORTED')
    expect(calls()).toHaveLength(0)
  })

  it('findOpenCase lists by attack_url and returns the first non-terminal takedown', async () => {
    pool().intercept({ path: startsWith('/api/v2/takedown/list'), method: 'GET' }).reply(200, {
      items: [takedown({ id: 'done', status_name: 'Taken Down', created: '2026-10-30T00:00:00Z' }), takedown({ id: 'open', status_name: 'Submitted to Host' })],
      total: 2,
      page: 1,
      size: 100,
      pages: 1
    }, JSON_HEADERS)
    const found = await connector.findOpenCase!({ type: 'domain', value: 'evil-acme.net' }, testCtx())
    expect(found?.providerCaseId).toBe('open')
    expect(calls()[0]?.searchParams).toMatchObject({ attack_url: 'https://evil-acme.net' })
    expect(await connector.findOpenCase!({ type: 'email', value: 'a@b.c' }, testCtx())).toBeNull()
  })
})

describe('bforeai client: cancel', () => {
  it('checks the reason, posts {cancel_reason_id, description}, then reads the takedown', async () => {
    pool().intercept({ path: '/api/v2/takedown/cancellation_reasons', method: 'GET' }).reply(200, [{ id: 1, reason: 'False positive', is_active: true }], JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/t1/cancel', method: 'POST' })
      .reply(200, { message: 'ok', takedown_id: 't1', new_status: 'Cancelled', description: 'not ours' }, JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/t1', method: 'GET' })
      .reply(200, takedown({ id: 't1', status_name: 'Cancelled', cancellation_reason: 'False positive' }), JSON_HEADERS)
    const detail = await connector.cancel!('t1', { reasonId: 1, description: 'not ours' }, testCtx())
    expect(detail).toMatchObject({ status: 'cancelled', terminal: true, providerStatus: 'Cancelled' })
    expect(detail.history[0]?.message).toBe('False positive')
    const post = calls()[1]
    expect(post?.method).toBe('POST')
    expect(JSON.parse(String(post?.body))).toEqual({ cancel_reason_id: 1, description: 'not ours' })
  })

  it('an unknown or inactive reason → 400 /reasonId without calling cancel', async () => {
    pool().intercept({ path: '/api/v2/takedown/cancellation_reasons', method: 'GET' })
      .reply(200, [{ id: 1, reason: 'False positive', is_active: true }, { id: 4, reason: 'Duplicate', is_active: false }], JSON_HEADERS)
    const err = await rejection(connector.cancel!('t1', { reasonId: 4, description: null }, testCtx())) as GatewayError
    expect(err.code).toBe('GW_ERR_VALIDATION')
    expect(err.extras.errors?.[0]?.path).toBe('/reasonId')
    expect(calls()).toHaveLength(1)
  })

  it('the vendor refusing the cancel → rejected with its message', async () => {
    pool().intercept({ path: '/api/v2/takedown/cancellation_reasons', method: 'GET' }).reply(200, [{ id: 1, reason: 'False positive', is_active: true }], JSON_HEADERS)
    pool().intercept({ path: '/api/v2/takedown/t1/cancel', method: 'POST' }).reply(400, { detail: 'Takedown cannot be cancelled in its current status' }, JSON_HEADERS)
    const err = await rejection(connector.cancel!('t1', { reasonId: 1, description: null }, testCtx()))
    expect(err).toMatchObject({ kind: 'rejected', message: 'Takedown cannot be cancelled in its current status' })
    expect(JSON.parse(String(calls()[1]?.body))).toEqual({ cancel_reason_id: 1 })
  })
})
