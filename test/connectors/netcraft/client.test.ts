/**
 * The Netcraft connector's exact requests and its reading of Netcraft's quirks, against undici MockAgent: Bearer auth,
 * form-encoded report with trailing-slash paths, the plain-text TD_* answers, id-walk paging with a boundary row,
 * a client-side id filter, and live-capture value spellings.
 */
import { MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { ConnectorError, type CreateCaseInput, type ProviderConnector } from '../../../src/connectors/connector.js'
import { netcraftModule, vendorStatusFilter } from '../../../src/connectors/netcraft/index.js'
import { netcraftTime, toCase } from '../../../src/connectors/netcraft/mapper.js'
import { flag, statusSlug, type Takedown } from '../../../src/connectors/netcraft/wire.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { StatusEngine } from '../../../src/status/engine.js'
import { testCtx } from '../../support/connectors.js'

const ORIGIN = 'https://takedown.netcraft.example'
const KEY = 'netcraft-key-never-in-errors'
const JSON_HEADERS = { 'content-type': 'application/json' }

let agent: MockAgent
let connector: ProviderConnector
const status = new StatusEngine(STATUS_TABLES)
beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
  connector = netcraftModule.create({ baseUrl: `${ORIGIN}/api/v1`, credential: KEY, timeoutMs: 2000, options: { region: 'acme-eu', forceAuth: 'true', attackType: 'phishing_url' } },
    { dispatcher: agent, status, clock: new ManualClock() })
})
afterEach(async () => {
  agent.assertNoPendingInterceptors()
  await agent.close()
})

const pool = () => agent.get(ORIGIN)

/** a record as the live API sends it (trimmed) */
function record (id: string, over: Partial<Record<keyof Takedown, unknown>> = {}): Record<string, unknown> {
  return {
    id,
    group_id: id,
    attack_url: `https://login-${id}.example.net/`,
    reported_url: `https://login-${id}.example.net/`,
    attack_type: 'phishing_url',
    status: 'Verified',
    authgiven: '0',
    authorisation_source: '',
    escalated: '0',
    managed: false,
    false_positive: false,
    date_submitted: '2023-09-19 19:05:21 UTC',
    last_updated: '2023-09-19 19:27:06 UTC',
    date_authed: '',
    first_contact: '',
    region: 'acme-eu',
    target_brand: 'Acme Bank',
    reporter: 'netcraft',
    evidence_url: 'https://incident.netcraft.com/85e57bf4d933/',
    ...over
  }
}

function input (over: Partial<CreateCaseInput> = {}): CreateCaseInput {
  return {
    action: 'takedown',
    target: { type: 'url', value: 'https://login-acme.example.io/secure' },
    brand: { id: null, name: 'Acme Bank' },
    comment: 'credential phishing',
    reportedBy: null,
    clientId: 'INC-42',
    social: null,
    providerOptions: {},
    attachments: [],
    ...over
  }
}

async function failure (p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConnectorError)
  expect(String((err as Error).message)).not.toContain(KEY)
  return err as ConnectorError
}

describe('netcraft report/', () => {
  async function submit (answer: string, reads: Array<Record<string, unknown>> = []): Promise<Awaited<ReturnType<NonNullable<ProviderConnector['submitCreate']>>>> {
    pool().intercept({
      path: '/api/v1/report/',
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'attack=https%3A%2F%2Flogin-acme.example.io%2Fsecure&comment=credential+phishing&type=phishing_url&force_auth=true&brand=Acme+Bank&region=acme-eu&customer_label=INC-42&tags=a%2Cb'
    }).reply(200, answer, { headers: { 'content-type': 'text/plain' } })
    for (const r of reads) pool().intercept({ path: /^\/api\/v1\/attacks\/\?id=\d+&region=acme-eu$/, method: 'GET' }).reply(200, [r], { headers: JSON_HEADERS })
    const req = input({ providerOptions: { tags: ['a', 'b'] } })
    return await connector.submitCreate!(await connector.prepareCreate!(req, testCtx()), req, testCtx())
  }

  it('TD_OK: one form-encoded POST with the Bearer key, then the new takedown read back', async () => {
    const outcome = await submit('TD_OK\n30480489\n', [record('30480489', { status: 'Unverified' })])
    expect(outcome.kind).toBe('created')
    if (outcome.kind === 'created') expect(outcome.case).toMatchObject({ id: 'netcraft:30480489', status: 'received', providerStatus: 'unverified' })
  })

  it('TD_EXISTS: no new case, the existing one named', async () => {
    const outcome = await submit('TD_EXISTS\r\n45492113', [record('45492113', { status: 'Contacted Hosting', authgiven: '1' })])
    expect(outcome).toMatchObject({ kind: 'exists', existing: { id: 'netcraft:45492113', status: 'in_progress' } })
  })

  it('TD_WILDCARD: refused without a case; TD_DENIED is our credential refused; anything else is a rejection with its text', async () => {
    expect(await submit('TD_WILDCARD')).toMatchObject({ kind: 'exists', existing: null })
    expect((await failure(submit('TD_DENIED'))).kind).toBe('auth')
    const err = await failure(submit('TD_ERROR\nthe attack type is not enabled for this region'))
    expect([err.kind, err.message]).toEqual(['rejected', 'Netcraft refused the report: TD_ERROR\nthe attack type is not enabled for this region'])
    expect((await failure(submit('TD_OK'))).kind).toBe('protocol')
  })

  it('monitor reports go in inactive; an evidence file turns the report into multipart', async () => {
    const plan = await connector.prepareCreate!(input({ action: 'monitor' }), testCtx())
    expect(plan.body).toMatchObject({ inactive: 'true' })
    const withFile = await connector.prepareCreate!(input({ attachments: [{ filename: 'shot.png', contentType: 'image/png', data: Buffer.from('png') }] }), testCtx())
    expect(withFile).toMatchObject({ contentType: 'multipart/form-data', files: [{ field: 'evidence', filename: 'shot.png', size: 3 }] })
    const two = input({ attachments: [1, 2].map(i => ({ filename: `${i}.png`, contentType: 'image/png', data: Buffer.from('x') })) })
    await expect(connector.prepareCreate!(two, testCtx())).rejects.toMatchObject({ code: 'GW_ERR_VALIDATION' })
  })
})

