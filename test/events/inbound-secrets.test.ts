/**
 * The PhishFort signing secret the gateway receives when it registers itself is kept sealed with
 * WEBHOOK_ENCRYPTION_KEY: the store never holds it in clear, deliveries signed with it are taken, a value sealed under
 * another key falls back to PHISHFORT_WEBHOOK_SECRETS with one warning, a clear value of an earlier version is still
 * read, and a live gateway without the key refuses to register (before PhishFort is called).
 */
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { phishfortSignature } from '../../src/connectors/phishfort/webhook.js'
import { InboundSecrets } from '../../src/features/events/inbound-secrets.js'
import { providerEnv } from '../../src/providers/env.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import type { PhishfortWebhooks } from '../../src/simulators/phishfort/webhooks.js'
import { inboundKeys } from '../../src/store/keys.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const KEY = randomBytes(32)
const CONFIGURED = 'configured-secret-0123456789abcdef'
const BODY = JSON.stringify({ event: 'ping', data: {} })
const KEPT = inboundKeys.secrets('phishfort')

const warnings: string[] = []
const capture = new Writable({
  write (chunk, _enc, done) {
    const line = JSON.parse(String(chunk)) as { level: number, msg: string }
    if (line.level === 40) warnings.push(line.msg)
    done()
  }
})

let gw: TestGateway
let hooks: PhishfortWebhooks
let n = 0

async function deliver (secret: string): Promise<{ status: number, json: any }> {
  const ts = String(Math.floor(gw.clock.now() / 1000))
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/inbound/phishfort',
    payload: BODY,
    headers: { 'content-type': 'application/json', 'x-phishfort-signature': phishfortSignature(secret, ts, BODY), 'x-phishfort-timestamp': ts, 'x-phishfort-delivery-id': `dlv-${++n}` }
  })
  return { status: res.statusCode, json: res.json() }
}

async function register (payload: Record<string, unknown>): Promise<{ id: string, secret: string }> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/admin/inbound/phishfort/subscription', headers: auth(), payload })
  expect(res.statusCode, res.body).toBe(201)
  expect(res.json()).toMatchObject({ secretStored: true })
  const id = res.json().id as string
  return { id, secret: (hooks.subscriptions.get(id) as { secret: string }).secret }
}

describe('with WEBHOOK_ENCRYPTION_KEY', () => {
  beforeAll(async () => {
    gw = await testGateway({
      env: { WEBHOOK_ENCRYPTION_KEY: KEY.toString('hex'), PHISHFORT_WEBHOOK_SECRETS: CONFIGURED },
      logger: { level: 'warn', stream: capture }
    })
    hooks = gw.sandbox.running.phishfort.sim.webhooks as PhishfortWebhooks
  })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { warnings.length = 0 })

  it('keeps the registered secret sealed, takes deliveries signed with it, and keeps only the new one after a rotation', async () => {
    const { id, secret } = await register({ url: 'https://gateway.example/v1/inbound/phishfort' })
    const stored = await gw.store.get(KEPT) as string
    expect(stored).toMatch(/^v1\./)
    for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) expect(stored).not.toContain(form)
    expect(await deliver(secret)).toMatchObject({ status: 202, json: { accepted: true } })
    expect(await deliver(CONFIGURED)).toMatchObject({ status: 202 })
    expect((await deliver('not-the-secret-0123456789')).status).toBe(401)

    const rotated = await register({ id, rotate: true })
    expect(rotated.secret).not.toBe(secret)
    expect(await gw.store.get(KEPT)).not.toContain(rotated.secret)
    expect(await deliver(rotated.secret)).toMatchObject({ status: 202 })
    expect((await deliver(secret)).status).toBe(401)
    expect(warnings.filter(w => w.includes('webhook secret'))).toEqual([])
  })

  it('a secret sealed under another key: the configured secrets only, one warning however many deliveries, never a 500', async () => {
    const other = 'sealed-elsewhere-0123456789abcdef'
    await new InboundSecrets(gw.store, randomBytes(32)).save('phishfort', other)
    const refused = await deliver(other)
    expect(refused).toMatchObject({ status: 401, json: { code: 'GW_ERR_BAD_SIGNATURE' } })
    expect((await deliver(other)).status).toBe(401)
    expect((await deliver(CONFIGURED)).status).toBe(202)
    expect(warnings.filter(w => w.includes('cannot be opened'))).toHaveLength(1)
    expect(warnings.join('\n')).not.toContain(other)
  })

  it('a secret an earlier version kept in clear is still taken, with one warning asking to register again', async () => {
    const legacy = 'kept-in-clear-0123456789abcdef'
    await gw.store.set(KEPT, JSON.stringify([legacy]), { ttlMs: 60_000 })
    expect((await deliver(legacy)).status).toBe(202)
    expect((await deliver(legacy)).status).toBe(202)
    expect(warnings.filter(w => w.includes('in clear'))).toHaveLength(1)
    expect(warnings.join('\n')).not.toContain(legacy)

    const { secret } = await register({ url: 'https://gateway.example/v1/inbound/phishfort' })
    expect(await gw.store.get(KEPT)).toMatch(/^v1\./)
    expect((await deliver(legacy)).status).toBe(401)
    expect((await deliver(secret)).status).toBe(202)
  })
})

describe('a live gateway without WEBHOOK_ENCRYPTION_KEY', () => {
  // live mode takes gateway keys of 22 characters or more
  const LIVE_KEY = 'ops-live-key-0123456789ab'
  let sandbox: Sandbox
  beforeAll(async () => {
    const clock = new ManualClock()
    sandbox = await startSandbox(clock)
    gw = await testGateway({ clock, sandbox, env: { SANDBOX: 'false', GATEWAY_API_KEYS: `ops:${LIVE_KEY}:read+write+admin`, ...providerEnv('phishfort', sandbox.endpoints.phishfort) } })
    hooks = sandbox.running.phishfort.sim.webhooks as PhishfortWebhooks
  })
  afterAll(async () => {
    await gw.close()
    await sandbox.close()
  })

  it('answers 503 naming the variable, calls PhishFort for nothing and stores nothing', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/admin/inbound/phishfort/subscription', headers: auth(LIVE_KEY), payload: { url: 'https://gateway.example/v1/inbound/phishfort' } })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({ code: 'GW_ERR_UNAVAILABLE' })
    expect(res.json().detail).toMatch(/set WEBHOOK_ENCRYPTION_KEY/)
    expect(hooks.subscriptions.size).toBe(0)
    expect(await gw.store.get(KEPT)).toBeNull()
    // deliveries are still checked (against no secret at all here): a 401, not a 500
    expect((await deliver('anything-0123456789abcdef')).status).toBe(401)
  })
})
