import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest'
import { FormData, MockAgent } from 'undici'
import { ManualClock } from '../../../src/clock.js'
import { ConnectorError, type Attachment, type CreateCaseInput, type ProviderConnector } from '../../../src/connectors/connector.js'
import { phishfortModule, vendorStatusFilter } from '../../../src/connectors/phishfort/index.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { GatewayError } from '../../../src/domain/problems.js'
import type { Logger } from '../../../src/logger.js'
import { StatusEngine } from '../../../src/status/engine.js'
import { silentLog, testCtx } from '../../support/connectors.js'

const ORIGIN = 'https://capi.phishfort.com'
const KEY = 'pf-test-key-do-not-log'

const INCIDENT = {
  id: '054zKkjCnR1I3B3U812z',
  clientId: '0Xp5voyA4y5xYNoufOVC',
  safeDomain: 'exampleclient.com',
  subject: 'uniformprivate.cc',
  incidentType: 'domain',
  domain: 'uniformprivate.cc',
  url: 'https://uniformprivate.cc/chevrolet/',
  source: 'PHISHFORT_DETECTED',
  status: 'takedown_success',
  timestamp: '2021-11-08T20:36:43.765Z',
  lastHistoryUpdateTimestamp: '2021-12-06T15:10:01.299Z',
  reportedBy: 'analyst@phishfort.com',
  threatTaxonomy: { name: 'Brand - Website - Impersonation', description: '' },
  incidentClass: 'phishing'
}

const DETAIL = {
  ...INCIDENT,
  burnStartedTimestamp: '2021-12-06T10:34:43.883Z',
  takedownTimestamp: '2021-12-06T15:10:01+00:00',
  incidentState: { unresponsive: true, warningBanner: false, responsive: false, contentRemoved: false, redirect: false, inconclusive: false, timestamp: '2021-12-21T15:21:02.324Z' },
  registrar: { name: 'Example Registrar Inc.', difficulty: 'Medium' },
  hostingProvider: 'Example Hosting',
  history: [
    { message: 'Takedown complete', timestamp: '2021-12-06T15:10:01.299Z', type: 'info' },
    { message: 'Reported', timestamp: '2021-11-08T20:36:43.765Z', type: 'info/auto' },
    { message: 'Takedown started', timestamp: '2021-12-06T10:34:43.883Z', type: 'info' }
  ]
}

const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

let agent: MockAgent
let connector: ProviderConnector
let unknown: Array<string | null>

beforeEach(() => {
  agent = new MockAgent({ enableCallHistory: true })
  agent.disableNetConnect()
  unknown = []
  const status = new StatusEngine(STATUS_TABLES, {}, (_p, s) => { unknown.push(s) })
  const deps = { dispatcher: agent, status, clock: new ManualClock() }
  connector = phishfortModule.create({ baseUrl: ORIGIN, credential: KEY, timeoutMs: 2000, options: { dashboardUrl: 'https://dash.example/incidents/{id}' } }, deps)
})

afterEach(async () => {
  agent.assertNoPendingInterceptors()
  await agent.close()
})

function pool () { return agent.get(ORIGIN) }
function calls () { return agent.getCallHistory()?.calls() ?? [] }
function lastCall () {
  const call = agent.getCallHistory()?.lastCall()
  if (call === undefined) throw new Error('no call recorded')
  return call
}
function header (call: { headers: Record<string, string | string[]> | null | undefined }, name: string): string | undefined {
  const h = call.headers ?? {}
  const v = Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1]
  return Array.isArray(v) ? v[0] : v
}
async function failure (p: Promise<unknown>): Promise<ConnectorError> {
  try { await p } catch (err) { if (err instanceof ConnectorError) return err; throw err }
  throw new Error('expected a ConnectorError')
}
async function gatewayFailure (p: Promise<unknown>): Promise<GatewayError> {
  try { await p } catch (err) { if (err instanceof GatewayError) return err; throw err }
  throw new Error('expected a GatewayError')
}
function input (over: Partial<CreateCaseInput> = {}): CreateCaseInput {
  return {
    action: 'takedown',
    target: { type: 'url', value: 'https://somethingbad.com/login' },
    brand: { id: null, name: null },
    comment: null,
    reportedBy: 'john.doe@company.com',
    clientId: null,
    social: null,
    providerOptions: {},
    attachments: [],
    ...over
  }
}
function file (name: string, contentType: string, size = 10): Attachment {
  return { filename: name, contentType, data: Buffer.alloc(size, 1) }
}

