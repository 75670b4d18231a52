/**
 * Secrets never leave the process: the gateway in LIVE mode (SANDBOX=false) with distinctive provider
 * credentials, pointed at simulators that accept exactly those, logging at trace into memory. Every route, every
 * vendor fault and every wrong key is exercised; then no provider key, gateway key, gateway secret or auth header
 * value may appear in any log line, response body or response header.
 */
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { systemClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { REFERENCE_KINDS } from '../../src/schemas/reference.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'
import { providerEnv } from '../../src/providers/env.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { createSimulator } from '../../src/simulators/index.js'

/** a distinctive credential per registered provider, and the wrong one the second gateway sends (the vendors answer 401) */
const PROVIDER_KEYS = Object.fromEntries(PROVIDER_IDS.map(id => [id, `${id.toUpperCase()}-7f3kQz9-SECRETKEY-a1b2c3d4`])) as Record<ProviderId, string>
const WRONG_PROVIDER_KEYS = Object.fromEntries(PROVIDER_IDS.map(id => [id, `WRONG-${id.toUpperCase()}-Zr4Yt-SECRETKEY-01`])) as Record<ProviderId, string>
const GATEWAY_KEYS = { ops: 'gwkey-OPS-9c8b7a6f5e4d', reader: 'gwkey-READER-1f2e3d4c5b6a' }
const WRONG_GATEWAY_KEY = 'gwkey-NOT-A-KEY-0a9b8c7d6e5f'
const GATEWAY_SECRET = 'gwsecret-SIGNING-4d5e6f7a8b9c0d1e'
const WEBHOOK_KEY = 'd2ViaG9vay1TRUFMSU5HLWtleS0zMmJ5dGVzLTAxMjM='
const SECRETS = [...Object.values(PROVIDER_KEYS), ...Object.values(WRONG_PROVIDER_KEYS), ...Object.values(GATEWAY_KEYS), WRONG_GATEWAY_KEY, GATEWAY_SECRET, WEBHOOK_KEY]

const lines: string[] = []
const seen: Array<{ where: string, text: string }> = []
const capture = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })

let sims: Record<ProviderId, RunningSimulator>
let good: FastifyInstance
let bad: FastifyInstance

function env (keys: Record<ProviderId, string>): Record<string, string> {
  const e: Record<string, string> = {
    SANDBOX: 'false',
    LOG_LEVEL: 'trace',
    GATEWAY_API_KEYS: `ops:${GATEWAY_KEYS.ops}:read+write+admin,reader:${GATEWAY_KEYS.reader}:read`,
    GATEWAY_SECRET,
    WEBHOOK_ENCRYPTION_KEY: WEBHOOK_KEY,
    CIRCUIT_FAILURE_THRESHOLD: '1000',
    MAX_EVENT_LOOP_DELAY_MS: '0'
  }
  for (const id of PROVIDER_IDS) {
    Object.assign(e, providerEnv(id, { baseUrl: sims[id].baseUrl, credential: keys[id], options: PROVIDER_MODULES[id].sandbox.options }))
    e[`${id.toUpperCase()}_TIMEOUT_MS`] = '700'
  }
  return e
}

async function gateway (keys: Record<ProviderId, string>): Promise<FastifyInstance> {
  const config = loadConfig(env(keys))
  expect(config.sandbox).toBe(false)
  const app = await buildApp({ config, loggerInstance: createLogger(config.logLevel, capture) })
  await app.ready()
  return app
}

beforeAll(async () => {
  sims = {} as Record<ProviderId, RunningSimulator>
  for (const id of PROVIDER_IDS) {
    sims[id] = await startSimulator(await createSimulator(id, { clock: systemClock, apiKey: PROVIDER_KEYS[id], seed: 7 }))
  }
  good = await gateway(PROVIDER_KEYS)
  bad = await gateway(WRONG_PROVIDER_KEYS)
})

