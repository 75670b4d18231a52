/**
 * The service-level routes on one gateway (in-process store, manual clock): GET /v1/sla/policies shows the rules in
 * force in match order; GET /v1/analytics/sla counts a fixture of cases per provider, target type and rule exactly as
 * counted by hand below; scopes and bad windows are problems.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import type { SlaFacts } from '../../../src/features/sla/evaluate.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'

const H = 3_600_000
const T0 = Date.parse('2026-06-01T00:00:00.000Z')
const clock = new ManualClock(T0 + 48 * H)
const POLICY = {
  rules: [
    { id: 'fast', match: { provider: 'netcraft' }, firstActionWithin: 'PT1H', downWithin: 'PT12H', warnBefore: 'PT2H' },
    { id: 'slow', match: { targetType: ['url', 'domain'] }, downWithin: 'P2D', warnBefore: 'PT6H', dryRun: true }
  ]
}
let gw: TestGateway

const facts = (n: number, provider: string, type: string, createdAt: number, over: Partial<SlaFacts> = {}): SlaFacts => ({
  caseId: `${provider}:fx${n}`,
  provider,
  target: { type, value: `https://fx${n}.example/` },
  threatClass: null,
  brand: { id: null, name: null },
  createdAt,
  status: 'in_progress',
  terminal: false,
  firstActionAt: createdAt + 60_000,
  downAt: null,
  ...over
})

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sla-routes-'))
  const path = join(dir, 'policy.json')
  writeFileSync(path, JSON.stringify(POLICY))
  gw = await testGateway({ clock, env: { SLA_POLICY_FILE: path } })
  const now = clock.now() // T0 + 48 h
  const fixture: SlaFacts[] = [
    // netcraft, rule fast (down due 12 h after creation)
    facts(1, 'netcraft', 'url', T0, { downAt: T0 + 5 * H }), // met
    facts(2, 'netcraft', 'url', T0, { downAt: T0 + 13 * H }), // breached (late)
    facts(3, 'netcraft', 'domain', now - 3 * H), // on_track (due in 9 h, warn 2 h)
    facts(4, 'netcraft', 'url', now - 11 * H), // at_risk (due in 1 h)
    facts(5, 'netcraft', 'url', now - 2 * H, { firstActionAt: null }), // breached (no first action within 1 h)
    // phishfort url / bforeai domain, rule slow (down due 48 h)
    facts(6, 'phishfort', 'url', T0 + H, { downAt: T0 + 40 * H }), // met
    facts(7, 'phishfort', 'url', T0 - H), // breached: 49 h, not down
    facts(8, 'bforeai', 'domain', T0 + 6 * H), // at_risk: due in 6 h
    facts(9, 'bforeai', 'domain', T0 + 20 * H), // on_track
    // no rule: email at phishfort
    facts(10, 'phishfort', 'email', T0 + 2 * H),
    // outside the window
    facts(11, 'netcraft', 'url', T0 - 10 * 24 * H, { downAt: T0 - 9 * 24 * H })
  ]
  for (const f of fixture) await gw.app.sla.store.track(f)
})
afterAll(async () => { await gw.close() })

describe('GET /v1/sla/policies', () => {
  it('lists the rules in match order, as the file gives them; read scope is enough', async () => {
    const res = await gw.app.inject({ url: '/v1/sla/policies', headers: auth('reader-secret-key') })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      origin: expect.stringMatching(/policy\.json$/) as unknown,
      downMilestone: 'vendor_status',
      rules: [{ id: 'fast', order: 1, rule: POLICY.rules[0] }, { id: 'slow', order: 2, rule: POLICY.rules[1] }]
    })
    expect((await gw.app.inject({ url: '/v1/sla/policies' })).statusCode).toBe(401)
  })
})

describe('GET /v1/analytics/sla', () => {
  it('matches the hand count over the fixture', async () => {
    const res = await gw.app.inject({ url: `/v1/analytics/sla?since=${new Date(T0 - 2 * H).toISOString()}`, headers: auth('reader-secret-key') })
    expect(res.statusCode, res.body).toBe(200)
    const r = res.json<Record<string, unknown>>()
    const c = (cases: number, met: number, breached: number, atRisk: number, onTrack: number): Record<string, unknown> =>
      ({ cases, met, breached, atRisk, onTrack, complianceRate: met + breached === 0 ? null : Math.round(met / (met + breached) * 10_000) / 10_000 })
    expect(r.until).toBe(new Date(clock.now()).toISOString())
    // cases 1-9 (10 has no rule, 11 is outside the window): met 1, 6; breached 2, 5, 7; at_risk 4, 8; on_track 3, 9
    expect(r.totals).toEqual(c(9, 2, 3, 2, 2))
    expect(r.byProvider).toEqual([
      { key: 'bforeai', ...c(2, 0, 0, 1, 1) },
      { key: 'netcraft', ...c(5, 1, 2, 1, 1) },
      { key: 'phishfort', ...c(2, 1, 1, 0, 0) }
    ])
    expect(r.byTargetType).toEqual([{ key: 'domain', ...c(3, 0, 0, 1, 2) }, { key: 'url', ...c(6, 2, 3, 1, 0) }])
    expect(r.byRule).toEqual([{ key: 'fast', ...c(5, 1, 2, 1, 1) }, { key: 'slow', ...c(4, 1, 1, 1, 1) }])
  })

  it('a window ending before it starts is a 400 problem', async () => {
    const res = await gw.app.inject({ url: `/v1/analytics/sla?since=${new Date(T0).toISOString()}&until=${new Date(T0 - H).toISOString()}`, headers: auth() })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  })
})
