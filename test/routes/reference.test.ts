import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { ManualClock } from '../../src/clock.js'
import { ReferencePageSchema } from '../../src/schemas/reference-page.js'
import { REFERENCE_KINDS, type ReferenceItem } from '../../src/schemas/reference.js'
import { UNIFIED_STATUSES } from '../../src/schemas/unified-status.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'
import { startSandbox } from '../../src/simulators/sandbox.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const BFOREAI_ROUTES: Record<string, string> = {
  statuses: '/api/v2/takedown/statuses',
  'takedown-types': '/api/v2/takedown/takedown_types/',
  platforms: '/api/v2/takedown/social_media/platforms',
  'threat-types': '/api/v2/takedown/social_media/threat_types',
  'cancellation-reasons': '/api/v2/takedown/cancellation_reasons'
}
const HOUR = 3_600_000

describe('GET /v1/reference/{kind}', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await testGateway({ store: 'redis' }) })
  afterAll(async () => { await gw.close() })

  it('publishes the unified statuses and every vendor status with the unified status it maps to', async () => {
    const res = await gw.app.inject({ url: '/v1/reference/statuses', headers: auth() })
    expect(res.statusCode).toBe(200)
    const page = res.json()
    expect(Value.Check(ReferencePageSchema, page)).toBe(true)
    const items: ReferenceItem[] = page.items
    expect(items.filter(i => i.provider === 'gateway').map(i => i.name)).toEqual([...UNIFIED_STATUSES])
    const pf = items.filter(i => i.provider === 'phishfort')
    expect(pf.find(i => i.name === 'takedown_success')).toMatchObject({ unifiedStatus: 'taken_down', terminal: true })
    expect(pf).toHaveLength(13) // the 11 documented values and the 2 legacy statusVerbose labels
    expect(items.find(i => i.provider === 'bforeai' && i.name === 'In Progress')).toMatchObject({ unifiedStatus: 'in_progress' })
    expect(items.find(i => i.provider === 'cloudflare' && i.name === 'in_review')).toMatchObject({ unifiedStatus: 'in_review' })
  })

  it('filters by provider and answers every kind it has; a kind it lacks is a 404 naming the kinds it has', async () => {
    const providers = (await gw.app.inject({ url: '/v1/providers', headers: auth() })).json().items as Array<{ id: string, capabilities: { reference: string[] } }>
    expect(providers.find(p => p.id === 'netcraft')?.capabilities.reference).toEqual(['statuses', 'threat-types'])
    for (const { id, capabilities } of providers) {
      for (const kind of REFERENCE_KINDS) {
        const res = await gw.app.inject({ url: `/v1/reference/${kind}?provider=${id}`, headers: auth() })
        if (capabilities.reference.includes(kind)) {
          expect(res.statusCode, `${id} ${kind}: ${res.body}`).toBe(200)
          expect(res.json().items.length, `${id} ${kind}`).toBeGreaterThan(0)
          for (const item of res.json().items) expect(item).toMatchObject({ provider: id, kind })
        } else {
          expect(res.statusCode, `${id} ${kind}: ${res.body}`).toBe(404)
          expect(res.json()).toMatchObject({
            code: 'GW_ERR_NOT_FOUND',
            provider: id,
            allowed: capabilities.reference,
            detail: `${id} has no ${kind} (not applicable); its reference data: ${capabilities.reference.join(', ')}`
          })
        }
      }
    }
    const cf = (await gw.app.inject({ url: '/v1/reference/mitigation-types?provider=cloudflare', headers: auth() })).json()
    expect(cf.items.map((i: ReferenceItem) => i.id)).toContain('account_suspend')
    expect((await gw.app.inject({ url: '/v1/reference/colours', headers: auth() })).statusCode).toBe(400)
  })

  it('says hit or miss in Cache-Status and answers 304 to If-None-Match', async () => {
    const first = await gw.app.inject({ url: '/v1/reference/platforms?provider=bforeai', headers: auth() })
    const second = await gw.app.inject({ url: '/v1/reference/platforms?provider=bforeai', headers: auth() })
    expect(second.headers['cache-status']).toMatch(/^takedown-gateway; hit; ttl=\d+; key="bforeai:platforms"$/)
    expect(second.headers.etag).toBe(first.headers.etag)
    const notModified = await gw.app.inject({ url: '/v1/reference/platforms?provider=bforeai', headers: { ...auth(), 'if-none-match': String(first.headers.etag) } })
    expect(notModified.statusCode).toBe(304)
    expect(notModified.body).toBe('')
  })

  it('a kind asked of every provider asks only the providers that have it', async () => {
    // the providers that have the kind, as /v1/providers declares them (BforeAI and Netcraft among them; PhishFort not)
    const providers = (await gw.app.inject({ url: '/v1/providers', headers: auth() })).json().items as Array<{ id: string, capabilities: { reference: string[] } }>
    const having = providers.filter(p => p.capabilities.reference.includes('threat-types')).map(p => p.id).sort()
    expect(having).toEqual(expect.arrayContaining(['bforeai', 'netcraft']))
    expect(having).not.toContain('phishfort')
    const res = await gw.app.inject({ url: '/v1/reference/threat-types', headers: auth() })
    expect(res.statusCode, res.body).toBe(200)
    expect(String(res.headers['cache-status']).match(/key="(\w+):threat-types"/g)?.sort()).toEqual(having.map(id => `key="${id}:threat-types"`))
    expect(new Set(res.json().items.map((i: ReferenceItem) => i.provider))).toEqual(new Set(having))
  })
})

