/**
 * What a new operator trips over: a gateway with no provider on says so everywhere instead of
 * answering empty 200s, and every start-up failure is one clear message (configuration files included).
 */
import { writeFileSync, mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { killAll, spawnGateway } from '../support/gateway-process.js'

const LIVE_NO_VENDOR = {
  SANDBOX: 'false',
  GATEWAY_API_KEYS: 'ops:ops-secret-key-0123456789:read+write+admin',
  GATEWAY_SECRET: 'a-secret-of-at-least-16-chars',
  LOG_LEVEL: 'silent',
  MAX_EVENT_LOOP_DELAY_MS: '0'
}
const AUTH = { authorization: 'Bearer ops-secret-key-0123456789' }

function expectProblem (res: { statusCode: number, headers: Record<string, unknown>, json: () => unknown }, status: number): { detail: string, requestId: string } {
  expect(res.statusCode).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
  const body = res.json() as { detail: string, requestId: string }
  expect(body.requestId).toBe(res.headers['x-request-id'])
  return body
}

describe('with every provider off', () => {
  let app: FastifyInstance
  beforeAll(async () => {
    app = await buildApp({ config: loadConfig(LIVE_NO_VENDOR), logger: false })
    await app.ready()
  })
  afterAll(async () => { await app.close() })

  it('without WEBHOOK_ENCRYPTION_KEY outbound webhooks are off: the endpoints API is a 503 that names the variable, a missing key still a 401', async () => {
    const body = { url: 'https://soc.acme.example/hooks' }
    const { detail } = expectProblem(await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: AUTH, payload: body }), 503)
    expect(detail).toMatch(/^Outbound webhooks are off in this gateway: set WEBHOOK_ENCRYPTION_KEY/)
    expectProblem(await app.inject({ url: '/v1/webhook-endpoints', headers: AUTH }), 503)
    expectProblem(await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', payload: body }), 401)
  })

  it('listing is a 503 that names the missing credentials', async () => {
    for (const url of ['/v1/cases', '/v1/detections']) {
      const { detail } = expectProblem(await app.inject({ url, headers: AUTH }), 503)
      expect(detail).toMatch(/^No provider is on in this gateway: bforeai \(BFOREAI_API_KEY is unset\), phishfort \(PHISHFORT_API_KEY is unset\), cloudflare \(CLOUDFLARE_API_TOKEN is unset\)/)
      expect(detail).toContain('set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID')
      expect(detail).toContain('SANDBOX=true')
    }
  })

  it('readiness is 503 and lists every provider as off', async () => {
    const res = await app.inject('/readyz')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({
      status: 'not_ready',
      reason: expect.stringMatching(/^no provider is on: bforeai \(BFOREAI_API_KEY is unset\)/),
      providers: Object.fromEntries(PROVIDER_IDS.map(id => [id, 'off']))
    })
  })

  it('/v1/providers lists each as off and not available', async () => {
    const items = (await app.inject({ url: '/v1/providers', headers: AUTH })).json().items as Array<{ mode: string, available: boolean }>
    expect(items.map(p => [p.mode, p.available])).toEqual(PROVIDER_IDS.map(() => ['off', false]))
  })

  it('a create says how to turn a provider on', async () => {
    const body = { target: { type: 'url', value: 'https://acme-login.example.net/x' } }
    const routed = expectProblem(await app.inject({ method: 'POST', url: '/v1/cases', headers: AUTH, payload: body }), 422)
    expect(routed.detail).toMatch(/^Every provider is off in this gateway: .*To turn one on, set BFOREAI_API_KEY, or set PHISHFORT_API_KEY, or set CLOUDFLARE_API_TOKEN/)
  })
})

