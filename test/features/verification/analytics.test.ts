/**
 * Verification analytics against a hand-computed fixture (ADR 0045). Seven cases are driven through the real
 * lifecycle (start, vendorSaid, probed) on a manual clock and written through the store's compare-and-set, the write
 * that also keeps each case's 32-byte outcome row: in memory (a gateway without Redis) and in the suite's Redis, read
 * back by a fresh gateway on the same prefix (the figures survive a restart) through GET /v1/analytics/verification.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { verificationReport } from '../../../src/features/verification/analytics.js'
import type { Verdict } from '../../../src/features/verification/classify.js'
import { probed, start, vendorSaid, type LifecycleSettings, type Verification } from '../../../src/features/verification/lifecycle.js'
import { MemoryVerificationStore, RedisVerificationStore, type VerificationStore } from '../../../src/features/verification/store.js'
import type { TargetType } from '../../../src/schemas/common.js'
import { auth, testGateway } from '../../support/app.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const T0 = Date.parse('2026-11-02T00:00:00Z')
const S: LifecycleSettings = { confirmProbes: 3, confirmSpacingMs: 10 * MIN, monitorDays: 7, openEveryMs: 6 * HOUR }

type Step = [atMs: number, what: 'live' | 'down' | 'taken_down']

/**
 * The fixture, times after each case's creation (T0 = 2026-11-02, except G):
 *   A netcraft url     live 0; vendor taken_down 1h; down 1h, 1h10, 1h20 (verified at 4800 s); down at 1h20 + 7 d: stayed_down
 *   B netcraft url     live 0; vendor taken_down 2h; down 2h, 2h10, 2h20 (verified at 8400 s); live 3h20 (re-emerged in monitoring);
 *                      down 9h20, 9h30, 9h40 (verified again: the first verification still counts)
 *   C netcraft url     live 0; vendor taken_down 30m; live 30m, 40m, 50m: disputed
 *   D netcraft domain  down 0 (down on its baseline probe; the vendor never says anything)
 *   E phishfort url    live 0; vendor taken_down 4h; down 4h, 4h10, 4h20 (verified at 15600 s)
 *   F netcraft email   unprobeable (counted as a case, no figures)
 *   G netcraft url     created 2026-10-15, verified 1h20 later: outside the window of November
 */
const FIXTURE: Array<{ id: string, provider: string, type: TargetType, value: string, createdAt: number, steps: Step[] }> = [
  { id: 'A', provider: 'netcraft', type: 'url', value: 'https://a.example/login', createdAt: T0, steps: [[0, 'live'], [HOUR, 'taken_down'], [HOUR, 'down'], [HOUR + 10 * MIN, 'down'], [HOUR + 20 * MIN, 'down'], [HOUR + 20 * MIN + 7 * DAY, 'down']] },
  {
    id: 'B',
    provider: 'netcraft',
    type: 'url',
    value: 'https://b.example/login',
    createdAt: T0,
    steps: [[0, 'live'], [2 * HOUR, 'taken_down'], [2 * HOUR, 'down'], [2 * HOUR + 10 * MIN, 'down'], [2 * HOUR + 20 * MIN, 'down'], [3 * HOUR + 20 * MIN, 'live'],
      [9 * HOUR + 20 * MIN, 'down'], [9 * HOUR + 30 * MIN, 'down'], [9 * HOUR + 40 * MIN, 'down']]
  },
  { id: 'C', provider: 'netcraft', type: 'url', value: 'https://c.example/login', createdAt: T0, steps: [[0, 'live'], [30 * MIN, 'taken_down'], [30 * MIN, 'live'], [40 * MIN, 'live'], [50 * MIN, 'live']] },
  { id: 'D', provider: 'netcraft', type: 'domain', value: 'd.example', createdAt: T0, steps: [[0, 'down']] },
  { id: 'E', provider: 'phishfort', type: 'url', value: 'https://e.example/login', createdAt: T0, steps: [[0, 'live'], [4 * HOUR, 'taken_down'], [4 * HOUR, 'down'], [4 * HOUR + 10 * MIN, 'down'], [4 * HOUR + 20 * MIN, 'down']] },
  { id: 'F', provider: 'netcraft', type: 'email', value: 'f@acme.example', createdAt: T0, steps: [] },
  { id: 'G', provider: 'netcraft', type: 'url', value: 'https://g.example/login', createdAt: Date.parse('2026-10-15T00:00:00Z'), steps: [[0, 'live'], [HOUR, 'taken_down'], [HOUR, 'down'], [HOUR + 10 * MIN, 'down'], [HOUR + 20 * MIN, 'down']] }
]