describe('listCases → GET /v1/incidents', () => {
  it('sends limit, cursor, one status and widened dates with the api key, and maps one page', async () => {
    pool().intercept({ path: p => p.startsWith('/v1/incidents'), method: 'GET' })
      .reply(200, { data: [INCIDENT], paging: { cursor: INCIDENT.id, next: 'NEXT123', limit: 25 } }, JSON_HEADERS)
    const page = await connector.listCases({
      pageToken: 'CUR456',
      pageSize: 25,
      filters: { statuses: ['taken_down'], since: '2021-11-01T00:00:00.000Z', until: '2021-12-01T00:00:00Z' }
    }, testCtx())
    const call = lastCall()
    expect(call.method).toBe('GET')
    expect(call.path).toBe('/v1/incidents')
    expect(call.searchParams).toEqual({
      limit: '25', cursor: 'CUR456', status: 'takedown_success', fromDate: '2021-10-31T23:59:59.000Z', toDate: '2021-12-01T00:00:01.000Z'
    })
    expect(header(call, 'x-api-key')).toBe(KEY)
    expect(header(call, 'accept')).toBe('application/json')
    expect(page.next).toBe('NEXT123')
    expect(page.items).toEqual([{
      id: 'phishfort:054zKkjCnR1I3B3U812z',
      provider: 'phishfort',
      providerCaseId: '054zKkjCnR1I3B3U812z',
      target: expect.objectContaining({ type: 'url', value: 'https://uniformprivate.cc/chevrolet/', domain: 'uniformprivate.cc', host: 'uniformprivate.cc' }),
      status: 'taken_down',
      terminal: true,
      providerStatus: 'takedown_success',
      brand: { id: null, name: 'exampleclient.com' },
      threat: { class: 'phishing', name: 'Brand - Website - Impersonation', platform: null },
      reportedBy: 'analyst@phishfort.com',
      createdAt: '2021-11-08T20:36:43.765Z',
      updatedAt: '2021-12-06T15:10:01.299Z',
      links: { self: '/v1/cases/phishfort:054zKkjCnR1I3B3U812z', provider: 'https://dash.example/incidents/054zKkjCnR1I3B3U812z' }
    }])
  })

  it('first page sends only limit (capped at 5000); no status when the filter maps to several vendor statuses', async () => {
    pool().intercept({ path: p => p.startsWith('/v1/incidents'), method: 'GET' }).reply(200, { data: [] }, JSON_HEADERS)
    const page = await connector.listCases({ pageToken: null, pageSize: 9000, filters: { statuses: ['in_progress'] } }, testCtx())
    expect(lastCall().searchParams).toEqual({ limit: '5000' })
    expect(page).toEqual({ items: [], next: null })
  })

  it('maps every target shape and falls back to statusVerbose', async () => {
    const base = { safeDomain: 'exampleclient.com', source: 'X', timestamp: '2026-01-01T00:00:00Z', incidentClass: 'n/a' }
    pool().intercept({ path: p => p.startsWith('/v1/incidents'), method: 'GET' }).reply(200, {
      data: [
        { ...base, id: 'a', incidentType: 'email', subject: 'bad@evil.example', status: 'pending_review' },
        { ...base, id: 'b', incidentType: 'phone', subject: '+14155550100', statusVerbose: 'Takedown Failed' },
        { ...base, id: 'c', incidentType: 'ipv4', subject: '192.0.2.7', statusVerbose: 'Pending Review' },
        { ...base, id: 'd', incidentType: 'social', subject: 'https://x.com/fake', url: 'https://x.com/fake', status: 'blocklisted' },
        { ...base, id: 'e', incidentType: 'domain', subject: 'evil.example', domain: 'evil.example', status: 'closed' },
        { ...base, id: 'f', incidentType: 'domain', subject: 'evil.example', url: 'https://evil.example/x', status: 'brand_new_status' }
      ],
      paging: { cursor: 'f', next: null, limit: 10 }
    }, JSON_HEADERS)
    const page = await connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())
    expect(page.items.map(c => [c.target, c.providerStatus, c.status])).toMatchObject([
      [{ type: 'email', value: 'bad@evil.example', domain: null }, 'pending_review', 'received'],
      [{ type: 'phone', value: '+14155550100', domain: null }, 'takedown_failed', 'failed'],
      [{ type: 'ipv4', value: '192.0.2.7', domain: null }, 'pending_review', 'received'],
      [{ type: 'social', value: 'https://x.com/fake', domain: 'x.com' }, 'blocklisted', 'mitigated'],
      [{ type: 'domain', value: 'evil.example', domain: 'evil.example' }, 'closed', 'closed'],
      [{ type: 'url', value: 'https://evil.example/x', domain: 'evil.example' }, 'brand_new_status', 'unknown']
    ])
    expect(page.items[0]?.threat).toEqual({ class: 'n/a', name: null, platform: null })
    expect(page.items[0]?.updatedAt).toBeNull()
    expect(page.items[0]?.reportedBy).toBeNull()
    expect(unknown).toEqual(['brand_new_status'])
    expect(page.next).toBeNull()
  })

  it('warns once and sorts a page that is not newest first', async () => {
    const older = { ...INCIDENT, id: 'old', timestamp: '2021-01-01T00:00:00Z' }
    const newer = { ...INCIDENT, id: 'new', timestamp: '2022-01-01T00:00:00Z' }
    const newest = { ...INCIDENT, id: 'newest', timestamp: '2023-01-01T00:00:00Z' }
    pool().intercept({ path: p => p.startsWith('/v1/incidents'), method: 'GET' }).reply(200, { data: [older, newer, newest] }, JSON_HEADERS)
    const warn = vi.fn()
    const log = Object.assign(Object.create(silentLog) as Logger, { warn })
    const page = await connector.listCases({ pageToken: null, pageSize: 3, filters: {} }, { ...testCtx(), log })
    expect(page.items.map(c => c.providerCaseId)).toEqual(['newest', 'new', 'old'])
    expect(warn).toHaveBeenCalledTimes(1)
  })
})

