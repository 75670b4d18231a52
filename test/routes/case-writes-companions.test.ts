import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { CreatedCaseSchema, CreatePlanSchema, type CreatedCase, type CreatePlan } from '../../src/schemas/create.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

// a "block while the takedown runs" rule: URLs go to phishfort, and the same URL is also submitted to webrisk
const RULES = JSON.stringify({ url: { providers: ['phishfort'], also: ['webrisk'] } })

let gw: TestGateway
beforeAll(async () => { gw = await testGateway({ store: 'redis', env: { ROUTING_RULES: RULES } }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { for (const id of PROVIDER_IDS) gw.sandbox.running[id].sim.faults.clear() })

const post = async (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  await gw.app.inject({ method: 'POST', url, headers: { ...auth(), ...headers }, payload: payload as Record<string, unknown> })

/** create requests a simulator received */
function creates (provider: ProviderId): number {
  let n = 0
  for (const [key, count] of gw.sandbox.running[provider].sim.stats.counts) {
    if (/^POST .*(incident\/tkd$|uris:+submit$)/.test(key)) n += count
  }
  return n
}

let unique = 0
const url = (): string => `https://login-acme-${Date.now().toString(36)}-${unique++}.example.net/secure`
const body = () => ({ target: { type: 'url', value: url() }, reportedBy: 'soc@acme.example', comment: 'clone of our login page' })

describe('routing companions (ROUTING_RULES "also")', () => {
  it('files the target at the routed provider and at each companion, and answers both', async () => {
    const [pf, wr] = [creates('phishfort'), creates('webrisk')]
    const b = body()
    const res = await post('/v1/cases', b)
    expect(res.statusCode, res.body).toBe(201)
    const c = res.json() as CreatedCase
    expect(Value.Check(CreatedCaseSchema, c)).toBe(true)
    expect(c.provider).toBe('phishfort')
    expect(c.companions).toHaveLength(1)
    const [companion] = c.companions!
    expect(companion).toMatchObject({ provider: 'webrisk', error: null })
    expect(companion!.id).toMatch(/^webrisk:/)
    expect([creates('phishfort'), creates('webrisk')]).toEqual([pf + 1, wr + 1])
    const read = await gw.app.inject({ method: 'GET', url: `/v1/cases/${companion!.id!}`, headers: auth() })
    expect(read.statusCode, read.body).toBe(200)
    expect(read.json().target.value).toBe(b.target.value)
  })

  it('a retry with the same Idempotency-Key files neither again', async () => {
    const b = body()
    const first = await post('/v1/cases', b, { 'idempotency-key': `companions-${unique}` })
    expect(first.statusCode, first.body).toBe(201)
    const [pf, wr] = [creates('phishfort'), creates('webrisk')]
    const again = await post('/v1/cases', b, { 'idempotency-key': `companions-${unique}` })
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect([creates('phishfort'), creates('webrisk')]).toEqual([pf, wr])
  })

  it('a failing companion leaves the primary create a 201 with the error in companions', async () => {
    gw.sandbox.running.webrisk.sim.faults.add({ method: 'POST', path: 'uris:submit$', status: 400 })
    const pf = creates('phishfort')
    const res = await post('/v1/cases', body())
    expect(res.statusCode, res.body).toBe(201)
    const c = res.json() as CreatedCase
    expect(c.provider).toBe('phishfort')
    expect(creates('phishfort')).toBe(pf + 1)
    expect(c.companions).toEqual([{ provider: 'webrisk', id: null, error: expect.any(String) }])
    expect(c.companions![0]!.error).not.toBe('')
  })

  it('a create that names its provider gets no companions', async () => {
    const wr = creates('webrisk')
    const res = await post('/v1/cases', { ...body(), provider: 'phishfort' })
    expect(res.statusCode, res.body).toBe(201)
    expect((res.json() as CreatedCase).companions).toBeUndefined()
    expect(creates('webrisk')).toBe(wr)
  })

  it('a dry run lists the companion requests in the plan and sends nothing', async () => {
    const [pf, wr] = [creates('phishfort'), creates('webrisk')]
    const res = await post('/v1/cases?dryRun=true', body())
    expect(res.statusCode, res.body).toBe(200)
    const plan = res.json() as CreatePlan
    expect(Value.Check(CreatePlanSchema, plan)).toBe(true)
    expect(plan.provider).toBe('phishfort')
    expect(plan.companions).toHaveLength(1)
    expect(plan.companions![0]).toMatchObject({ provider: 'webrisk', error: null })
    expect(plan.companions![0]!.request!.path).toMatch(/uris:submit$/)
    expect([creates('phishfort'), creates('webrisk')]).toEqual([pf, wr])
  })
})