const VERDICT: Record<'live' | 'down', Verdict> = { live: { outcome: 'live', reason: 'same_page' }, down: { outcome: 'down', reason: 'http_404' } }

/** each case through the lifecycle, every step written with the store's compare-and-set (as the monitor does) */
async function drive (store: VerificationStore, clock: ManualClock): Promise<Map<string, Verification>> {
  const out = new Map<string, Verification>()
  for (const c of FIXTURE) {
    clock.set(c.createdAt)
    let v = start({ id: `fx_${c.id}`, provider: c.provider, target: { type: c.type, value: c.value }, reportedAt: c.createdAt }, c.type !== 'email', clock.now())
    expect(await store.put(null, v)).toBe(true)
    for (const [at, what] of c.steps) {
      clock.set(c.createdAt + at)
      const next = what === 'taken_down' ? vendorSaid(v, true, clock.now()) : probed(v, VERDICT[what], what === 'live' ? 'aaaaaaaaaaaaaaaa' : null, S, clock.now()).next
      expect(await store.put(v, next)).toBe(true)
      v = next
    }
    out.set(c.id, v)
  }
  return out
}

const NOVEMBER = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' }
const none = { count: 0, median: null, p90: null, mean: null }

/*
 * By provider and target type (November):
 *   netcraft/url: A, B, C = 3 cases
 *     verified TTD: A 4800, B 8400 → median (4800 + 8400) / 2 = 6600; p90 at rank 0.9 × 1 = 0.9: 4800 + 0.9 × 3600 = 8040; mean 6600
 *     live after report: A 3600, B 7200 → median 5400; p90 3600 + 0.9 × 3600 = 6840; mean 5400
 *     re-emergence: verified A, B; B came back in monitoring → 1 / 2 = 0.5
 *     dispute: claimed A, B, C; C disputed → 1 / 3
 *     stayed down: A
 *   netcraft/domain: D = 1 case; live after report 0 (down on its baseline probe); nothing claimed or verified
 *   netcraft/email: F = 1 case, no figures
 *   phishfort/url: E = 1 case; verified TTD 15600; live after report 14400; 0 / 1 re-emerged; 0 / 1 disputed
 */
const BY_PROVIDER_AND_TYPE = [
  {
    key: { provider: 'netcraft', targetType: 'domain' },
    cases: 1,
    verifiedTimeToTakedown: none,
    liveTimeAfterReport: { count: 1, median: 0, p90: 0, mean: 0 },
    reemergence: { verifiedDown: 0, reappeared: 0, rate: null },
    dispute: { claimed: 0, disputed: 0, rate: null },
    stayedDown: 0
  },
  {
    key: { provider: 'netcraft', targetType: 'email' },
    cases: 1,
    verifiedTimeToTakedown: none,
    liveTimeAfterReport: none,
    reemergence: { verifiedDown: 0, reappeared: 0, rate: null },
    dispute: { claimed: 0, disputed: 0, rate: null },
    stayedDown: 0
  },
  {
    key: { provider: 'netcraft', targetType: 'url' },
    cases: 3,
    verifiedTimeToTakedown: { count: 2, median: 6600, p90: 8040, mean: 6600 },
    liveTimeAfterReport: { count: 2, median: 5400, p90: 6840, mean: 5400 },
    reemergence: { verifiedDown: 2, reappeared: 1, rate: 0.5 },
    dispute: { claimed: 3, disputed: 1, rate: 1 / 3 },
    stayedDown: 1
  },
  {
    key: { provider: 'phishfort', targetType: 'url' },
    cases: 1,
    verifiedTimeToTakedown: { count: 1, median: 15600, p90: 15600, mean: 15600 },
    liveTimeAfterReport: { count: 1, median: 14400, p90: 14400, mean: 14400 },
    reemergence: { verifiedDown: 1, reappeared: 0, rate: 0 },
    dispute: { claimed: 1, disputed: 0, rate: 0 },
    stayedDown: 0
  }
]

/*
 * One group over November (A B C D E F; G is October):
 *   verified TTD 4800, 8400, 15600 → median 8400; p90 at rank 0.9 × 2 = 1.8: 8400 + 0.8 × (15600 − 8400) = 14160; mean 28800 / 3 = 9600
 *   live after report 0, 3600, 7200, 14400 → median at rank 1.5: 3600 + 0.5 × 3600 = 5400;
 *     p90 at rank 2.7: 7200 + 0.7 × (14400 − 7200) = 12240; mean 25200 / 4 = 6300
 *   re-emergence 1 (B) / 3 verified (A B E); dispute 1 (C) / 4 claimed (A B C E) = 0.25; stayed down 1 (A)
 */
