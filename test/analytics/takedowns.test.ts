/**
 * GET /v1/analytics/takedowns over a scripted data set of known durations (320 cases across the three vendors, with
 * ties, reopenings and cases still open), fed to the milestones recorder as the case-events engine would, with the
 * memory store and with Redis. Every expected figure below is worked out by hand from the script (R-7 percentiles:
 * rank p·(n−1) of the sorted durations, linear between the two nearest ranks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const NOW = Date.parse('2026-11-01T00:00:00.000Z')
const MIN = 60_000
const HOUR = 3_600_000
const DAY = 24 * HOUR
const iso = (ms: number): string => new Date(ms).toISOString()

type Status = CaseChangeEvent['case']['status']
type CaseState = CaseChangeEvent['case']

/** one case's lifecycle: each step is the case as it is after a change, with when the gateway saw it */
interface Step { status: Status, observedAt: number, occurredAt?: number, patch?: Partial<CaseState>, type?: CaseChangeEvent['type'] }

function lifecycle (provider: CaseState['provider'], id: string, createdAt: number, targetType: CaseState['target']['type'], steps: Step[]): CaseChangeEvent[] {
  const events: CaseChangeEvent[] = []
  let previous: CaseChangeEvent['previous'] = null
  for (const [i, s] of steps.entries()) {
    const c: CaseState = { id: `${provider}:${id}`, provider, status: s.status, createdAt: iso(createdAt), updatedAt: null, target: { type: targetType }, ...s.patch }
    events.push({
      type: s.type ?? (i === 0 ? 'case.created' : 'case.status_changed'),
      occurredAt: s.occurredAt === undefined ? null : iso(s.occurredAt),
      observedAt: iso(s.observedAt),
      observedVia: 'poll',
      case: c,
      previous,
      sequence: i + 1
    })
    previous = { status: s.status, providerStatus: null }
  }
  return events
}

function script (): CaseChangeEvent[] {
  const all: CaseChangeEvent[] = []
  // PhishFort, url targets. 100 taken down: time to takedown 600·⌈k/2⌉ s (pairs of ties), dated by takedownTimestamp
  // (resolvedAt) although the poll saw it 5 minutes later; burning started 300·k s after creation (takedownStartedAt)
  const pfStart = Date.parse('2026-10-01T00:00:00.000Z')
  for (let k = 1; k <= 100; k++) {
    const created = pfStart + k * MIN
    const ttd = 600 * Math.ceil(k / 2) * 1000
    all.push(...lifecycle('phishfort', `pf-td-${k}`, created, 'url', [
      { status: 'received', observedAt: created + 1000 },
      { status: 'in_progress', observedAt: created + 300 * k * 1000 + 60_000, patch: { takedownStartedAt: iso(created + 300 * k * 1000) } },
      { status: 'taken_down', observedAt: created + ttd + 300_000, patch: { takedownStartedAt: iso(created + 300 * k * 1000), resolvedAt: iso(created + ttd) } }
    ]))
  }
  // 10 failed straight from review, 10 still in review (created 12 h, 24 h, ..., 120 h ago)
  for (let j = 0; j < 10; j++) {
    const created = pfStart + (200 + j) * MIN
    all.push(...lifecycle('phishfort', `pf-failed-${j}`, created, 'url', [
      { status: 'in_review', observedAt: created + 1000 },
      { status: 'failed', observedAt: created + DAY }
    ]))
    const open = NOW - (j + 1) * 12 * HOUR
    all.push(...lifecycle('phishfort', `pf-open-${j}`, open, 'url', [{ status: 'in_review', observedAt: open + 1000 }]))
  }

  // Cloudflare: 80 reports taken down, time to takedown 1800·⌈k/4⌉ s (ties of four), dated by the removal
  // mitigation's effective_date; first mitigated (an interstitial) at half of it. Odd k url, even k domain.
  const cfStart = Date.parse('2026-10-10T00:00:00.000Z')
  for (let k = 1; k <= 80; k++) {
    const created = cfStart + k * MIN
    const ttd = 1800 * Math.ceil(k / 4) * 1000
    const interstitial = { id: `m${k}-1`, type: 'phishing_interstitial', status: 'active', effectiveAt: iso(created + ttd / 2), entityType: 'zone', entityId: 'z' }
    const suspend = { id: `m${k}-2`, type: 'account_suspend', status: 'active', effectiveAt: iso(created + ttd), entityType: 'account', entityId: 'a' }
    const steps: Step[] = [
      { status: 'in_review', observedAt: created + 1000 },
      { status: 'mitigated', observedAt: created + ttd / 2 + 120_000, patch: { mitigations: [interstitial] } },
      { status: 'taken_down', observedAt: created + ttd + 120_000, patch: { mitigations: [interstitial, suspend] } }
    ]
    // ten of them are reopened after an appeal: their first takedown still counts, their status is open again
    if (k % 8 === 0) steps.push({ status: 'in_progress', type: 'case.reopened', observedAt: created + ttd + DAY, patch: { mitigations: [] } })
    all.push(...lifecycle('cloudflare', `cf-td-${k}`, created, k % 2 === 1 ? 'url' : 'domain', steps))
  }
  for (let j = 0; j < 20; j++) {
    const created = cfStart + (100 + j) * MIN
    all.push(...lifecycle('cloudflare', `cf-closed-${j}`, created, 'url', [
      { status: 'in_review', observedAt: created + 1000 },
      { status: 'closed', observedAt: created + 2 * DAY, patch: { mitigations: [] } }
    ]))
  }

  // BforeAI, social targets: 60 taken down in 3600·⌈k/3⌉ s (ties of three), dated by the takedown's updated_at;
  // in progress 1800 s after creation by the event's vendor time
  const bfStart = Date.parse('2026-10-15T00:00:00.000Z')
  for (let k = 1; k <= 60; k++) {
    const created = bfStart + k * 10 * MIN
    const ttd = 3600 * Math.ceil(k / 3) * 1000
    all.push(...lifecycle('bforeai', `bf-td-${k}`, created, 'social', [
      { status: 'received', observedAt: created + 1000, patch: { updatedAt: iso(created) } },
      { status: 'in_progress', observedAt: created + 1800_000 + 30_000, occurredAt: created + 1800_000, patch: { updatedAt: iso(created + 1800_000) } },
      { status: 'taken_down', observedAt: created + ttd + 30_000, patch: { updatedAt: iso(created + ttd) } }
    ]))
  }
  for (let j = 0; j < 30; j++) {
    const created = Date.parse('2026-10-20T00:00:00.000Z') + j * MIN
    all.push(...lifecycle('bforeai', `bf-cancelled-${j}`, created, 'social', [
      { status: 'received', observedAt: created + 1000 },
      { status: 'cancelled', observedAt: created + HOUR }
    ]))
  }
  // ten received in September, 40 days ago, never touched
  for (let j = 0; j < 10; j++) {
    const created = NOW - 40 * DAY + j * MIN
    all.push(...lifecycle('bforeai', `bf-open-${j}`, created, 'social', [{ status: 'received', observedAt: created + 1000 }]))
  }
  return all
}

