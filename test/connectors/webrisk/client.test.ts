/**
 * The Web Risk connector's exact requests against undici MockAgent: the JWT-bearer exchange at the key file's
 * token_uri (or WEBRISK_TOKEN_URL) with an RS256 assertion that verifies against the key's public half, the token kept
 * and refreshed once on a 401, the `uris:submit` body, the operation read with its name kept verbatim, and Google's
 * error envelope mapped to the gateway's kinds. The key pair is generated here.
 */
import { createVerify, generateKeyPairSync } from 'node:crypto'
import { MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { ConnectorError, type CreateCaseInput, type ProviderConnector } from '../../../src/connectors/connector.js'
import { webriskModule } from '../../../src/connectors/webrisk/index.js'
import { nextPollAt } from '../../../src/connectors/webrisk/record.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { StatusEngine } from '../../../src/status/engine.js'
import { MemoryKvStore } from '../../../src/store/memory-kv-store.js'
import { testCtx } from '../../support/connectors.js'

const API = 'https://webrisk.googleapis.example'
const TOKEN_ORIGIN = 'https://oauth2.example.test'
const JSON_HEADERS = { 'content-type': 'application/json; charset=UTF-8' }
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const KEY_FILE = JSON.stringify({
  type: 'service_account',
  project_id: 'acme-webrisk',
  private_key_id: 'kid-0123',
  private_key: PEM,
  client_email: 'gateway@acme-webrisk.iam.gserviceaccount.com',
  token_uri: `${TOKEN_ORIGIN}/token`
})
const OP = 'projects/508138417679/operations/11895063640312853845'

let agent: MockAgent
let clock: ManualClock
let store: MemoryKvStore
let connector: ProviderConnector
const status = new StatusEngine(STATUS_TABLES)

function make (options: Record<string, string> = {}, credential = KEY_FILE): ProviderConnector {
  return webriskModule.create({ baseUrl: API, credential, timeoutMs: 2000, options: { project: 'acme-webrisk', ...options } },
    { dispatcher: agent, status, clock, store })
}

beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
  clock = new ManualClock()
  store = new MemoryKvStore(clock)
  connector = make()
})
afterEach(async () => {
  agent.assertNoPendingInterceptors()
  await agent.close()
})

const api = () => agent.get(API)

/** answers token requests, keeping each form it received */
function tokenEndpoint (forms: URLSearchParams[], tokens: string[], origin = TOKEN_ORIGIN, path = '/token'): void {
  for (const token of tokens) {
    agent.get(origin).intercept({ method: 'POST', path }).reply(200, (opts) => {
      forms.push(new URLSearchParams(String(opts.body)))
      return { access_token: token, expires_in: 3599, token_type: 'Bearer' }
    }, { headers: JSON_HEADERS })
  }
}

function input (value: string, over: Partial<CreateCaseInput> = {}): CreateCaseInput {
  return { action: 'takedown', target: { type: 'url', value }, brand: { id: null, name: null }, comment: 'clone of our login page', reportedBy: null, clientId: null, social: null, providerOptions: {}, attachments: [], ...over }
}

async function failure (p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConnectorError)
  return err as ConnectorError
}

async function submit (value: string, over: Partial<CreateCaseInput> = {}) {
  const i = input(value, over)
  return await connector.submitCreate!(await connector.prepareCreate!(i, testCtx()), i, testCtx())
}

