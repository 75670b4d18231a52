/**
 * The small internet wired into a sandbox gateway, end to end on a manual clock: cases created through the API at the
 * PhishFort simulator, whose hosts the small internet plays (a site taken down with the vendor, one that comes back,
 * one that stays up), probed by the gateway's own monitor through the sandbox's resolver and route. The vendor's
 * takedown is read through the API; `target.verified_down`, `target.reappeared` and `target.disputed` land in the
 * event log and `GET /v1/cases/{id}/checks` shows the probes. The system resolver is spied on and never asked.
 */
import dns from 'node:dns'
import { Resolver as PromiseResolver } from 'node:dns/promises'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { probed, start, vendorSaid } from '../../src/features/verification/lifecycle.js'
import { verificationFeature, type VerificationWiring } from '../../src/features/verification/plugin.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { fateOf, TIMES, type Fate } from '../../src/simulators/targets/fates.js'
import { hostOfValue } from '../../src/simulators/targets/index.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { eventually } from '../support/receiver.js'

const MIN = 60_000
const HOUR = 60 * MIN
const clock = new ManualClock(Date.parse('2026-11-02T08:00:00.000Z'))
let gw: TestGateway
const spies: MockInstance[] = []

/** a host name the small internet gives this story (its page, once down, is any but NXDOMAIN: the URL still has a host to name) */
function hostWith (fate: Fate): string {
  for (let i = 0; ; i++) {
    const host = `e2e-kit-${i}.sandbox.example`
    if (fateOf(host) === fate) return host
  }
}

beforeAll(async () => {
  // the system resolver, every way the process could reach it: none may be asked
  spies.push(
    vi.spyOn(PromiseResolver.prototype, 'resolve4'), vi.spyOn(PromiseResolver.prototype, 'resolve6'), vi.spyOn(PromiseResolver.prototype, 'resolveCname'),
    vi.spyOn(dns.Resolver.prototype, 'resolve4'), vi.spyOn(dns, 'lookup'), vi.spyOn(dns.promises, 'lookup')
  )
  gw = await testGateway({ clock, env: { VERIFY_ENABLED: 'true', VERIFY_TICK_MS: '3600000' } })
  // the servers' listen('127.0.0.1') at start goes through dns.lookup (an address, no query): from here on, none
  for (const s of spies) s.mockClear()
})
afterAll(async () => {
  await gw.close()
  for (const s of spies) s.mockRestore()
})

const tick = async (): Promise<number> => await gw.app.verification.monitor.tick()

describe('the sandbox gateway probes the small internet', () => {
  it('verified_down, reappeared and disputed from the vendor simulator\'s cases; the checks show the probes', async () => {
    const hosts = { gone: hostWith('taken_down'), back: hostWith('comes_back'), up: hostWith('stays_up') }
    const ids: Record<string, string> = {}
    for (const [k, host] of Object.entries(hosts)) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'phishfort', target: { type: 'url', value: `https://${host}/secure/login` } } })
      expect(res.statusCode, res.body).toBe(201)
      ids[k] = res.json<{ id: string }>().id
    }
    const record = async (k: string): Promise<Record<string, unknown> | null> => await gw.app.verification.store.get(ids[k] as string) as Record<string, unknown> | null
    expect(await eventually(async () => (await Promise.all(Object.keys(ids).map(record))).every(r => r !== null))).toBe(true)

    // the baseline: every site is up while PhishFort works on it
    expect(await tick()).toBe(3)
    for (const k of Object.keys(ids)) expect(await record(k)).toMatchObject({ state: 'live' })

    // a day later PhishFort says takedown_success; reading the cases tells the gateway
    clock.advance(24 * HOUR + MIN)
    const downAt = clock.now()
    for (const id of Object.values(ids)) {
      const c = await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}`, headers: auth() })
      expect(c.json<{ status: string }>().status).toBe('taken_down')
    }
    expect(await eventually(async () => (await Promise.all(Object.keys(ids).map(record))).every(r => r?.vendorStatus === 'taken_down'))).toBe(true)

    // the confirmation run: three probes, VERIFY_CONFIRM_SPACING (10 min) apart
    for (let i = 0; i < 3; i++) {
      expect(await tick()).toBe(3)
      clock.advance(10 * MIN)
    }
    expect(await record('gone')).toMatchObject({ state: 'verified_down' })
    expect(await record('back')).toMatchObject({ state: 'verified_down' })
    expect(await record('up')).toMatchObject({ state: 'disputed' })

    // monitoring, hourly on the first day: the kit that comes back is seen 12 h after the takedown
    while (clock.now() < downAt + TIMES.backAfterMs + HOUR) {
      clock.advance(HOUR)
      await tick()
    }
    expect(await record('back')).toMatchObject({ state: 'reappeared' })
    expect(await record('gone')).toMatchObject({ state: 'verified_down' })

    const feed = await gw.app.inject({ url: '/v1/events?types=target.verified_down,target.reappeared,target.disputed', headers: auth() })
    expect(feed.statusCode, feed.body).toBe(200)
    const seen = feed.json<{ items: Array<{ type: string, data: { caseId: string } }> }>().items.map(e => `${e.type} ${e.data.caseId}`).sort()
    expect(seen).toEqual([
      `target.disputed ${ids.up}`, `target.reappeared ${ids.back}`, `target.verified_down ${ids.back}`, `target.verified_down ${ids.gone}`
    ].sort())

    // the probe history through the API: newest first, the site's own URL (port 443, routed to loopback), TLS facts
    const checks = await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(ids.back as string)}/checks?limit=100`, headers: auth() })
    expect(checks.statusCode, checks.body).toBe(200)
    const page = checks.json<{ verification: { state: string }, items: Array<Record<string, any>>, total: number }>()
    expect(page.verification.state).toBe('reappeared')
    expect(page.total).toBeGreaterThanOrEqual(5)
    expect(page.items[0]).toMatchObject({ outcome: 'live', reason: 'same page as the first live capture', url: `https://${hosts.back}/secure/login`, finalStatus: 200 })
    expect(page.items[0]?.tls).toMatchObject({ issuer: expect.stringContaining('Small Internet'), error: expect.any(String) })
    expect(page.items.at(-1)).toMatchObject({ outcome: 'live' })
    expect(page.items.some(c => c.outcome === 'down' || c.outcome === 'blocked')).toBe(true)

    // every name was answered by the sandbox's resolver; the system resolver was never asked
    expect(gw.sandbox.internet?.stats.dns).toBeGreaterThan(0)
    for (const s of spies) expect(s).not.toHaveBeenCalled()
  })

  it('a gateway outside sandbox mode refuses the small internet: its route never reaches a live probe', async () => {
    const internet = gw.sandbox.internet
    expect(internet).toBeDefined()
    const live = Fastify({ logger: false })
    const wiring = { config: loadConfig({ SANDBOX: 'true', LOG_LEVEL: 'silent' }).verify, sandbox: false, internet } as unknown as VerificationWiring
    await expect(live.register(verificationFeature, wiring).ready()).rejects.toThrow(/sandbox/)
    await live.close()
  })
})