const zeroStatuses = { received: 0, in_review: 0, awaiting_customer: 0, monitoring: 0, in_progress: 0, mitigated: 0, taken_down: 0, failed: 0, cancelled: 0, closed: 0, unknown: 0 }

describe.each(['memory', 'redis'] as const)('takedown analytics (%s store)', (store) => {
  let gw: TestGateway
  const events = script()

  beforeAll(async () => {
    gw = await testGateway({ store })
    gw.clock.set(NOW)
    // events of different cases interleave as a watcher would see them
    const byTime = [...events].sort((a, b) => Date.parse(a.observedAt) - Date.parse(b.observedAt))
    for (const e of byTime) expect(await gw.app.milestones.record(e)).toBe('recorded')
  })
  afterAll(async () => { await gw?.close() })

  const get = async (query: string): Promise<any> => {
    const res = await gw.app.inject({ method: 'GET', url: `/v1/analytics/takedowns${query}`, headers: auth('reader-secret-key') })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  it('per provider: exact counts, success rates, medians and p90s', async () => {
    const report = await get('?groupBy=provider')
    expect(report.groupBy).toEqual(['provider'])
    expect(report.generatedAt).toBe(iso(NOW))
    expect(report.groups.map((g: any) => g.key)).toEqual([{ provider: 'bforeai' }, { provider: 'cloudflare' }, { provider: 'phishfort' }])
    const [bf, cf, pf] = report.groups

    expect(pf).toEqual({
      key: { provider: 'phishfort' },
      cases: 120,
      statuses: { ...zeroStatuses, in_review: 10, taken_down: 100, failed: 10 },
      takenDown: 100,
      failed: 10,
      cancelled: 0,
      successRate: 100 / 110,
      reopened: 0,
      // sorted: 600,600,1200,1200,…,30000,30000; rank 49.5 → (15000+15600)/2; rank 89.1 → 27000 + 0.1·600
      timeToTakedown: { count: 100, median: 15300, p90: 27060, max: 30000, vendorTimed: 100, worstPrecisionSeconds: 0 },
      // 300·k for k = 1..100: rank 49.5 → (15000+15300)/2; rank 89.1 → 27000 + 0.1·300
      timeToFirstAction: { count: 100, median: 15150, p90: 27030 },
      backlog: { '<1d': 1, '1-7d': 9, '7-30d': 0, '>30d': 0 }
    })

    expect(cf).toEqual({
      key: { provider: 'cloudflare' },
      cases: 100,
      statuses: { ...zeroStatuses, in_progress: 10, taken_down: 70, closed: 20 },
      takenDown: 70,
      failed: 0,
      cancelled: 0,
      successRate: 70 / 90,
      reopened: 10,
      // 1800·⌈k/4⌉, k = 1..80: rank 39.5 → (18000+19800)/2; rank 71.1 → 32400 + 0.1·1800
      timeToTakedown: { count: 80, median: 18900, p90: 32580, max: 36000, vendorTimed: 80, worstPrecisionSeconds: 0 },
      timeToFirstAction: { count: 80, median: 9450, p90: 16290 },
      // the reopened ones, created on 10 October: 21 days old
      backlog: { '<1d': 0, '1-7d': 0, '7-30d': 10, '>30d': 0 }
    })

    expect(bf).toEqual({
      key: { provider: 'bforeai' },
      cases: 100,
      statuses: { ...zeroStatuses, received: 10, taken_down: 60, cancelled: 30 },
      takenDown: 60,
      failed: 0,
      cancelled: 30,
      successRate: 60 / 90,
      reopened: 0,
      // 3600·⌈k/3⌉, k = 1..60: rank 29.5 → (36000+39600)/2; rank 53.1 → 64800 + 0.1·3600
      timeToTakedown: { count: 60, median: 37800, p90: 65160, max: 72000, vendorTimed: 60, worstPrecisionSeconds: 0 },
      timeToFirstAction: { count: 60, median: 1800, p90: 1800 },
      backlog: { '<1d': 0, '1-7d': 0, '7-30d': 0, '>30d': 10 }
    })
  })

  it('filters by creation time, provider and target type, and groups by month and target type', async () => {
    const october = await get('?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&groupBy=provider,month')
    expect(october.groups.map((g: any) => [g.key, g.cases])).toEqual([
      [{ provider: 'bforeai', month: '2026-10' }, 90],
      [{ provider: 'cloudflare', month: '2026-10' }, 100],
      [{ provider: 'phishfort', month: '2026-10' }, 120]
    ])
    const all = await get('?groupBy=month')
    expect(all.groups.map((g: any) => [g.key.month, g.cases])).toEqual([['2026-09', 10], ['2026-10', 310]])

    const cfTypes = await get('?provider=cloudflare&groupBy=targetType')
    const [domain, url] = cfTypes.groups
    expect(domain.key).toEqual({ targetType: 'domain' })
    expect(domain.cases).toBe(40)
    // even k: 1800·⌈k/4⌉ for k = 2,4,…,80 → two of each multiple 1800..36000; rank 19.5 → (18000+19800)/2
    expect(domain.timeToTakedown).toMatchObject({ count: 40, median: 18900, max: 36000 })
    expect(url.key).toEqual({ targetType: 'url' })
    expect(url.cases).toBe(60)

    const social = await get('?targetType=social')
    expect(social.groups).toHaveLength(1)
    expect(social.groups[0].key).toEqual({})
    expect(social.groups[0].cases).toBe(100)
    expect(social.groups[0].takenDown).toBe(60)

    const none = await get('?from=2027-01-01T00:00:00Z')
    expect(none.groups).toEqual([])
  })

  it('ignores a redelivered event and observes each first takedown once in Prometheus', async () => {
    const replay = events.find(e => e.case.id === 'phishfort:pf-td-7' && e.case.status === 'taken_down')!
    expect(await gw.app.milestones.record(replay)).toBe('duplicate')
    const metrics = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('takedown_gateway_time_to_takedown_seconds_count{provider="phishfort",target_type="url"} 100')
    expect(metrics).toContain('takedown_gateway_time_to_takedown_seconds_count{provider="cloudflare",target_type="domain"} 40')
    expect(metrics).toContain('takedown_gateway_time_to_takedown_seconds_count{provider="bforeai",target_type="social"} 60')
    // phishfort 600·⌈k/2⌉ ≤ 3600 for k ≤ 12
    expect(metrics).toContain('takedown_gateway_time_to_takedown_seconds_bucket{le="3600",provider="phishfort",target_type="url"} 12')
    expect(metrics).toContain('takedown_gateway_open_cases{provider="bforeai",status="received"} 10')
    expect(metrics).toContain('takedown_gateway_open_cases{provider="cloudflare",status="in_progress"} 10')
    expect(metrics).toContain('takedown_gateway_open_cases{provider="phishfort",status="in_review"} 10')
  })

  it('answers bad parameters with a problem', async () => {
    for (const query of ['?groupBy=brand', '?provider=acme', '?from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z', '?from=yesterday']) {
      const res = await gw.app.inject({ method: 'GET', url: `/v1/analytics/takedowns${query}`, headers: auth('reader-secret-key') })
      expect(res.statusCode, query).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json().requestId).toBeTypeOf('string')
    }
  })
})