describe('getCase → GET /v1/incident/{id}', () => {
  it('unwraps data and maps the detail fields, history oldest first', async () => {
    pool().intercept({ path: '/v1/incident/054zKkjCnR1I3B3U812z', method: 'GET' }).reply(200, { data: DETAIL }, JSON_HEADERS)
    const detail = await connector.getCase('054zKkjCnR1I3B3U812z', { raw: true }, testCtx())
    expect(detail.history).toEqual([
      { at: '2021-11-08T20:36:43.765Z', status: null, providerStatus: null, message: 'Reported', source: 'provider' },
      { at: '2021-12-06T10:34:43.883Z', status: null, providerStatus: null, message: 'Takedown started', source: 'provider' },
      { at: '2021-12-06T15:10:01.299Z', status: null, providerStatus: null, message: 'Takedown complete', source: 'provider' }
    ])
    expect(detail.state).toEqual(DETAIL.incidentState)
    expect(detail.registrar).toEqual({ name: 'Example Registrar Inc.', difficulty: 'Medium', description: null })
    expect(detail.hostingProvider).toBe('Example Hosting')
    expect(detail.takedownStartedAt).toBe('2021-12-06T10:34:43.883Z')
    expect(detail.resolvedAt).toBe('2021-12-06T15:10:01.000Z')
    expect(detail.raw).toEqual(DETAIL)
    expect(header(lastCall(), 'x-api-key')).toBe(KEY)
  })

  it('accepts a bare incident body, percent-encodes the id and leaves raw out unless asked', async () => {
    pool().intercept({ path: '/v1/incident/a%2Fb', method: 'GET' }).reply(200, { ...INCIDENT, id: 'a/b' }, JSON_HEADERS)
    const detail = await connector.getCase('a/b', { raw: false }, testCtx())
    expect(detail.providerCaseId).toBe('a/b')
    expect(detail.id).toBe('phishfort:a%2Fb')
    expect(detail.history).toEqual([])
    expect(detail.state).toBeNull()
    expect(detail.registrar).toBeNull()
    expect(detail.hostingProvider).toBeNull()
    expect('raw' in detail).toBe(false)
  })
})

