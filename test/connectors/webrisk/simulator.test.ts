/**
 * The Web Risk simulator as a fake worth testing against: its token endpoint verifies the assertion (signature, key
 * id, issuer, audience, lifetime on the simulator clock), the API refuses unknown tokens in Google's error envelope,
 * submissions are validated strictly and counted against the per-minute quota, operations settle on the simulator
 * clock by the URL's script, the list can be switched off (501), and a project that is not allowlisted is refused.
 */
import { createPrivateKey, createSign, generateKeyPairSync } from 'node:crypto'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { SIMULATOR_CLIENT_EMAIL, SIMULATOR_TEST_PRIVATE_KEY } from '../../../src/connectors/webrisk/sandbox-key.js'
import { startSimulator, type RunningSimulator } from '../../../src/simulators/harness.js'
import { createWebriskSimulator, type WebriskSimulator } from '../../../src/simulators/webrisk/index.js'

const clock = new ManualClock()
let sim: WebriskSimulator
let running: RunningSimulator

beforeAll(async () => {
  sim = createWebriskSimulator({ clock, apiKey: 'kid-sim-test', seed: 2, count: 12 })
  sim.checkAssertionTime = true
  running = await startSimulator(sim)
})
afterAll(async () => { await running.close() })

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
function assertion (over: { header?: object, claims?: object, key?: string } = {}): string {
  const iat = Math.floor(clock.now() / 1000)
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'kid-sim-test', ...over.header })}.${b64({
    iss: SIMULATOR_CLIENT_EMAIL, scope: 'https://www.googleapis.com/auth/cloud-platform', aud: `${running.origin}/token`, iat, exp: iat + 3600, ...over.claims
  })}`
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(createPrivateKey(over.key ?? SIMULATOR_TEST_PRIVATE_KEY)).toString('base64url')}`
}
async function token (jwt: string): Promise<{ status: number, body: any }> {
  const res = await request(`${running.origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }).toString()
  })
  return { status: res.statusCode, body: await res.body.json() }
}
async function api (method: 'GET' | 'POST', path: string, bearer: string, body?: unknown): Promise<{ status: number, body: any, type: string }> {
  const res = await request(`${running.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: res.statusCode, body: await res.body.json(), type: String(res.headers['content-type']) }
}

describe('the Web Risk simulator', () => {
  it('token endpoint: a good assertion gets a Bearer token for 3599 s; a wrong key, key id, audience or lifetime is invalid_grant', async () => {
    const good = await token(assertion())
    expect(good.status).toBe(200)
    expect(good.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 })
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    for (const bad of [
      assertion({ key: other }),
      assertion({ header: { kid: 'another-key' } }),
      assertion({ claims: { aud: 'https://oauth2.googleapis.com/wrong' } }),
      assertion({ claims: { exp: Math.floor(clock.now() / 1000) + 7200 } }),
      assertion({ claims: { iat: Math.floor(clock.now() / 1000) - 7200, exp: Math.floor(clock.now() / 1000) - 3600 } }),
      assertion({ claims: { iss: 'someone@else.iam.gserviceaccount.com' } })
    ]) {
      const res = await token(bad)
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('invalid_grant')
    }
  })

  it('the API: unknown or expired tokens are 401 UNAUTHENTICATED in Google\'s envelope; operations settle on the simulator clock', async () => {
    const t = (await token(assertion())).body.access_token as string
    const denied = await api('GET', '/v1/projects/p-webrisk/operations', 'nope')
    expect(denied).toMatchObject({ status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } })
    expect(denied.type).toBe('application/json; charset=UTF-8')
    const submitted = await api('POST', '/v1/projects/p-webrisk/uris:submit', t, { submission: { uri: 'https://x.example/benign' } })
    expect(submitted.status).toBe(200)
    expect(submitted.body.name).toMatch(/^projects\/508138417679\/operations\/\d{20}$/)
    const read = async () => (await api('GET', `/v1/${String(submitted.body.name)}`, t)).body
    expect(await read()).toMatchObject({ done: false, metadata: { state: 'RUNNING' } })
    clock.advance(5 * 60_000)
    expect(await read()).toMatchObject({ done: true, metadata: { state: 'CLOSED', closedReason: 'NO_THREAT_DETECTED' } })
    expect((await read()).metadata.createTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    clock.advance(3600_000)
    expect((await api('GET', `/v1/${String(submitted.body.name)}`, t)).status).toBe(401)
  })

  it('validates strictly (400 INVALID_ARGUMENT with field violations), counts 100 submissions a minute (429 RESOURCE_EXHAUSTED)', async () => {
    const t = (await token(assertion())).body.access_token as string
    for (const body of [{ submission: {} }, { submission: { uri: 'https://a.example/' }, extra: 1 }, { submission: { uri: 'https://a.example/' }, threatDiscovery: { regionCodes: 'IT' } },
      { submission: { uri: 'https://a.example/' }, threatInfo: { threatConfidence: { score: 0.5, level: 'HIGH' } } }]) {
      const res = await api('POST', '/v1/projects/p-webrisk/uris:submit', t, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.details[0].fieldViolations.length).toBeGreaterThan(0)
    }
    let limited = null
    for (let i = 0; i < 101 && limited === null; i++) {
      const res = await api('POST', '/v1/projects/p-webrisk/uris:submit', t, { submission: { uri: `https://q${i}.example/` } })
      if (res.status !== 200) limited = res
    }
    expect(limited).toMatchObject({ status: 429, body: { error: { status: 'RESOURCE_EXHAUSTED' } } })
    clock.advance(60_000)
  })

  it('lists newest first with page tokens, or answers 501; a project that is not allowlisted is refused on submit', async () => {
    const t = (await token(assertion())).body.access_token as string
    const names: string[] = []
    let pageToken: string | undefined
    do {
      const page = (await api('GET', `/v1/projects/p-webrisk/operations?pageSize=40${pageToken === undefined ? '' : `&pageToken=${pageToken}`}`, t)).body
      names.push(...(page.operations as Array<{ name: string }>).map(o => o.name))
      pageToken = page.nextPageToken
    } while (pageToken !== undefined)
    expect(new Set(names).size).toBe(names.length)
    expect(names.length).toBe(sim.operations.all().length)
    sim.listMode = 'unimplemented'
    expect((await api('GET', '/v1/projects/p-webrisk/operations', t)).status).toBe(501)
    sim.refuseSubmitWith = 403
    expect((await api('POST', '/v1/projects/p-webrisk/uris:submit', t, { submission: { uri: 'https://z.example/' } })).body.error.status).toBe('PERMISSION_DENIED')
    sim.listMode = 'list'
    sim.refuseSubmitWith = null
  })
})