afterAll(async () => {
  await good?.close()
  await bad?.close()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

interface Call { method?: 'GET' | 'POST' | 'DELETE', url: string, key?: string | null, payload?: unknown, headers?: Record<string, string> }

async function call (app: FastifyInstance, c: Call): Promise<{ status: number, body: string, json: () => any }> {
  const key = c.key === undefined ? GATEWAY_KEYS.ops : c.key
  const res = await app.inject({
    method: c.method ?? 'GET',
    url: c.url,
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...c.headers },
    ...(c.payload === undefined ? {} : { payload: c.payload as Record<string, unknown> })
  })
  seen.push({ where: `${c.method ?? 'GET'} ${c.url} body`, text: res.body })
  seen.push({ where: `${c.method ?? 'GET'} ${c.url} headers`, text: JSON.stringify(res.headers) })
  return { status: res.statusCode, body: res.body, json: () => res.json() }
}

const target = (n: number): { type: 'url', value: string } => ({ type: 'url', value: `https://secret-scan-${Date.now().toString(36)}-${n}.example.net/login` })
describe('no secret in logs, bodies, headers or errors', () => {
  it('runs every route, every vendor fault and every wrong key', async () => {
    // reads
    const list = await call(good, { url: '/v1/cases?limit=100' })
    expect(list.status, list.body).toBe(200)
    const items = list.json().items as Array<{ id: string, provider: ProviderId, status: string }>
    expect(new Set(items.map(c => c.provider)).size).toBe(PROVIDER_IDS.length)
    for (const id of PROVIDER_IDS) {
      const one = items.find(c => c.provider === id)!
      expect((await call(good, { url: `/v1/cases/${encodeURIComponent(one.id)}?include=raw` })).status).toBe(200)
    }
    const page = await call(good, { url: '/v1/cases?limit=2' })
    await call(good, { url: `/v1/cases?limit=2&cursor=${encodeURIComponent(page.json().nextCursor as string)}` })
    await call(good, { url: '/v1/cases?limit=2&cursor=tampered' })
    for (const kind of REFERENCE_KINDS) await call(good, { url: `/v1/reference/${kind}` })
    expect((await call(good, { url: '/v1/providers' })).status).toBe(200)
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/nope']) await call(good, { url, key: null })

    // writes at each vendor (its module's example create), cancel, comments, appeal
    const created: Record<string, string> = {}
    for (const [i, id] of PROVIDER_IDS.entries()) {
      const body = PROVIDER_MODULES[id].exampleCreate(target(i + 1))
      const res = await call(good, { method: 'POST', url: '/v1/cases', payload: body, headers: { 'idempotency-key': `scan-${i}` } })
      expect(res.status, res.body).toBe(201)
      created[id] = res.json().id
      await call(good, { method: 'POST', url: '/v1/cases', payload: body, headers: { 'idempotency-key': `scan-${i}` } }) // replay
    }
    const providers = (await call(good, { url: '/v1/providers' })).json().items as Array<{ id: string, capabilities: { comments: boolean, actions: string[] } }>
    for (const p of providers) {
      if (p.capabilities.comments) expect((await call(good, { method: 'POST', url: `/v1/cases/${created[p.id]!}/comments`, payload: { comment: 'more context' } })).status).toBe(202)
      for (const action of p.capabilities.actions) await call(good, { method: 'POST', url: `/v1/cases/${created[p.id]!}/actions/${action}` })
    }
    await call(good, { method: 'POST', url: '/v1/cases?dryRun=true', payload: { provider: 'bforeai', target: target(4), brand: { id: 501 } } })
    expect((await call(good, { method: 'POST', url: `/v1/cases/${created.bforeai}/cancel`, payload: { reasonId: 1 } })).status).toBe(200)
    const cf = items.find(c => c.provider === 'cloudflare' && ['mitigated', 'taken_down'].includes(c.status))
    if (cf !== undefined) {
      const detail = (await call(good, { url: `/v1/cases/${cf.id}` })).json()
      const m = detail.mitigations?.[0]
      if (m !== undefined) await call(good, { method: 'POST', url: `/v1/cases/${cf.id}/appeal`, payload: { appeals: [{ id: m.id, reason: 'removed' }] } })
    }
    // detections and brand protection, where the routes exist
    const detections = await call(good, { url: '/v1/detections?limit=20' })
    const first = detections.status === 200 ? (detections.json().items as Array<{ id: string }>)[0] : undefined
    if (first !== undefined) {
      await call(good, { url: `/v1/detections/${encodeURIComponent(first.id)}` })
      await call(good, { method: 'POST', url: `/v1/detections/${encodeURIComponent(first.id)}/takedown`, payload: { brand: { id: 501 } } })
    }
    await call(good, { url: '/v1/brand-monitors' })
    await call(good, { url: '/v1/scans' })

    // vendor faults: 429 (retried), 5xx, hang past the timeout, malformed body, connection reset
    const faults = [
      { status: 429, retryAfter: 0, times: 2 },
      { status: 503, times: 10 },
      { hang: true, times: 3 },
      { malformed: true, times: 3 },
      { reset: true, times: 3 }
    ]
    for (const fault of faults) {
      for (const id of PROVIDER_IDS) sims[id].sim.faults.add({ method: 'GET', ...fault })
      await call(good, { url: '/v1/cases?limit=5' })
      for (const id of PROVIDER_IDS) await call(good, { url: `/v1/cases/${encodeURIComponent(items.find(c => c.provider === id)!.id)}` })
      for (const id of PROVIDER_IDS) sims[id].sim.faults.clear()
    }
    for (const id of PROVIDER_IDS) sims[id].sim.faults.add({ method: 'POST', status: 500, times: 1 })
    await call(good, { method: 'POST', url: '/v1/cases', payload: { provider: 'phishfort', target: target(5) } })
    for (const id of PROVIDER_IDS) sims[id].sim.faults.clear()
    expect((await call(good, { url: '/v1/providers' })).body).toMatch(/lastError/)

    // wrong vendor keys: every vendor answers 401
    const denied = await call(bad, { url: '/v1/cases?limit=5' })
    expect(denied.status, denied.body).toBe(502)
    expect(denied.body).toMatch(/credential|auth|401/i)
    for (const kind of ['statuses', 'takedown-types']) await call(bad, { url: `/v1/reference/${kind}` })
    await call(bad, { method: 'POST', url: '/v1/cases', payload: { provider: 'bforeai', target: target(6), brand: { id: 501 } } })
    await call(bad, { url: '/v1/providers' })

    // wrong, missing and under-scoped gateway keys
    expect((await call(good, { url: '/v1/cases', key: WRONG_GATEWAY_KEY })).status).toBe(401)
    expect((await call(good, { url: '/v1/cases', key: null })).status).toBe(401)
    expect((await call(good, { url: '/v1/cases', key: null, headers: { authorization: `Basic ${WRONG_GATEWAY_KEY}` } })).status).toBe(401)
    expect((await call(good, { url: '/v1/cases', key: null, headers: { 'x-api-key': PROVIDER_KEYS.phishfort } })).status).toBe(401)
    expect((await call(good, { method: 'POST', url: '/v1/cases', key: GATEWAY_KEYS.reader, payload: { provider: 'phishfort', target: target(7) } })).status).toBe(403)

    // the scenario reached the vendors and logged at trace level
    expect(good.log.level).toBe('trace')
    expect(lines.length).toBeGreaterThan(100)
    expect(lines.some(l => l.includes('"level":20') && l.includes('retrying vendor call'))).toBe(true) // debug lines are in
    expect(lines.some(l => l.includes('Invalid API key'))).toBe(true) // the vendors' 401s were logged
    for (const id of PROVIDER_IDS) expect(sims[id].sim.stats.total()).toBeGreaterThan(10)
  }, 60_000)

  it('webhook endpoint secrets: shown at creation and rotation only, never in a log line or a later answer', async () => {
    const created = await call(good, { method: 'POST', url: '/v1/webhook-endpoints', payload: { url: 'https://hooks.secret-scan.example.net/in' } })
    expect(created.status, created.body).toBe(201)
    const { id, secret } = created.json() as { id: string, secret: string }
    const rotated = await call(good, { method: 'POST', url: `/v1/webhook-endpoints/${id}/rotate-secret`, payload: {} })
    const fresh = rotated.json().secret as string
    const later = [
      await call(good, { url: `/v1/webhook-endpoints/${id}` }),
      await call(good, { url: '/v1/webhook-endpoints' }),
      await call(good, { url: `/v1/webhook-endpoints/${id}/deliveries` }),
      await call(good, { method: 'POST', url: '/v1/webhook-endpoints', payload: { url: 'http://10.0.0.1/in' } })
    ]
    for (const s of [secret, fresh]) {
      const key = s.slice('whsec_'.length)
      expect(key).toHaveLength(44)
      expect(lines.join('\n')).not.toContain(key)
      for (const res of later) expect(res.body).not.toContain(key)
    }
  })

  it('redacts auth headers and credential fields wherever a log call would carry them', () => {
    const before = lines.length
    const log = createLogger('trace', capture)
    log.info({ req: { headers: { authorization: `Bearer ${GATEWAY_KEYS.ops}`, 'x-api-key': PROVIDER_KEYS.phishfort, 'x-authorization': PROVIDER_KEYS.bforeai } } }, 'req')
    log.info({ headers: { authorization: `Bearer ${PROVIDER_KEYS.cloudflare}` }, credential: PROVIDER_KEYS.bforeai, settings: { secret: GATEWAY_SECRET } }, 'obj')
    const added = lines.slice(before).join('')
    expect(added.match(/\[redacted\]/g)?.length).toBe(6)
  })

  it('finds none of the secrets anywhere', () => {
    expect(seen.length).toBeGreaterThan(100)
    const haystacks = [...lines.map((text, i) => ({ where: `log line ${i}`, text })), ...seen]
    const leaks: string[] = []
    for (const { where, text } of haystacks) {
      for (const secret of SECRETS) if (text.includes(secret)) leaks.push(`${where}: ${secret} in ${text.slice(0, 300)}`)
    }
    expect(leaks).toEqual([])
  })
})