describe('vendor errors → ConnectorError', () => {
  it('401 → auth, without the key in the message', async () => {
    pool().intercept({ path: '/v1/incident/x', method: 'GET' }).reply(401, { statusCode: 401, error: 'Unauthorized', message: 'Invalid API key' }, JSON_HEADERS)
    const err = await failure(connector.getCase('x', { raw: false }, testCtx()))
    expect([err.kind, err.upstreamStatus, err.message]).toEqual(['auth', 401, 'Invalid API key'])
    expect(err.message).not.toContain(KEY)
  })

  it('404 → not_found', async () => {
    pool().intercept({ path: '/v1/incident/x', method: 'GET' }).reply(404, { statusCode: 404, error: 'Not Found', message: 'Incident not found' }, JSON_HEADERS)
    const err = await failure(connector.getCase('x', { raw: false }, testCtx()))
    expect([err.kind, err.message]).toEqual(['not_found', 'Incident not found'])
  })

  it('400 and 422 → rejected with the vendor message; a text body is used as is', async () => {
    pool().intercept({ path: '/v1/incident/x', method: 'GET' }).reply(400, { statusCode: 400, error: 'Bad Request', message: '"limit" must be a number' }, JSON_HEADERS)
    pool().intercept({ path: '/v1/incident/y', method: 'GET' }).reply(422, 'cannot process this incident', { headers: { 'content-type': 'text/plain' } })
    pool().intercept({ path: '/v1/incident/z', method: 'GET' }).reply(400, { statusCode: 400, error: 'Bad Request' }, JSON_HEADERS)
    expect(await failure(connector.getCase('x', { raw: false }, testCtx()))).toMatchObject({ kind: 'rejected', message: '"limit" must be a number' })
    expect(await failure(connector.getCase('y', { raw: false }, testCtx()))).toMatchObject({ kind: 'rejected', message: 'cannot process this incident', upstreamStatus: 422 })
    expect(await failure(connector.getCase('z', { raw: false }, testCtx()))).toMatchObject({ kind: 'rejected', message: 'Bad Request' })
  })

  it('429 with Retry-After → rate_limited with retryAfter', async () => {
    pool().intercept({ path: '/v1/incident/x', method: 'GET' })
      .reply(429, { statusCode: 429, error: 'Too Many Requests', message: 'Rate limit exceeded' }, { headers: { 'content-type': 'application/json', 'retry-after': '30' } })
    const err = await failure(connector.getCase('x', { raw: false }, testCtx()))
    expect([err.kind, err.retryAfter, err.upstreamStatus]).toEqual(['rate_limited', 30, 429])
  })

  it('500 → unavailable after the read retries', async () => {
    pool().intercept({ path: '/v1/incident/x', method: 'GET' })
      .reply(500, { statusCode: 500, error: 'Internal Server Error', message: 'An internal server error occurred' }, JSON_HEADERS).times(3)
    const err = await failure(connector.getCase('x', { raw: false }, testCtx()))
    expect([err.kind, err.upstreamStatus]).toEqual(['unavailable', 500])
    expect(calls()).toHaveLength(3)
  })

  it('malformed JSON or a wrong shape on 200 → protocol', async () => {
    pool().intercept({ path: '/v1/incident/x', method: 'GET' }).reply(200, '{"data": {"id": "tru', JSON_HEADERS)
    pool().intercept({ path: p => p.startsWith('/v1/incidents'), method: 'GET' }).reply(200, { items: [] }, JSON_HEADERS)
    expect((await failure(connector.getCase('x', { raw: false }, testCtx()))).kind).toBe('protocol')
    expect((await failure(connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx()))).kind).toBe('protocol')
  })
})