const ALL_NOVEMBER = {
  key: {},
  cases: 6,
  verifiedTimeToTakedown: { count: 3, median: 8400, p90: 14160, mean: 9600 },
  liveTimeAfterReport: { count: 4, median: 5400, p90: 12240, mean: 6300 },
  reemergence: { verifiedDown: 3, reappeared: 1, rate: 1 / 3 },
  dispute: { claimed: 4, disputed: 1, rate: 0.25 },
  stayedDown: 1
}

const clients: Redis[] = []
afterAll(() => { for (const c of clients) c.disconnect() })

describe('verification analytics', () => {
  it('the lifecycle reaches the states the fixture says', async () => {
    const clock = new ManualClock(T0)
    const v = await drive(new MemoryVerificationStore(() => clock.now()), clock)
    expect(v.get('A')).toMatchObject({ state: 'stayed_down', firstVerifiedDownAt: T0 + 80 * MIN })
    expect(v.get('B')).toMatchObject({ state: 'verified_down', reappearances: 1, monitorReappearances: 1, firstVerifiedDownAt: T0 + 140 * MIN, verifiedDownAt: T0 + 9 * HOUR + 40 * MIN })
    expect(v.get('C')).toMatchObject({ state: 'disputed', disputedAt: T0 + 50 * MIN, vendorClaimedAt: T0 + 30 * MIN })
    expect(v.get('D')).toMatchObject({ state: 'down', firstDownAt: T0 })
    expect(v.get('F')).toMatchObject({ state: 'unprobeable' })
  })

  it('in memory (no Redis): the figures match the hand computation', async () => {
    const clock = new ManualClock(T0)
    const store = new MemoryVerificationStore(() => clock.now())
    await drive(store, clock)
    clock.set(T0 + 30 * DAY)
    const byPT = await verificationReport(store, clock, { ...NOVEMBER, groupBy: 'provider,targetType' })
    expect(byPT.groups).toEqual(BY_PROVIDER_AND_TYPE)
    expect((await verificationReport(store, clock, NOVEMBER)).groups).toEqual([ALL_NOVEMBER])
    // the filters: a provider, a target type, a window that only holds G
    expect((await verificationReport(store, clock, { ...NOVEMBER, provider: 'phishfort' })).groups).toEqual([{ ...BY_PROVIDER_AND_TYPE[3], key: {} }])
    expect((await verificationReport(store, clock, { ...NOVEMBER, targetType: 'domain' })).groups).toEqual([{ ...BY_PROVIDER_AND_TYPE[0], key: {} }])
    const october = await verificationReport(store, clock, { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', groupBy: 'month' })
    expect(october.groups).toMatchObject([{ key: { month: '2026-10' }, cases: 1, verifiedTimeToTakedown: { count: 1, median: 4800 } }])
  })

  it('in Redis: a fresh gateway on the same prefix serves the same figures through the API', async () => {
    const prefix = `t-vanal-${randomUUID()}:`
    const client = new Redis(inject('redisUrl'), { keyPrefix: prefix })
    clients.push(client)
    const clock = new ManualClock(T0)
    await drive(new RedisVerificationStore(client), clock)
    // each case's outcome row is 32 bytes: November's netcraft shard holds A B C D F
    expect((await client.getBuffer('tgw:v1:verify:{vf}:outcome-rows:netcraft:2026-11'))?.length).toBe(5 * 32)

    const gw = await testGateway({ store: 'redis', redisPrefix: prefix, clock: new ManualClock(T0 + 30 * DAY) })
    try {
      const res = await gw.app.inject({ url: `/v1/analytics/verification?from=${NOVEMBER.from}&to=${NOVEMBER.to}&groupBy=provider,targetType`, headers: auth() })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toEqual({ ...NOVEMBER, groupBy: ['provider', 'targetType'], generatedAt: new Date(T0 + 30 * DAY).toISOString(), groups: BY_PROVIDER_AND_TYPE })
      const all = await gw.app.inject({ url: `/v1/analytics/verification?from=${NOVEMBER.from}&to=${NOVEMBER.to}`, headers: auth() })
      expect(all.json<{ groups: unknown[] }>().groups).toEqual([ALL_NOVEMBER])

      const bad = await gw.app.inject({ url: '/v1/analytics/verification?groupBy=tld', headers: auth() })
      expect(bad.statusCode).toBe(400)
      expect(bad.headers['content-type']).toContain('application/problem+json')
      expect(bad.json()).toMatchObject({ allowed: ['provider', 'targetType', 'month'] })
      expect((await gw.app.inject({ url: '/v1/analytics/verification' })).statusCode).toBe(401)
    } finally {
      await gw.close()
    }
  })
})
