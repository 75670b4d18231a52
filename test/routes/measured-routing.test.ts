/**
 * Routing by measured outcome: a `measured` ROUTING_RULES rule ranks its providers by what the milestone store
 * measured of their cases. The analytics are seeded through the store's real write path (the milestone recorder,
 * in Redis) on the manual clock; the exploration draw comes from an injected seeded source, or from the
 * Idempotency-Key / the batch item.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import type { Batch, BatchPlan } from '../../src/schemas/batch.js'
import type { CreatePlan } from '../../src/schemas/create.js'
import { DEFAULT_ROUTING } from '../../src/config.js'
import { drawOf } from '../../src/services/routing.js'
import { Rng } from '../../src/simulators/random.js'
import { killAll, spawnGateway } from '../support/gateway-process.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const HOUR = 3_600_000
const iso = (ms: number): string => new Date(ms).toISOString()
type Provider = CaseChangeEvent['case']['provider']

/** the next draw of measured routing's exploration (a test sets the source it reads) */
let draw: () => number = () => 0.99
let gw: TestGateway

/**
 * Seeds `cases` cases of `provider` created in the last days: the first `down` are taken down after `hours[i % n]`
 * hours (a vendor time), the rest failed.
 */
async function seed (provider: Provider, type: 'url' | 'domain', cases: number, down: number, hours: number[], suffix = 'com'): Promise<void> {
  const now = gw.clock.now()
  for (let i = 0; i < cases; i++) {
    const created = now - (2 * 24 + i) * HOUR
    const isDown = i < down
    const downAt = created + hours[i % hours.length]! * HOUR
    await gw.app.milestones.record({
      type: 'case.created',
      occurredAt: null,
      observedAt: iso(isDown ? downAt : created + HOUR),
      observedVia: 'poll',
      case: {
        id: `${provider}:measured-${type}-${suffix}-${i}`,
        provider,
        status: isDown ? 'taken_down' : 'failed',
        createdAt: iso(created),
        updatedAt: null,
        ...(isDown ? { resolvedAt: iso(downAt) } : {}),
        target: { type, publicSuffix: suffix }
      },
      previous: null,
      sequence: 1
    })
  }
}

let unique = 0
const body = (type: 'url' | 'domain' = 'url', tld = 'com'): Record<string, unknown> => {
  const host = `measured-${Date.now().toString(36)}-${unique++}.example.${tld}`
  return { target: { type, value: type === 'url' ? `https://${host}/login` : host }, brand: { id: 501, name: 'Acme Bank' }, comment: 'clone of our login page', allowDuplicate: true }
}

async function dryRun (payload: Record<string, unknown>, headers: Record<string, string> = {}): Promise<CreatePlan> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/cases?dryRun=true', headers: { ...auth(), ...headers }, payload })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<CreatePlan>()
}

beforeAll(async () => {
  gw = await testGateway({
    store: 'redis',
    env: {
      ROUTING_RULES: JSON.stringify({
        url: { strategy: 'measured', providers: ['phishfort', 'bforeai'] },
        domain: { strategy: 'measured', providers: ['phishfort', 'bforeai'] }
      }),
      ROUTING_MIN_SAMPLE: '20',
      ROUTING_EXPLORE_PERCENT: '10',
      ROUTING_WINDOW_DAYS: '30'
    },
    appOptions: { routingRandom: () => draw() }
  })
  // url: bforeai is faster (p50 2 h, 27 of 30 down) than phishfort (p50 6 h, 27 of 30 down); all at .com
  await seed('phishfort', 'url', 30, 27, [5, 6, 7])
  await seed('bforeai', 'url', 30, 27, [1, 2, 3])
  // domain: bforeai is faster but has 12 cases, short of ROUTING_MIN_SAMPLE
  await seed('phishfort', 'domain', 25, 20, [10])
  await seed('bforeai', 'domain', 12, 12, [1])
})
afterAll(async () => { await gw.close(); await killAll() })