describe('listReference', () => {
  it('lists the 11 statuses and the 2 legacy labels with their unified status; other kinds are null', async () => {
    const items = await connector.listReference('statuses', testCtx())
    expect(items).toHaveLength(13)
    expect(items?.slice(11).map(i => [i.id, i.unifiedStatus])).toEqual([['takedown_failed', 'failed'], ['takedown_pending', 'in_progress']])
    expect(items?.find(i => i.id === 'blocklisted')).toEqual({
      provider: 'phishfort',
      kind: 'statuses',
      id: 'blocklisted',
      name: 'blocklisted',
      description: 'Incident has been blocklisted (no takedown performed).',
      unifiedStatus: 'mitigated',
      terminal: false
    })
    expect(items?.filter(i => i.terminal).map(i => i.id).sort()).toEqual(['closed', 'takedown_attempt_failed', 'takedown_failed', 'takedown_success'])
    expect(await connector.listReference('platforms', testCtx())).toBeNull()
    expect(await connector.listReference('cancellation-reasons', testCtx())).toBeNull()
    expect(calls()).toHaveLength(0)
  })
})

describe('create', () => {
  it('url takedown: JSON {url, reportedBy, comment} once, then reads the incident back', async () => {
    pool().intercept({ path: '/v1/incident/tkd', method: 'POST' })
      .reply(201, { message: 'Incident reported', id: 'NEW1', url: 'https://dash.example/incidents/NEW1' }, JSON_HEADERS)
    pool().intercept({ path: '/v1/incident/NEW1', method: 'GET' })
      .reply(200, { data: { ...INCIDENT, id: 'NEW1', status: 'pending_review', url: 'https://somethingbad.com/login', domain: 'somethingbad.com' } }, JSON_HEADERS)
    const req = input({ comment: 'cloned login page', clientId: 'sub-1' })
    const prepared = await connector.prepareCreate!(req, testCtx())
    expect(prepared).toEqual({
      method: 'POST',
      path: '/v1/incident/tkd',
      contentType: 'application/json',
      body: { url: 'https://somethingbad.com/login', reportedBy: 'john.doe@company.com', clientId: 'sub-1', comment: 'cloned login page' },
      files: []
    })
    const outcome = await connector.submitCreate!(prepared, req, testCtx())
    const post = calls()[0]
    expect(post?.method).toBe('POST')
    expect(JSON.parse(String(post?.body))).toEqual(prepared.body)
    expect(header(post!, 'content-type')).toBe('application/json')
    expect(header(post!, 'x-api-key')).toBe(KEY)
    expect(outcome.kind).toBe('created')
    if (outcome.kind !== 'created') return
    expect(outcome.case).toMatchObject({
      id: 'phishfort:NEW1',
      status: 'received',
      providerStatus: 'pending_review',
      target: { type: 'url', value: 'https://somethingbad.com/login', domain: 'somethingbad.com' },
      links: { self: '/v1/cases/phishfort:NEW1', provider: 'https://dash.example/incidents/NEW1' }
    })
  })

  it('email/phone/ipv4 send {incidentType, subject}; url, domain and social never send incidentType', async () => {
    const ctx = testCtx()
    expect((await connector.prepareCreate!(input({ action: 'monitor', target: { type: 'ipv4', value: '192.168.1.1' }, reportedBy: null }), ctx)))
      .toMatchObject({ path: '/v1/incident/monitor', body: { incidentType: 'ipv4', subject: '192.168.1.1' } })
    expect((await connector.prepareCreate!(input({ target: { type: 'phone', value: '+14155550100' } }), ctx)).body)
      .toEqual({ incidentType: 'phone', subject: '+14155550100', reportedBy: 'john.doe@company.com' })
    expect((await connector.prepareCreate!(input({ target: { type: 'email', value: 'x@evil.example' } }), ctx)).body)
      .toMatchObject({ incidentType: 'email', subject: 'x@evil.example' })
    for (const target of [{ type: 'domain', value: 'evil.example' }, { type: 'social', value: 'https://x.com/fake' }] as const) {
      const body = (await connector.prepareCreate!(input({ target }), ctx)).body
      expect(body).toEqual({ url: target.value, reportedBy: 'john.doe@company.com' })
    }
  })

  it('rejects a phone number that is not E.164 with a field path, before any network', async () => {
    const err = await gatewayFailure(connector.prepareCreate!(input({ target: { type: 'phone', value: '415-555-0100' } }), testCtx()))
    expect(err.code).toBe('GW_ERR_VALIDATION')
    expect(err.extras.errors?.[0]?.path).toBe('/target/value')
  })

  it('validates attachments: count and size → 413, type → 400 with the index', async () => {
    const ctx = testCtx()
    const many = Array.from({ length: 13 }, (_, i) => file(`f${i}.png`, 'image/png'))
    expect((await gatewayFailure(connector.prepareCreate!(input({ attachments: many }), ctx))).code).toBe('GW_ERR_PAYLOAD_TOO_LARGE')
    const big = [file('a.pdf', 'application/pdf', 6_000_000), file('b.pdf', 'application/pdf', 4_500_000)]
    expect((await gatewayFailure(connector.prepareCreate!(input({ attachments: big }), ctx))).code).toBe('GW_ERR_PAYLOAD_TOO_LARGE')
    const badType = await gatewayFailure(connector.prepareCreate!(input({ attachments: [file('a.png', 'image/png'), file('x.exe', 'application/x-msdownload')] }), ctx))
    expect(badType.code).toBe('GW_ERR_VALIDATION')
    expect(badType.extras.errors).toEqual([{ path: '/attachments/1', message: expect.stringContaining('application/x-msdownload') }])
  })

  it('with attachments: multipart with text fields and repeated attachments parts; id read from data.id', async () => {
    pool().intercept({ path: '/v1/incident/tkd', method: 'POST' }).reply(200, { message: 'success', data: { id: 'NEW2' } }, JSON_HEADERS)
    pool().intercept({ path: '/v1/incident/NEW2', method: 'GET' }).reply(200, { data: { ...INCIDENT, id: 'NEW2', status: 'pending_review' } }, JSON_HEADERS)
    const req = input({ attachments: [file('evidence.pdf', 'application/pdf', 20), file('shot.png', 'image/png', 30)] })
    const prepared = await connector.prepareCreate!(req, testCtx())
    expect(prepared.contentType).toBe('multipart/form-data')
    expect(prepared.files).toEqual([
      { field: 'attachments', filename: 'evidence.pdf', contentType: 'application/pdf', size: 20 },
      { field: 'attachments', filename: 'shot.png', contentType: 'image/png', size: 30 }
    ])
    const outcome = await connector.submitCreate!(prepared, req, testCtx())
    expect(outcome.kind === 'created' && outcome.case.providerCaseId).toBe('NEW2')
    const body = calls()[0]?.body as unknown
    expect(body).toBeInstanceOf(FormData)
    const form = body as FormData
    expect(form.get('url')).toBe('https://somethingbad.com/login')
    expect(form.get('reportedBy')).toBe('john.doe@company.com')
    expect(form.has('incidentType')).toBe(false)
    const parts = form.getAll('attachments') as File[]
    expect(parts.map(p => [p.name, p.type, p.size])).toEqual([['evidence.pdf', 'application/pdf', 20], ['shot.png', 'image/png', 30]])
  })

  it('is sent once: a vendor 400 is not retried and surfaces as rejected with the vendor message', async () => {
    const message = "When using the 'subject' field, incidentType must be one of: email, phone, ipv4"
    pool().intercept({ path: '/v1/incident/tkd', method: 'POST' }).reply(400, { statusCode: 400, error: 'Bad Request', message }, JSON_HEADERS)
    const req = input()
    const err = await failure(connector.submitCreate!(await connector.prepareCreate!(req, testCtx()), req, testCtx()))
    expect([err.kind, err.message]).toEqual(['rejected', message])
    expect(calls()).toHaveLength(1)
  })

  it('a 503 on the create is not retried', async () => {
    pool().intercept({ path: '/v1/incident/tkd', method: 'POST' }).reply(503, { statusCode: 503, error: 'Service Unavailable', message: 'down' }, JSON_HEADERS)
    const req = input()
    expect((await failure(connector.submitCreate!(await connector.prepareCreate!(req, testCtx()), req, testCtx()))).kind).toBe('unavailable')
    expect(calls()).toHaveLength(1)
  })

  it('when the read-back fails, answers a Case built from what is known (status unknown)', async () => {
    pool().intercept({ path: '/v1/incident/tkd', method: 'POST' }).reply(200, { message: 'ok', id: 'NEW3', url: 'https://dash.example/NEW3' }, JSON_HEADERS)
    pool().intercept({ path: '/v1/incident/NEW3', method: 'GET' }).reply(404, { statusCode: 404, error: 'Not Found', message: 'Incident not found' }, JSON_HEADERS)
    const req = input({ target: { type: 'email', value: 'x@evil.example' } })
    const outcome = await connector.submitCreate!(await connector.prepareCreate!(req, testCtx()), req, testCtx())
    expect(outcome).toEqual({
      kind: 'created',
      case: expect.objectContaining({
        id: 'phishfort:NEW3',
        status: 'unknown',
        terminal: false,
        providerStatus: null,
        target: expect.objectContaining({ type: 'email', value: 'x@evil.example', domain: null, host: null }),
        reportedBy: 'john.doe@company.com',
        brand: { id: null, name: null },
        createdAt: '2026-11-01T00:00:00.000Z',
        links: { self: '/v1/cases/phishfort:NEW3', provider: 'https://dash.example/incidents/NEW3' }
      })
    })
  })

  it('an answer without an id → protocol', async () => {
    pool().intercept({ path: '/v1/incident/monitor', method: 'POST' }).reply(200, { message: 'ok' }, JSON_HEADERS)
    const req = input({ action: 'monitor' })
    expect((await failure(connector.submitCreate!(await connector.prepareCreate!(req, testCtx()), req, testCtx()))).kind).toBe('protocol')
  })
})

