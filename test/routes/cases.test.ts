import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { CaseDetailSchema, CasePageSchema, type Case } from '../../src/schemas/case.js'
import { ProblemSchema } from '../../src/schemas/problem.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { compareKeys, keyOf } from '../../src/domain/merge.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
beforeAll(async () => { gw = await testGateway() })
afterAll(async () => { await gw.close() })

async function get (url: string, headers: Record<string, string> = auth()) {
  return await gw.app.inject({ method: 'GET', url, headers })
}

function expectProblem (res: { statusCode: number, headers: Record<string, unknown>, json: () => unknown }, status: number): Record<string, unknown> {
  expect(res.statusCode).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
  const body = res.json() as Record<string, unknown>
  expect(Value.Check(ProblemSchema, body)).toBe(true)
  expect(body.status).toBe(status)
  expect(body.requestId).toBe(res.headers['x-request-id'])
  return body
}

describe('GET /v1/cases over the simulators', () => {
  it('lists cases from every provider, newest first, each with unified and vendor status', async () => {
    const res = await get('/v1/cases?limit=100')
    expect(res.statusCode).toBe(200)
    const page = res.json()
    expect(Value.Check(CasePageSchema, page)).toBe(true)
    expect(page.partial).toBe(false)
    const providers = new Set(page.items.map((c: Case) => c.provider))
    expect([...providers].sort()).toEqual([...PROVIDER_IDS].sort())
    const keys = page.items.map(keyOf)
    for (let i = 1; i < keys.length; i++) expect(compareKeys(keys[i - 1], keys[i])).toBeLessThan(0)
    expect(page.items.some((c: Case) => c.providerStatus !== null && c.status !== 'unknown')).toBe(true)
  })

  it('walks every page and returns every seeded case exactly once, for several limits', async () => {
    const all: string[][] = []
    for (const limit of [1, 7, 50, 100]) {
      const ids: string[] = []
      let cursor: string | null = null
      do {
        const res = await get(`/v1/cases?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
        expect(res.statusCode).toBe(200)
        const page = res.json()
        ids.push(...page.items.map((c: Case) => c.id))
        cursor = page.nextCursor
      } while (cursor !== null)
      expect(new Set(ids).size).toBe(ids.length)
      all.push(ids)
    }
    expect(all[0]!.length).toBeGreaterThanOrEqual(90) // at least 30 seeded cases per vendor
    for (const ids of all) expect(ids).toEqual(all[0])
  })

  it('filters by unified status across vendors', async () => {
    const res = await get('/v1/cases?status=in_progress,taken_down&limit=100')
    expect(res.statusCode).toBe(200)
    const items: Case[] = res.json().items
    expect(items.length).toBeGreaterThan(0)
    for (const c of items) expect(['in_progress', 'taken_down']).toContain(c.status)
  })

  it('answers 400 problems for an unknown status (listing the allowed values), a tampered cursor and a bad limit', async () => {
    const bad = expectProblem(await get('/v1/cases?status=in_progress,done'), 400)
    expect(bad.allowed).toContain('awaiting_customer')
    const first = (await get('/v1/cases?limit=2')).json()
    const c = first.nextCursor as string
    const tampered = c.slice(0, 10) + (c[10] === 'x' ? 'y' : 'x') + c.slice(11)
    expect(expectProblem(await get(`/v1/cases?limit=2&cursor=${encodeURIComponent(tampered)}`), 400).code).toBe('GW_ERR_BAD_CURSOR')
    const lim = expectProblem(await get('/v1/cases?limit=101'), 400)
    expect(lim.errors).toEqual([{ path: '/limit', message: 'must be <= 100' }])
    expectProblem(await get('/v1/cases?since=yesterday'), 400)
    expectProblem(await get('/v1/cases?bogus=1'), 400)
  })

  it('401 without a key or with a wrong one, 403 for a key without the scope', async () => {
    const none = await gw.app.inject({ method: 'GET', url: '/v1/cases' })
    expectProblem(none, 401)
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/)
    expectProblem(await get('/v1/cases', auth('not-a-key')), 401)
    expectProblem(await get('/v1/cases', auth('writer-secret-key')), 403)
    expect((await get('/v1/cases?limit=1', auth('reader-secret-key'))).statusCode).toBe(200)
  })

  it('echoes X-Request-Id, or makes one', async () => {
    const res = await get('/v1/cases?limit=1', { ...auth(), 'x-request-id': 'trace-123' })
    expect(res.headers['x-request-id']).toBe('trace-123')
    const res2 = await get('/v1/cases?limit=1', { ...auth(), 'x-request-id': 'bad id with spaces' })
    expect(res2.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('one simulator down: 200 with partial results naming it; all down: a provider problem', async () => {
    gw.sandbox.running.phishfort.sim.faults.add({ status: 500 })
    try {
      const res = await get('/v1/cases?limit=20')
      expect(res.statusCode).toBe(200)
      const page = res.json()
      expect(page.partial).toBe(true)
      expect(page.errors).toHaveLength(1)
      expect(page.errors[0].provider).toBe('phishfort')
      expect(page.errors[0].status).toBe(502)
      expect(page.items.every((c: Case) => c.provider !== 'phishfort')).toBe(true)
      expect(page.items.length).toBe(20)

      for (const id of PROVIDER_IDS.filter(p => p !== 'phishfort')) gw.sandbox.running[id].sim.faults.add({ status: 503 })
      const all = expectProblem(await get('/v1/cases?limit=20'), 503)
      expect(all.code).toBe('GW_ERR_PROVIDER_UNAVAILABLE')
    } finally {
      for (const id of PROVIDER_IDS) gw.sandbox.running[id].sim.faults.clear()
    }
  })
})

describe('GET /v1/cases/{id}', () => {
  it('returns the detail view of a case from each provider, and raw on request', async () => {
    const items: Case[] = (await get('/v1/cases?limit=100')).json().items
    for (const provider of PROVIDER_IDS) {
      const one = items.find(c => c.provider === provider)!
      const res = await get(`/v1/cases/${one.id}`)
      expect(res.statusCode).toBe(200)
      const detail = res.json()
      expect(Value.Check(CaseDetailSchema, detail)).toBe(true)
      expect(detail.id).toBe(one.id)
      expect(detail.status).toBe(one.status)
      expect(Array.isArray(detail.history)).toBe(true)
      expect(detail.raw).toBeUndefined()
      const raw = (await get(`/v1/cases/${one.id}?include=raw`)).json()
      expect(raw.raw).toBeTypeOf('object')
    }
  })

  it('404 for an unknown provider prefix, a malformed id and an id the provider does not know', async () => {
    expect(expectProblem(await get('/v1/cases/nosuch:123'), 404).code).toBe('GW_ERR_CASE_NOT_FOUND')
    expectProblem(await get('/v1/cases/justtext'), 404)
    const p = expectProblem(await get('/v1/cases/phishfort:doesNotExist999'), 404)
    expect(p.provider).toBe('phishfort')
  })
})

describe('operational routes', () => {
  it('healthz and readyz answer without a key', async () => {
    expect((await gw.app.inject('/healthz')).json()).toEqual({ status: 'ok' })
    expect((await gw.app.inject('/readyz')).json()).toEqual({ status: 'ready', providers: Object.fromEntries(PROVIDER_IDS.map(id => [id, 'sandbox'])) })
  })

  it('unknown routes are problems too', async () => {
    expectProblem(await gw.app.inject('/v2/nothing'), 404)
  })
})