describe('a measured routing rule', () => {
  it('picks the faster vendor, and its dry-run plan shows the numbers it used', async () => {
    draw = () => 0.99
    const plan = await dryRun(body())
    expect(plan).toMatchObject({ provider: 'bforeai', routedBy: 'rule', rejected: [] })
    expect(plan.routing).toMatchObject({
      strategy: 'measured',
      decision: 'best',
      targetType: 'url',
      tld: 'com',
      windowDays: 30,
      minSample: 20,
      explorePercent: 10,
      providers: [
        { provider: 'bforeai', cases: 30, successRate: 0.9, p50Hours: 2, score: 2.22 },
        { provider: 'phishfort', cases: 30, successRate: 0.9, p50Hours: 6, score: 6.67 }
      ]
    })
    expect(plan.routing?.summary).toBe('bforeai: p50 2.0 h, 90 % over 30 cases; phishfort: p50 6.0 h, 90 % over 30 cases (url targets at .com over 30 days). ' +
      'bforeai ranks first (lowest p50 ÷ success rate).')
    // a target at a TLD without enough cases is ranked by the whole target type
    const net = await dryRun(body('url', 'net'))
    expect(net.routing).toMatchObject({ tld: null, decision: 'best', providers: [{ provider: 'bforeai', cases: 30 }, { provider: 'phishfort', cases: 30 }] })
    expect(net.provider).toBe('bforeai')
  })

  it('sends about the exploration share elsewhere over 1,000 dry runs', async () => {
    const rng = new Rng(47)
    draw = () => rng.next()
    const chosen = new Map<string, number>()
    for (let i = 0; i < 1000; i++) {
      const plan = await dryRun(body())
      chosen.set(plan.provider, (chosen.get(plan.provider) ?? 0) + 1)
      expect(plan.routing?.decision).toBe(plan.provider === 'bforeai' ? 'best' : 'explore')
    }
    // binomial(1000, 0.1): mean 100, sigma 9.5; 4 sigma (62-138) fails a correct rule once in ~16,000 seeds, and a rule
    // that never explores (0) or explores at 20 % (200) far outside it
    const elsewhere = chosen.get('phishfort') ?? 0
    expect(elsewhere).toBeGreaterThanOrEqual(62)
    expect(elsewhere).toBeLessThanOrEqual(138)
    expect(elsewhere + (chosen.get('bforeai') ?? 0)).toBe(1000)
  }, 120_000)

  it('below the minimum sample keeps the list order, exploring nothing, and says who is short', async () => {
    draw = () => 0 // would explore if the rule ranked
    const plan = await dryRun(body('domain'))
    expect(plan.provider).toBe('phishfort')
    expect(plan.routing).toMatchObject({
      decision: 'list_order',
      tld: null,
      providers: [{ provider: 'phishfort', cases: 25, successRate: 0.8, p50Hours: 10 }, { provider: 'bforeai', cases: 12, successRate: 1, p50Hours: 1 }]
    })
    expect(plan.routing?.summary).toBe('List order (every provider needs 20 cases with an outcome and bforeai has 12): ' +
      'phishfort: p50 10 h, 80 % over 25 cases; bforeai: p50 1.0 h, 100 % over 12 cases (domain targets over 30 days).')
  })

  it('a create and its dry run with the same Idempotency-Key route alike, and a retry returns the same case', async () => {
    draw = () => { throw new Error('a keyed create must not use the random source') }
    let n = 0
    while (drawOf(`measured-explore-${n}`) >= 0.1) n++
    const key = `measured-explore-${n}`
    const payload = body()
    const plan = await dryRun(payload, { 'idempotency-key': key })
    expect([plan.provider, plan.routing?.decision]).toEqual(['phishfort', 'explore'])
    const created = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: { ...auth(), 'idempotency-key': key }, payload })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json<{ provider: string }>().provider).toBe('phishfort')
    const again = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: { ...auth(), 'idempotency-key': key }, payload })
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json<{ id: string }>().id).toBe(created.json<{ id: string }>().id)
  })

  it('routes a batch item by the same rule, in the plan and in the case it creates', async () => {
    draw = () => { throw new Error('a batch item must draw from its batch and index') }
    const items = [body(), body()]
    const planned = await gw.app.inject({ method: 'POST', url: '/v1/batches?dryRun=true', headers: auth(), payload: { items } })
    expect(planned.statusCode, planned.body).toBe(200)
    for (const item of planned.json<BatchPlan>().items) {
      expect(item.plan.routing).toMatchObject({ strategy: 'measured', targetType: 'url', providers: [{ provider: expect.any(String) }, { provider: expect.any(String) }] })
      expect(item.plan.provider).toBe(item.plan.routing?.decision === 'explore' ? 'phishfort' : 'bforeai')
    }
    const res = await gw.app.inject({ method: 'POST', url: '/v1/batches', headers: auth(), payload: { items } })
    expect(res.statusCode, res.body).toBe(202)
    const batch = res.json<Batch>()
    const expected = items.map((_, i) => drawOf(`batch:${batch.id}:${i}`) < 0.1 ? 'phishfort' : 'bforeai')
    let done: Batch = batch
    // waits on the condition (the items run on the jobs port), polling every 20 ms for at most 20 s
    for (let i = 0; i < 1000 && done.counts.pending > 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      done = (await gw.app.inject({ method: 'GET', url: `/v1/batches/${batch.id}`, headers: auth() })).json<Batch>()
    }
    expect(done.counts.pending).toBe(0)
    const page = (await gw.app.inject({ method: 'GET', url: `/v1/batches/${batch.id}/items`, headers: auth() })).json<{ items: Array<{ index: number, caseId: string | null }> }>()
    expect(page.items.map(it => it.caseId?.split(':')[0])).toEqual(expected)
  })
})