describe('findOpenCase → GET /v1/incident/subject/{subject}', () => {
  it('fully percent-encodes the subject and returns an open incident', async () => {
    pool().intercept({ path: '/v1/incident/subject/https%3A%2F%2Fevil.example%2Fa', method: 'GET' })
      .reply(200, { data: { ...INCIDENT, id: 'OPEN', status: 'case_building' } }, JSON_HEADERS)
    const found = await connector.findOpenCase!({ type: 'url', value: 'https://evil.example/a' }, testCtx())
    expect(found?.providerCaseId).toBe('OPEN')
    expect(found?.status).toBe('in_review')
  })

  it('404 → null; a terminal incident → null', async () => {
    pool().intercept({ path: '/v1/incident/subject/evil.example', method: 'GET' }).reply(404, { statusCode: 404, error: 'Not Found', message: 'Incident not found' }, JSON_HEADERS)
    pool().intercept({ path: '/v1/incident/subject/done.example', method: 'GET' }).reply(200, { data: { ...INCIDENT, status: 'takedown_success' } }, JSON_HEADERS)
    expect(await connector.findOpenCase!({ type: 'domain', value: 'evil.example' }, testCtx())).toBeNull()
    expect(await connector.findOpenCase!({ type: 'domain', value: 'done.example' }, testCtx())).toBeNull()
  })
})