describe('authentication', () => {
  it('signs an RS256 assertion for the key file\'s service account and exchanges it at the key file\'s token_uri', async () => {
    const forms: URLSearchParams[] = []
    tokenEndpoint(forms, ['ya29.first'])
    let seenAuth = ''
    api().intercept({ method: 'GET', path: `/v1/${OP}` }).reply(200, (opts) => {
      seenAuth = String((opts.headers as Record<string, string>).authorization)
      return { name: OP, metadata: { state: 'RUNNING', createTime: '2026-10-31T23:00:00.123456789Z' }, done: false }
    }, { headers: JSON_HEADERS })
    await connector.getCase('508138417679.11895063640312853845', { raw: false }, testCtx())
    expect(seenAuth).toBe('Bearer ya29.first')
    const form = forms[0]!
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer')
    const [h, c, s] = form.get('assertion')!.split('.') as [string, string, string]
    expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s, 'base64url'))).toBe(true)
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-0123' })
    const now = clock.now() / 1000
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      iss: 'gateway@acme-webrisk.iam.gserviceaccount.com',
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      aud: `${TOKEN_ORIGIN}/token`,
      iat: now,
      exp: now + 3600
    })
  })

  it('keeps the token until 5 minutes before it expires, and refreshes it once when the API answers 401', async () => {
    const forms: URLSearchParams[] = []
    tokenEndpoint(forms, ['tok-1', 'tok-2', 'tok-3'])
    const auths: string[] = []
    const running = { name: OP, metadata: { state: 'RUNNING', createTime: '2026-10-31T23:00:00Z' } }
    const read = (code = 200, body: unknown = running) => api().intercept({ method: 'GET', path: `/v1/${OP}` }).reply(code, (opts) => {
      auths.push(String((opts.headers as Record<string, string>).authorization))
      return body
    }, { headers: JSON_HEADERS })
    read(); read()
    await connector.getCase('508138417679.11895063640312853845', { raw: false }, testCtx())
    clock.advance(3599_000 - 5 * 60_000 - 1)
    await connector.getCase('508138417679.11895063640312853845', { raw: false }, testCtx())
    expect(forms).toHaveLength(1)
    // past refresh time: a new token
    clock.advance(2)
    read(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } })
    read()
    await connector.getCase('508138417679.11895063640312853845', { raw: false }, testCtx())
    expect(forms).toHaveLength(3)
    expect(auths).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2', 'Bearer tok-3'])
  })

  it('WEBRISK_TOKEN_URL replaces token_uri (a path is taken on the API origin); a refused grant is an auth failure naming no secret', async () => {
    connector = make({ tokenUrl: '/oauth/token' })
    agent.get(API).intercept({ method: 'POST', path: '/oauth/token' }).reply(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }, { headers: JSON_HEADERS })
    const err = await failure(connector.getCase('508138417679.11895063640312853845', { raw: false }, testCtx()))
    expect(err.kind).toBe('auth')
    expect(err.message).toContain('invalid_grant')
    expect(err.message).not.toContain('PRIVATE KEY')
  })

  it('a credential that is no key file fails every call as auth, quoting nothing of it; a path to a key file works', async () => {
    const bad = make({}, '{"client_email":"x@y","private_key":"-----BEGIN PRIVATE KEY-----\\nnot-a-key\\n-----END PRIVATE KEY-----"}')
    const err = await failure(bad.getCase('508138417679.11895063640312853845', { raw: false }, testCtx()))
    expect(err.kind).toBe('auth')
    expect(err.message).not.toContain('not-a-key')
    expect((await failure(make({}, '/nonexistent/key.json').getCase('508138417679.1', { raw: false }, testCtx()))).kind).toBe('auth')
  })
})