describe('configuration', () => {
  it('a bad strategy value stops the start with the configuration report naming it', async () => {
    const gateway = spawnGateway({ SANDBOX: 'true', LOG_LEVEL: 'silent', PORT: '0', ROUTING_RULES: '{"url":{"strategy":"fastest","providers":["phishfort"]}}' })
    expect(await gateway.exited).toBe(78)
    expect(gateway.stderr.join('')).toContain('ROUTING_RULES.url.strategy must be one of order, measured (got "fastest")')
  }, 30_000)
})

describe('sandbox mode', () => {
  it('routes url targets by measured outcome by default: once analytics has the seeded cases, the dry-run plan shows their numbers', async () => {
    const sandbox = await testGateway({ count: 120 })
    try {
      const backfill = await sandbox.app.inject({ method: 'POST', url: '/v1/analytics/backfill', headers: auth() })
      expect(backfill.statusCode, backfill.body).toBe(200)
      const res = await sandbox.app.inject({ method: 'POST', url: '/v1/cases?dryRun=true', headers: auth(), payload: { ...body(), allowDuplicate: true } })
      expect(res.statusCode, res.body).toBe(200)
      const plan = res.json<CreatePlan>()
      expect(plan.routing).toMatchObject({ strategy: 'measured', targetType: 'url', windowDays: 30 })
      // every url provider of the default order, with the seeded cases' numbers (36 cases per provider over all types
      // are short of 20 url outcomes each: the list order, until more cases arrive)
      expect(plan.routing?.providers.map(p => p.provider)).toEqual(DEFAULT_ROUTING.url)
      expect(plan.routing?.providers.filter(p => p.cases > 0 && (p.p50Hours ?? 0) > 0).length).toBeGreaterThan(0)
      expect(plan.routing?.summary).toMatch(/^List order \(every provider needs 20 cases with an outcome and .*: phishfort: (no cases|.* over \d+ cases); bforeai: /)
      // the other types keep the modules' order: no routing block
      const domain = await sandbox.app.inject({ method: 'POST', url: '/v1/cases?dryRun=true', headers: auth(), payload: { ...body('domain'), allowDuplicate: true } })
      expect(domain.json<CreatePlan>().routing).toBeUndefined()
    } finally {
      await sandbox.close()
    }
  })
})