describe('actions, comments, attachments', () => {
  it.each([
    ['takedown', 'tkd'],
    ['monitor', 'monitor'],
    ['mark-safe', 'safe']
  ] as const)('performAction %s → POST /v1/incident/{id}/%s with no body', async (action, segment) => {
    pool().intercept({ path: `/v1/incident/ID1/${segment}`, method: 'POST' })
      .reply(200, { message: 'You issued a review request', id: 'ID1' }, JSON_HEADERS)
    await connector.performAction!('ID1', action, testCtx())
    const call = lastCall()
    expect([call.method, call.path]).toEqual(['POST', `/v1/incident/ID1/${segment}`])
    expect(call.body ?? null).toBeNull()
    expect(header(call, 'x-api-key')).toBe(KEY)
  })

  it('an action on an unknown incident → not_found', async () => {
    pool().intercept({ path: '/v1/incident/NOPE/tkd', method: 'POST' }).reply(404, { statusCode: 404, error: 'Not Found', message: 'Incident not found' }, JSON_HEADERS)
    expect((await failure(connector.performAction!('NOPE', 'takedown', testCtx()))).kind).toBe('not_found')
  })

  it('addComment → POST /v1/incident/{id}/comment {comment}; an empty comment fails before the network', async () => {
    pool().intercept({ path: '/v1/incident/ID1/comment', method: 'POST' }).reply(200, { message: 'ok' }, JSON_HEADERS)
    await connector.addComment!('ID1', 'please hurry', testCtx())
    expect(JSON.parse(String(lastCall().body))).toEqual({ comment: 'please hurry' })
    const err = await gatewayFailure(connector.addComment!('ID1', '   ', testCtx()))
    expect(err.extras.errors?.[0]?.path).toBe('/comment')
    expect(calls()).toHaveLength(1)
  })

  it('addAttachments → multipart POST /v1/incident/{id}/attach with repeated attachments parts', async () => {
    pool().intercept({ path: '/v1/incident/ID1/attach', method: 'POST' }).reply(200, { message: 'ok' }, JSON_HEADERS)
    await connector.addAttachments!('ID1', [file('a.eml', 'message/rfc822', 5), file('b.csv', 'text/csv; charset=utf-8', 6)], testCtx())
    const form = lastCall().body as unknown as FormData
    expect((form.getAll('attachments') as File[]).map(f => f.name)).toEqual(['a.eml', 'b.csv'])
    const tooMany = Array.from({ length: 13 }, (_, i) => file(`f${i}.txt`, 'text/plain'))
    expect((await gatewayFailure(connector.addAttachments!('ID1', tooMany, testCtx()))).code).toBe('GW_ERR_PAYLOAD_TOO_LARGE')
    expect(calls()).toHaveLength(1)
  })
})