describe('with one provider on', () => {
  it('readiness is 200 and says which providers are on; a create aimed at an off one names its variable', async () => {
    // the vendor is never called: readiness and the routing decision are local
    const app = await buildApp({ config: loadConfig({ ...LIVE_NO_VENDOR, PHISHFORT_API_KEY: 'pf-key-0123456789', PHISHFORT_BASE_URL: 'http://127.0.0.1:9' }), logger: false })
    try {
      const ready = await app.inject('/readyz')
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toEqual({ status: 'ready', providers: Object.fromEntries(PROVIDER_IDS.map(id => [id, id === 'phishfort' ? 'live' : 'off'])) })
      const res = await app.inject({ method: 'POST', url: '/v1/cases', headers: AUTH, payload: { provider: 'bforeai', target: { type: 'domain', value: 'acme-login.example.net' } } })
      expect(expectProblem(res, 422).detail).toMatch(/^Provider bforeai \(BFOREAI_API_KEY is unset\) is off; to turn it on, set BFOREAI_API_KEY and restart/)
    } finally {
      await app.close()
    }
  })
})

describe('configuration files join the one configuration report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'))
  const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p }
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ ...LIVE_NO_VENDOR, PHISHFORT_API_KEY: 'pf-key-0123456789', ...env })
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      return (err as ConfigError).problems
    }
    return []
  }

  it('a missing, unparsable or misspelt STATUS_MAP_FILE is reported with the other problems, allowed values named', () => {
    expect(problemsOf({ STATUS_MAP_FILE: '/nonexistent.json', PORT: 'x' })).toEqual([
      'PORT must be an integer from 0 to 65535 (got "x")',
      'STATUS_MAP_FILE /nonexistent.json: no such file'
    ])
    expect(problemsOf({ STATUS_MAP_FILE: file('bad.json', '{"phishfort": ') })[0]).toMatch(/bad\.json: is not valid JSON/)
    const typo = problemsOf({ STATUS_MAP_FILE: file('typo.json', JSON.stringify({ phishfort: { closed: 'taken-down' }, zerofox: {} })) })
    expect(typo).toEqual([
      expect.stringMatching(/phishfort "closed" maps to "taken-down", which is not a unified status \(allowed: received, .*taken_down/),
      expect.stringMatching(new RegExp(`unknown provider "zerofox" \\(allowed: ${PROVIDER_IDS.join(', ')}\\)`))
    ])
  })

  it('CORS_ORIGINS must hold origins', () => {
    expect(problemsOf({ CORS_ORIGINS: 'https://soc.acme.example,soc.acme.example,https://a.example/path' })).toEqual([
      'CORS_ORIGINS: "soc.acme.example" is not an origin like https://soc.acme.example (scheme, host and port only) or *',
      'CORS_ORIGINS: "https://a.example/path" is not an origin like https://soc.acme.example (scheme, host and port only) or *'
    ])
    expect(loadConfig({ ...LIVE_NO_VENDOR, CORS_ORIGINS: 'https://soc.acme.example/, http://localhost:5173' }).corsOrigins).toEqual(['https://soc.acme.example', 'http://localhost:5173'])
  })

  it('an impossible HOST is a configuration problem, not a crash at listen', () => {
    expect(problemsOf({ HOST: '999.1.1.1' })).toEqual(['HOST must be an IP address or a host name of this machine (got "999.1.1.1")'])
    expect(problemsOf({ HOST: 'gateway.internal' })).toEqual([])
    expect(problemsOf({ HOST: '::' })).toEqual([])
  })
})

describe('the process', () => {
  let blocker: Server
  let port: number
  beforeAll(async () => {
    blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    port = (blocker.address() as { port: number }).port
  })
  afterAll(async () => {
    await killAll()
    await new Promise(resolve => blocker.close(resolve))
  })

  it('warns at start that no provider is on, and a port in use is one clear line and exit 1', async () => {
    const gw = spawnGateway({ ...LIVE_NO_VENDOR, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port) })
    expect(await gw.exited).toBe(1)
    const warning = gw.stdout.map(l => JSON.parse(l) as { level: number, msg: string }).find(l => l.msg.startsWith('NO PROVIDER IS ON'))
    expect(warning?.level).toBe(50)
    expect(warning?.msg).toContain('bforeai (BFOREAI_API_KEY is unset), phishfort (PHISHFORT_API_KEY is unset), cloudflare (CLOUDFLARE_API_TOKEN is unset)')
    expect(gw.stderr.join('')).toBe(`takedown-gateway: cannot listen on 127.0.0.1:${port}: the port is in use by another process (set PORT to a free port)\n`)
  }, 30_000)
})