describe('netcraft attacks/', () => {
  it('walks by id, newest first: sort=id&dir=desc, two extra rows, and drops the boundary row if id_before includes it', async () => {
    pool().intercept({ path: '/api/v1/attacks/?region=acme-eu&sort=id&dir=desc&max_results=4', method: 'GET' })
      .reply(200, [record('40'), record('39'), record('38'), record('37')], { headers: JSON_HEADERS })
    const first = await connector.listCases({ pageToken: null, pageSize: 2, filters: {} }, testCtx())
    expect([first.items.map(c => c.providerCaseId), first.next]).toEqual([['40', '39'], '39'])
    // a server that treats id_before as inclusive sends the boundary row again
    pool().intercept({ path: '/api/v1/attacks/?region=acme-eu&sort=id&dir=desc&max_results=4&id_before=39', method: 'GET' })
      .reply(200, [record('39'), record('38'), record('37')], { headers: JSON_HEADERS })
    const second = await connector.listCases({ pageToken: first.next, pageSize: 2, filters: {} }, testCtx())
    expect([second.items.map(c => c.providerCaseId), second.next]).toEqual([['38', '37'], null])
  })

  it('sends unified filters as Netcraft slugs and whole-second UTC bounds widened by a second', async () => {
    pool().intercept({
      path: '/api/v1/attacks/?region=acme-eu&date_from=2026-03-01+11%3A59%3A59&date_to=2026-03-02+00%3A00%3A01&statuses=resolved%2Cstale&sort=id&dir=desc&max_results=12',
      method: 'GET'
    }).reply(200, [], { headers: JSON_HEADERS })
    const page = await connector.listCases({ pageToken: null, pageSize: 10, filters: { statuses: ['taken_down', 'closed'], since: '2026-03-01T12:00:00.000Z', until: '2026-03-02T00:00:00.000Z' } }, testCtx())
    expect(page).toEqual({ items: [], next: null })
  })

  it('reads one takedown by id filtering on its side too (the legacy id filter returned every takedown), with its notes', async () => {
    pool().intercept({ path: '/api/v1/attacks/?id=45470682&region=acme-eu', method: 'GET' })
      .reply(200, [record('11111111'), record('45470682', { status: 'Monitoring', authgiven: '1', first_resolved: '2023-09-21 08:00:00 UTC' })], { headers: JSON_HEADERS })
    pool().intercept({ path: '/api/v1/notes/?takedown_id=45470682', method: 'GET' })
      .reply(200, [{ author: 'reporter@socteam.com', group_id: 45470682, note: 'important note', note_id: 1394724283, takedown_id: 45470682, time: '2023-09-21 08:23:56' }], { headers: JSON_HEADERS })
    const detail = await connector.getCase('45470682', { raw: false }, testCtx())
    expect(detail).toMatchObject({ id: 'netcraft:45470682', status: 'mitigated', providerStatus: 'resolved_monitoring', resolvedAt: '2023-09-21T08:00:00.000Z' })
    expect(detail.history.at(-1)).toEqual({ at: '2023-09-21T08:23:56.000Z', status: null, providerStatus: null, message: 'reporter@socteam.com: important note', source: 'provider' })
  })

  it('an id of another shape is not_found without a call; an empty answer is not_found; 401 is auth', async () => {
    expect((await failure(connector.getCase('../escalate/', { raw: false }, testCtx()))).kind).toBe('not_found')
    pool().intercept({ path: '/api/v1/attacks/?id=1&region=acme-eu', method: 'GET' }).reply(200, [], { headers: JSON_HEADERS })
    expect((await failure(connector.getCase('1', { raw: false }, testCtx()))).kind).toBe('not_found')
    pool().intercept({ path: /^\/api\/v1\/attacks\//, method: 'GET' }).reply(401, { error: 'unauthorised' }, { headers: JSON_HEADERS })
    const err = await failure(connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx()))
    expect([err.kind, err.message]).toEqual(['auth', 'unauthorised'])
  })
})

describe('netcraft notes/ and escalate/', () => {
  it('a comment is a form-encoded note; escalate answers TD_OK or is a rejection with Netcraft\'s message', async () => {
    for (let i = 0; i < 3; i++) pool().intercept({ path: '/api/v1/attacks/?id=45470682&region=acme-eu', method: 'GET' }).reply(200, [record('45470682')], { headers: JSON_HEADERS })
    pool().intercept({ path: '/api/v1/notes/', method: 'POST', body: 'takedown_id=45470682&text=see+also+INC-42&notify=false' }).reply(200, { note_id: 1394724284 }, { headers: JSON_HEADERS })
    await connector.addComment!('45470682', 'see also INC-42', testCtx())
    pool().intercept({ path: '/api/v1/escalate/', method: 'POST', body: 'takedown_id=45470682' }).reply(200, { status: 'TD_OK' }, { headers: JSON_HEADERS })
    await connector.performAction!('45470682', 'escalate', testCtx())
    pool().intercept({ path: '/api/v1/escalate/', method: 'POST' }).reply(200, { error_code: 'TD_ERROR', error_message: 'not authorised' }, { headers: JSON_HEADERS })
    const err = await failure(connector.performAction!('45470682', 'escalate', testCtx()))
    expect([err.kind, err.message]).toEqual(['rejected', 'Netcraft did not escalate takedown 45470682: not authorised'])
  })
})

describe('netcraft value spellings', () => {
  it('reads every time, flag and status spelling the live API and its mocks use', () => {
    expect(netcraftTime('2023-09-19 19:05:21 UTC')).toBe('2023-09-19T19:05:21.000Z')
    expect(netcraftTime('2023-09-21 08:23:56')).toBe('2023-09-21T08:23:56.000Z')
    expect(netcraftTime('2023-09-10 14:13:55.120309')).toBe('2023-09-10T14:13:55.120Z')
    expect(['', 'Not revoked', null, undefined].map(v => netcraftTime(v))).toEqual([null, null, null, null])
    expect(['1', 1, true, 'true', 'True', ' 1 '].map(flag)).toEqual([true, true, true, true, true, true])
    expect(['0', 0, false, 'false', '', null].map(flag)).toEqual([false, false, false, false, false, false])
    expect(['Inactive (Monitoring)', 'Monitoring', 'Resolved (Monitoring)', 'Contacted Hosting', 'Brand New'].map(statusSlug))
      .toEqual(['inactive_monitoring', 'resolved_monitoring', 'resolved_monitoring', 'contacted_hosting', 'brand_new'])
  })

  it('maps all ten statuses (verified by authorisation) and keeps an unknown word', () => {
    const cases = Object.entries({
      Unverified: 'received',
      'Inactive (Monitoring)': 'monitoring',
      'Contacted Hosting': 'in_progress',
      'Contacted Police': 'in_progress',
      'Contacted Upstream': 'in_progress',
      Monitoring: 'mitigated',
      Resolved: 'taken_down',
      Stale: 'closed',
      Invalid: 'failed',
      'Brand New': 'unknown'
    })
    for (const [display, unified] of cases) expect(toCase(record('1', { status: display }) as Takedown, status).status, display).toBe(unified)
    expect(toCase(record('1', { status: 'Verified', authgiven: '0' }) as Takedown, status).status).toBe('awaiting_customer')
    expect(toCase(record('1', { status: 'Verified', authgiven: true }) as Takedown, status)).toMatchObject({ status: 'in_progress', terminal: false })
    expect(['Resolved', 'Stale', 'Invalid'].map(s => toCase(record('1', { status: s }) as Takedown, status).terminal)).toEqual([true, true, true])
  })

  it('a STATUS_MAP_FILE entry for a word that is no slug keeps the status filter on the gateway side', () => {
    expect(vendorStatusFilter(['awaiting_customer'], status)).toBe('verified')
    expect(vendorStatusFilter(['taken_down'], new StatusEngine(STATUS_TABLES, { netcraft: { takedown_confirmed: 'taken_down' } }))).toBeUndefined()
    expect(vendorStatusFilter(['taken_down'], new StatusEngine(STATUS_TABLES, { netcraft: { stale: 'taken_down' } }))).toBe('resolved,stale')
  })
})