describe('capabilities', () => {
  it('declares what PhishFort can do and has no cancel/appeal', () => {
    expect(connector.capabilities).toEqual({
      create: { takedown: ['url', 'domain', 'email', 'phone', 'ipv4', 'social'], monitor: ['url', 'domain', 'email', 'phone', 'ipv4', 'social'] },
      cancel: false,
      attachments: true,
      comments: true,
      appeal: false,
      actions: ['takedown', 'monitor', 'mark-safe'],
      detections: false,
      reference: ['statuses']
    })
    expect(connector.cancel).toBeUndefined()
    expect(connector.appeal).toBeUndefined()
  })
})

describe('vendorStatusFilter', () => {
  it('sends a status only when the unified filter maps back to exactly one PhishFort status, overrides included', () => {
    const plain = new StatusEngine(STATUS_TABLES)
    expect(vendorStatusFilter(['taken_down'], plain)).toBe('takedown_success')
    expect(vendorStatusFilter(['failed'], plain)).toBe('takedown_attempt_failed')
    expect(vendorStatusFilter(['received', 'monitoring'], plain)).toBeUndefined()
    expect(vendorStatusFilter(['awaiting_customer'], plain)).toBeUndefined()
    expect(vendorStatusFilter(['unknown'], plain)).toBeUndefined()
    expect(vendorStatusFilter(['cancelled'], plain)).toBeUndefined()
    expect(vendorStatusFilter([], plain)).toBeUndefined()
    expect(vendorStatusFilter(undefined, plain)).toBeUndefined()
    // another vendor name mapped into the wanted set by STATUS_MAP_FILE: a vendor-side filter would drop it
    expect(vendorStatusFilter(['taken_down'], new StatusEngine(STATUS_TABLES, { phishfort: { takedown_escalated: 'taken_down' } }))).toBeUndefined()
    // an override spelling of the same status does not count as another status
    expect(vendorStatusFilter(['taken_down'], new StatusEngine(STATUS_TABLES, { phishfort: { 'Takedown Success': 'taken_down' } }))).toBe('takedown_success')
    // an override moving a status into the set makes two
    expect(vendorStatusFilter(['taken_down'], new StatusEngine(STATUS_TABLES, { phishfort: { blocklisted: 'taken_down' } }))).toBeUndefined()
  })
})