describe('reference cache under load and failure', () => {
  it('500 concurrent requests on a cold cache, over two replicas sharing Redis, make one vendor call per kind', async () => {
    const clock = new ManualClock()
    const sandbox = await startSandbox(clock)
    const prefix = `replicas-${Date.now()}:`
    const a = await testGateway({ store: 'redis', redisPrefix: prefix, sandbox, clock })
    const b = await testGateway({ store: 'redis', redisPrefix: prefix, sandbox, clock })
    try {
      const stats = sandbox.running.bforeai.sim.stats
      stats.reset()
      const kinds = Object.keys(BFOREAI_ROUTES)
      const answers = await Promise.all(Array.from({ length: 500 }, async (_, i) => {
        const gw = i % 2 === 0 ? a : b
        return await gw.app.inject({ url: `/v1/reference/${kinds[i % kinds.length]!}?provider=bforeai`, headers: auth() })
      }))
      expect(answers.filter(r => r.statusCode !== 200).map(r => r.body).slice(0, 3)).toEqual([])
      for (const kind of kinds) expect(stats.get('GET', BFOREAI_ROUTES[kind]!), kind).toBe(1)
      expect(answers.filter(r => String(r.headers['cache-status']).includes('collapsed')).length).toBeGreaterThan(0)
    } finally {
      await a.close()
      await b.close()
      await sandbox.close()
    }
  })

  it('serves stale data with Cache-Status saying so while the vendor is down, and fails once the stale window has passed', async () => {
    const gw = await testGateway({ store: 'redis' })
    try {
      const url = '/v1/reference/cancellation-reasons?provider=bforeai'
      const warm = await gw.app.inject({ url, headers: auth() })
      expect(warm.statusCode).toBe(200)
      gw.sandbox.running.bforeai.sim.faults.add({ status: 503 })
      gw.clock.advance(2 * HOUR) // past the 1 h TTL, inside the 24 h stale window
      const stale = await gw.app.inject({ url, headers: auth() })
      expect(stale.statusCode).toBe(200)
      expect(stale.json().items).toEqual(warm.json().items)
      expect(stale.headers['cache-status']).toMatch(/hit; ttl=-\d+; key="bforeai:cancellation-reasons"; detail=stale-while-revalidate/)
      // once the background refresh has failed (after its retries), answers say stale-if-error
      let staleIfError = stale
      for (let i = 0; i < 50 && !String(staleIfError.headers['cache-status']).includes('stale-if-error'); i++) {
        await new Promise(resolve => setTimeout(resolve, 100))
        staleIfError = await gw.app.inject({ url, headers: auth() })
      }
      expect(staleIfError.statusCode).toBe(200)
      expect(staleIfError.headers['cache-status']).toMatch(/detail=stale-if-error/)

      gw.clock.advance(24 * HOUR)
      const gone = await gw.app.inject({ url, headers: auth() })
      expect(gone.statusCode).toBe(503)
      expect(gone.json()).toMatchObject({ provider: 'bforeai' })

      gw.sandbox.running.bforeai.sim.faults.clear()
      const back = await gw.app.inject({ url, headers: auth() })
      expect(back.statusCode).toBe(200)
      expect(back.headers['cache-status']).toMatch(/fwd=uri-miss; stored/)
    } finally {
      await gw.close()
    }
  })

  it('keeps answering within 200 ms when redis-server is killed mid-run, and /readyz says why', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const store = new RedisKvStore(`redis://127.0.0.1:${port}`)
    for (let i = 0; i < 50 && (await store.health()) !== null; i++) await new Promise(resolve => setTimeout(resolve, 50))
    const { buildApp } = await import('../../src/app.js')
    const { loadConfig } = await import('../../src/config.js')
    const app = await buildApp({ config: loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent' }), store, logger: false })
    try {
      const url = '/v1/reference/statuses'
      const headers = { authorization: 'Bearer sandbox' }
      expect((await app.inject({ url, headers })).statusCode).toBe(200)
      redis.kill('SIGKILL')
      await new Promise(resolve => redis.once('exit', resolve))
      const durations: number[] = []
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now()
        const res = await app.inject({ url, headers })
        durations.push(performance.now() - t0)
        expect(res.statusCode).toBe(200)
      }
      expect(Math.max(...durations)).toBeLessThan(200)
      let ready = await app.inject('/readyz')
      for (let i = 0; i < 40 && ready.statusCode === 200; i++) { // the client notices the closed socket within moments
        await new Promise(resolve => setTimeout(resolve, 50))
        ready = await app.inject('/readyz')
      }
      expect(ready.statusCode).toBe(503)
      expect(ready.json().reason).toMatch(/redis/)
    } finally {
      await app.close()
      await store.close()
      redis.kill('SIGKILL')
    }
  })
})