describe('each simulator\'s word on its targets', () => {
  it('agrees with the gateway\'s unified status of the same case: down exactly when mitigated or taken_down', async () => {
    // a Web Risk submission is a case of the gateway's own record: one is filed, and its review ends
    const filed = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: PROVIDER_MODULES.webrisk.exampleCreate({ type: 'url', value: 'https://webrisk-kit.sandbox.example/login' }) })
    expect(filed.statusCode, filed.body).toBe(201)
    clock.advance(HOUR)
    const cases: Array<{ provider: string, createdAt: string, status: string, target: { value: string } }> = []
    let cursor: string | undefined
    do {
      const res = await gw.app.inject({ url: `/v1/cases?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, headers: auth() })
      expect(res.statusCode, res.body).toBe(200)
      cases.push(...res.json().items)
      cursor = res.json().nextCursor ?? undefined
    } while (cursor !== undefined)
    const disagree: string[] = []
    const matched = new Map<string, number>()
    for (const id of PROVIDER_IDS) {
      for (const t of gw.sandbox.running[id].sim.targets?.() ?? []) {
        const host = hostOfValue(t.value)
        // the same case: provider, host and creation time (Netcraft's wire times have whole seconds)
        const c = cases.find(c => c.provider === id && hostOfValue(c.target.value) === host && Math.abs(Date.parse(c.createdAt) - t.createdAt) < 1000)
        if (host === null || c === undefined) continue
        matched.set(id, (matched.get(id) ?? 0) + 1)
        if (['mitigated', 'taken_down'].includes(c.status) !== (t.downAt !== null)) disagree.push(`${id} ${t.value}: gateway ${c.status}, simulator down since ${String(t.downAt)}`)
      }
    }
    expect(disagree).toEqual([])
    expect([...matched.keys()].sort()).toEqual([...PROVIDER_IDS].sort())
    expect([...matched.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(100)
  })
})

describe('SANDBOX_SPEED and the lifecycle', () => {
  it('every wait of the lifecycle is speed times shorter; time stamps stay where they are', () => {
    const settings = { confirmProbes: 3, confirmSpacingMs: 10 * MIN, monitorDays: 7, openEveryMs: 6 * HOUR, speed: 600 }
    const t0 = Date.parse('2026-11-02T08:00:00.000Z')
    const down = { outcome: 'down' as const, reason: 'http_404' }
    let v = probed(start({ id: 'c1', provider: 'phishfort', target: { type: 'domain', value: 'x.example' }, reportedAt: t0 }, true, t0),
      { outcome: 'live', reason: 'http_200' }, 'ffff0000ffff0000', settings, t0).next
    expect(v.nextCheckAt).toBe(t0 + 36_000) // 6 h / 600
    v = vendorSaid(v, true, t0 + 1000)
    let at = t0 + 1000
    for (let i = 0; i < 3; i++) {
      v = probed(v, down, null, settings, at).next
      at += 1000 // 10 min / 600
    }
    expect(v).toMatchObject({ state: 'verified_down', verifiedDownAt: at - 1000, monitorUntil: at - 1000 + 1_008_000, nextCheckAt: at - 1000 + 6000 })
    // without a speed (live mode), the same step waits the configured 10 minutes
    const slow = probed(vendorSaid(start({ id: 'c2', provider: 'phishfort', target: { type: 'domain', value: 'y.example' }, reportedAt: t0 }, true, t0), true, t0),
      down, null, { ...settings, speed: undefined }, t0).next
    expect(slow.nextCheckAt).toBe(t0 + 10 * MIN)
  })
})