describe('submit', () => {
  it('sends one uris:submit with the URL, threat info (abuse type, confidence, labels, the comment) and discovery, and answers received', async () => {
    tokenEndpoint([], ['tok'])
    let sent: unknown
    api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(200, (opts) => {
      sent = JSON.parse(String(opts.body))
      return { name: OP }
    }, { headers: JSON_HEADERS })
    const outcome = await submit('https://login-acme.example.net/x', {
      providerOptions: { abuseType: 'SOCIAL_ENGINEERING', confidenceLevel: 'HIGH', justificationLabels: ['MANUAL_VERIFICATION', 'USER_REPORT'], platform: 'ANDROID', regionCodes: ['IT'] }
    })
    expect(sent).toEqual({
      submission: { uri: 'https://login-acme.example.net/x' },
      threatInfo: {
        abuseType: 'SOCIAL_ENGINEERING',
        threatConfidence: { level: 'HIGH' },
        threatJustification: { labels: ['MANUAL_VERIFICATION', 'USER_REPORT'], comments: ['clone of our login page'] }
      },
      threatDiscovery: { platform: 'ANDROID', regionCodes: ['IT'] }
    })
    expect(outcome.kind).toBe('created')
    if (outcome.kind !== 'created') return
    // the 20-digit operation id is kept as a string, digit for digit
    expect(outcome.case).toMatchObject({ id: 'webrisk:508138417679.11895063640312853845', status: 'received', providerStatus: 'STATE_UNSPECIFIED', terminal: false })
    // the record lists it and the duplicate check finds it
    const page = await connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())
    expect(page.items.map(c => c.id)).toEqual(['webrisk:508138417679.11895063640312853845'])
    expect((await connector.findOpenCase!({ type: 'url', value: 'https://login-acme.example.net/x' }, testCtx()))?.id).toBe('webrisk:508138417679.11895063640312853845')
  })

  it('refuses what Web Risk cannot take before any call: other target types, monitoring, unknown options and enums, score with level', async () => {
    const refused = async (i: CreateCaseInput): Promise<{ code: string, path?: string }> => {
      const err = await connector.prepareCreate!(i, testCtx()).then(() => null, (e: { code: string, extras: { errors?: Array<{ path: string }> } }) => e)
      expect(err).not.toBeNull()
      return { code: err!.code, path: err!.extras.errors?.[0]?.path }
    }
    expect(await refused(input('acme.example', { target: { type: 'domain', value: 'acme.example' } }))).toEqual({ code: 'GW_ERR_UNSUPPORTED', path: undefined })
    expect(await refused(input('https://a.example/', { action: 'monitor' }))).toEqual({ code: 'GW_ERR_UNSUPPORTED', path: undefined })
    expect(await refused(input('ftp://a.example/'))).toEqual({ code: 'GW_ERR_VALIDATION', path: '/target/value' })
    expect(await refused(input('https://a.example/', { providerOptions: { brandName: 'x' } }))).toEqual({ code: 'GW_ERR_VALIDATION', path: '/providerOptions/brandName' })
    expect(await refused(input('https://a.example/', { providerOptions: { abuseType: 'SPAM' } }))).toEqual({ code: 'GW_ERR_VALIDATION', path: '/providerOptions/abuseType' })
    expect(await refused(input('https://a.example/', { providerOptions: { confidenceLevel: 'HIGH', confidenceScore: 0.9 } }))).toEqual({ code: 'GW_ERR_VALIDATION', path: '/providerOptions/confidenceScore' })
    expect(await refused(input('https://a.example/', { providerOptions: { regionCodes: 'IT' } }))).toEqual({ code: 'GW_ERR_VALIDATION', path: '/providerOptions/regionCodes' })
  })

  it('403, 404 and 501 on submit say the provider is not enabled and are never repeated; 429 keeps Retry-After; 5xx is not repeated', async () => {
    tokenEndpoint([], ['tok'])
    for (const [code, name] of [[403, 'PERMISSION_DENIED'], [404, 'NOT_FOUND'], [501, 'UNIMPLEMENTED']] as const) {
      api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(code, { error: { code, message: 'Method not found.', status: name } }, { headers: JSON_HEADERS })
      const err = await failure(submit(`https://a-${code}.example/`))
      expect(err.kind).toBe('auth')
      expect(err.upstreamStatus).toBe(code)
      expect(err.message).toContain(`${name}: Method not found.`)
      expect(err.message).toMatch(/not allowlisted/)
    }
    api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' })
      .reply(429, { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } }, { headers: { ...JSON_HEADERS, 'retry-after': '17' } })
    const limited = await failure(submit('https://a-429.example/'))
    expect([limited.kind, limited.retryAfter, limited.message]).toEqual(['rate_limited', 17, 'RESOURCE_EXHAUSTED: Quota exceeded'])
    api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(503, 'upstream connect error', { headers: { 'content-type': 'text/plain' } })
    expect((await failure(submit('https://a-503.example/'))).kind).toBe('unavailable')
    // none of the refused submissions is in the record
    expect((await connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())).items).toEqual([])
  })

  it('the day\'s quota holds before the call: past WEBRISK_DAILY_SUBMITS nothing is sent until the next UTC day', async () => {
    connector = make({ dailySubmits: '2' })
    // a day later the first token has expired
    tokenEndpoint([], ['tok', 'tok-next-day'])
    for (const n of [1, 2]) {
      api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(200, { name: `projects/508138417679/operations/${n}` }, { headers: JSON_HEADERS })
      expect((await submit(`https://q-${n}.example/`)).kind).toBe('created')
    }
    const err = await failure(submit('https://q-3.example/'))
    expect(err.kind).toBe('rate_limited')
    expect(err.retryAfter).toBe(24 * 3600) // the manual clock stands at 00:00 UTC
    clock.advance(24 * 3600_000)
    api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(200, { name: 'projects/508138417679/operations/3' }, { headers: JSON_HEADERS })
    expect((await submit('https://q-3.example/')).kind).toBe('created')
  })

  it('the minute\'s quota holds before the call too (WEBRISK_MINUTE_SUBMITS), until the next UTC minute', async () => {
    connector = make({ minuteSubmits: '1', dailySubmits: '0' })
    tokenEndpoint([], ['tok'])
    api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(200, { name: 'projects/508138417679/operations/7' }, { headers: JSON_HEADERS })
    expect((await submit('https://m-1.example/')).kind).toBe('created')
    clock.advance(15_000)
    const err = await failure(submit('https://m-2.example/'))
    expect([err.kind, err.retryAfter]).toEqual(['rate_limited', 45])
    expect(err.message).toContain('WEBRISK_MINUTE_SUBMITS=1')
    clock.advance(45_000)
    api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(200, { name: 'projects/508138417679/operations/8' }, { headers: JSON_HEADERS })
    expect((await submit('https://m-2.example/')).kind).toBe('created')
  })
})

describe('operations and the record', () => {
  it('maps each operation shape through the status table, done-without-state included', async () => {
    tokenEndpoint([], ['tok'])
    const cases: Array<[unknown, string, string]> = [
      [{ metadata: { state: 'RUNNING' }, done: false }, 'in_review', 'RUNNING'],
      [{ metadata: { state: 'SUCCEEDED' }, done: true, response: { threatTypes: ['MALWARE'] } }, 'mitigated', 'SUCCEEDED'],
      [{ metadata: { state: 'CLOSED', closed_reason: 'NO_THREAT_DETECTED' }, done: true }, 'closed', 'CLOSED'],
      [{ metadata: { state: 'FAILED' }, done: true, error: { code: 13 } }, 'failed', 'FAILED'],
      // enums may come as numbers (proto order: CANCELLED = 3)
      [{ metadata: { state: 3 }, done: true, error: { code: 1 } }, 'cancelled', 'CANCELLED'],
      [{ metadata: {}, done: false }, 'received', 'STATE_UNSPECIFIED'],
      [{ metadata: {}, done: true, error: { code: 1 } }, 'cancelled', 'STATE_UNSPECIFIED'],
      [{ metadata: {}, done: true, error: { code: 13 } }, 'failed', 'STATE_UNSPECIFIED'],
      [{ metadata: {}, done: true, response: { threatTypes: ['SOCIAL_ENGINEERING'] } }, 'mitigated', 'STATE_UNSPECIFIED'],
      [{ metadata: {}, done: true, response: {} }, 'closed', 'STATE_UNSPECIFIED'],
      [{ metadata: { state: 'SUCCEEDED_DELISTED' }, done: true }, 'unknown', 'SUCCEEDED_DELISTED']
    ]
    for (const [op, unified, word] of cases) {
      api().intercept({ method: 'GET', path: `/v1/${OP}` }).reply(200, { name: OP, ...(op as object), metadata: { createTime: '2026-10-31T23:00:00Z', ...(op as { metadata: object }).metadata } }, { headers: JSON_HEADERS })
      const c = await connector.getCase('508138417679.11895063640312853845', { raw: true }, testCtx())
      expect([c.status, c.providerStatus], JSON.stringify(op)).toEqual([unified, word])
      expect(c.raw).toMatchObject({ name: OP })
    }
  })

  it('lists the record newest first with a position token; the watcher\'s open walk reads only the operations due', async () => {
    tokenEndpoint([], ['tok'])
    for (let n = 1; n <= 5; n++) {
      api().intercept({ method: 'POST', path: '/v1/projects/acme-webrisk/uris:submit' }).reply(200, { name: `projects/508138417679/operations/${n}` }, { headers: JSON_HEADERS })
      expect((await submit(`https://r-${n}.example/`)).kind).toBe('created')
      clock.advance(1000)
    }
    const ids: string[] = []
    let token: string | null = null
    do {
      const page = await connector.listCases({ pageToken: token, pageSize: 2, filters: {} }, testCtx())
      ids.push(...page.items.map(c => c.providerCaseId))
      token = page.next
    } while (token !== null)
    expect(ids).toEqual(['508138417679.5', '508138417679.4', '508138417679.3', '508138417679.2', '508138417679.1'])

    // nothing is due before the first poll time: no vendor call
    const open = async () => await connector.listCases({ pageToken: null, pageSize: 10, filters: { vendor: { open: 'true' } } }, testCtx())
    expect((await open()).items.map(c => c.status)).toEqual(['received', 'received', 'received', 'received', 'received'])
    // a minute after the oldest was submitted, only it and the next ones inside that minute are due
    clock.advance(60_000 - 5000)
    const done = (n: number) => ({ name: `projects/508138417679/operations/${n}`, metadata: { state: 'SUCCEEDED', createTime: '2026-11-01T00:00:00Z', updateTime: '2026-11-01T00:00:30Z' }, done: true, response: { threatTypes: ['SOCIAL_ENGINEERING'] } })
    api().intercept({ method: 'GET', path: '/v1/projects/508138417679/operations/1' }).reply(200, done(1), { headers: JSON_HEADERS })
    const after = await open()
    expect(after.items.map(c => [c.providerCaseId, c.status])).toContainEqual(['508138417679.1', 'mitigated'])
    expect(after.items.filter(c => c.status === 'mitigated')).toHaveLength(1)
    // the record keeps what was read: mitigated stays open (still listed), the next plain listing shows it without a call
    expect((await connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())).items.find(c => c.providerCaseId === '508138417679.1')?.status).toBe('mitigated')
  })

  it('polls on the schedule: 1, 2, 5, 10, 20, 40 minutes, hourly to 48 h, 6-hourly to a week, then not at all', () => {
    const MIN = 60_000
    const t0 = Date.parse('2026-11-01T00:00:00Z')
    const schedule: number[] = []
    for (let at = t0, next = nextPollAt(t0, at); next !== null; next = nextPollAt(t0, next)) schedule.push((next - t0) / MIN)
    expect(schedule.slice(0, 8)).toEqual([1, 2, 5, 10, 20, 40, 60, 120])
    expect(schedule).toContain(48 * 60)
    expect(schedule[schedule.indexOf(48 * 60) + 1]).toBe(54 * 60)
    expect(schedule.at(-1)).toBe(7 * 24 * 60)
  })
})
