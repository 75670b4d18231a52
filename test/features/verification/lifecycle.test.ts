/**
 * The verification lifecycle end to end on the monitor: real probes of a loopback fixture site through an injected
 * resolver, a manual clock, the Redis store (two monitors sharing one Redis play two replicas). Scenarios of the
 * issue: live → vendor says taken_down → 3 down probes → verified_down → 7 days → stayed_down; back on day 3 →
 * reappeared (with `resubmit`, one new case across replicas); still live for the whole run → disputed; email/phone/
 * social → unprobeable.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { loadSignatures } from '../../../src/features/verification/classify.js'
import type { TargetEvent, Verification } from '../../../src/features/verification/lifecycle.js'
import { VerificationMonitor, type ReappearPolicy } from '../../../src/features/verification/monitor.js'
import { probeTarget } from '../../../src/features/verification/probe.js'
import type { DnsResolver } from '../../../src/features/verification/resolver.js'
import { HISTORY_LIMIT, RedisVerificationStore } from '../../../src/features/verification/store.js'
import type { TargetType } from '../../../src/schemas/common.js'

const DAY = 86_400_000
const KIT = '<html><head><title>Acme Bank</title></head><body><h1>Acme Bank online banking</h1><p>Please sign in to continue to your account and review your recent activity today.</p><form>Customer number Password</form></body></html>'

/** what each fixture host answers */
const mode = new Map<string, 'live' | '404' | 'parked' | 'nxdomain'>()
let site: Server
let port = 0
const clients: Redis[] = []

beforeAll(async () => {
  site = createServer((req, res) => {
    const m = mode.get((req.headers.host ?? '').split(':')[0] ?? '') ?? '404'
    if (m === 'live') res.writeHead(200, { 'content-type': 'text/html' }).end(KIT.replace('today', `at ${Date.now()}`))
    else if (m === 'parked') res.writeHead(200).end('<title>x</title><p>This domain may be for sale!</p>')
    else res.writeHead(404).end()
  })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  port = (site.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise(resolve => site.close(resolve))
  for (const c of clients) c.disconnect()
})

const resolver: DnsResolver = {
  resolve4: async (h) => {
    if (!mode.has(h) || mode.get(h) === 'nxdomain') throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
    return ['127.0.0.1']
  },
  resolve6: async () => [],
  resolveCname: async () => { throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' }) }
}

interface Replica { monitor: VerificationMonitor, events: Array<{ caseId: string, e: TargetEvent }>, resubmitted: string[] }

/** `resubmitFailures`: the first resubmits throw (a vendor failure, or the replica dying mid-policy); `actLeaseMs` of the monitors */
function replicas (n: number, clock: ManualClock, policy: ReappearPolicy = 'event', perHostPerMinute = 1_000, opts: { resubmitFailures?: { left: number }, actLeaseMs?: number } = {}): Replica[] {
  const prefix = `t-${randomUUID()}:`
  const { signatures } = loadSignatures(null)
  return Array.from({ length: n }, () => {
    const client = new Redis(inject('redisUrl'), { keyPrefix: prefix })
    clients.push(client)
    const r: Replica = { events: [], resubmitted: [], monitor: undefined as unknown as VerificationMonitor }
    r.monitor = new VerificationMonitor({
      store: new RedisVerificationStore(client),
      clock,
      signatures,
      lifecycle: { confirmProbes: 3, confirmSpacingMs: 600_000, monitorDays: 7, openEveryMs: 6 * 3_600_000 },
      probe: async (type: TargetType, value: string) => await probeTarget(type, value.replace('{port}', String(port)), {
        resolver, allowLoopback: true, timeoutMs: 2_000, maxBytes: 262_144, userAgent: 'test', proxyUrl: null, now: () => clock.now()
      }),
      perMinute: 1_000,
      perHostPerMinute,
      onReappear: policy,
      emit: async (v: Verification, e: TargetEvent) => { r.events.push({ caseId: v.caseId, e }) },
      ...(opts.actLeaseMs === undefined ? {} : { actLeaseMs: opts.actLeaseMs }),
      resubmit: async (v: Verification) => {
        if (opts.resubmitFailures !== undefined && opts.resubmitFailures.left-- > 0) throw new Error('vendor down')
        r.resubmitted.push(v.caseId)
        return { id: `${v.caseId}-again`, provider: v.provider, target: v.target, createdAt: new Date(clock.now()).toISOString() }
      }
    })
    return r
  })
}

const newCase = (host: string, clock: ManualClock): { id: string, provider: string, target: { type: TargetType, value: string }, createdAt: string } =>
  ({ id: `nc_${host.split('.')[0] ?? ''}`, provider: 'netcraft', target: { type: 'url', value: `http://${host}:{port}/login` }, createdAt: new Date(clock.now()).toISOString() })

/** moves the clock to the case's next check and ticks, until `until` says stop (at most `max` ticks) */
async function runUntil (r: Replica[], clock: ManualClock, caseId: string, until: (v: Verification) => boolean, each?: (v: Verification) => void, max = 200): Promise<Verification> {
  const store = new RedisVerificationStore(clients[clients.length - 1] as Redis)
  for (let i = 0; i < max; i++) {
    const v = await store.get(caseId)
    if (v === null) throw new Error('not tracked')
    if (until(v)) return v
    if (v.nextCheckAt === null) throw new Error(`stopped in ${v.state}`)
    clock.set(Math.max(clock.now(), v.nextCheckAt))
    each?.(v)
    await Promise.all(r.map(async x => await x.monitor.tick()))
  }
  throw new Error('did not get there')
}

/** a case on a live fixture host, tracked by `n` replicas, its baseline probe taken */
async function liveCase (host: string, n = 1, policy: ReappearPolicy = 'event'): Promise<{ clock: ManualClock, r: Replica[], c: ReturnType<typeof newCase>, v: Verification }> {
  const clock = new ManualClock('2026-11-02T00:00:00Z')
  const r = replicas(n, clock, policy)
  mode.set(host, 'live')
  const c = newCase(host, clock)
  await Promise.all(r.map(async x => await x.monitor.track(c)))
  const v = await runUntil(r, clock, c.id, x => x.checks === 1)
  return { clock, r, c, v }
}

describe('the verification lifecycle', () => {
  it('live → vendor says taken_down → 3 down probes → verified_down → 7 days → stayed_down', async () => {
    const host = 'kit-one.test'
    const { clock, r, c, v: baseline } = await liveCase(host)
    let v = baseline
    expect(v).toMatchObject({ state: 'live', firstSeenLiveAt: clock.now(), phase: 'open' })
    expect(v.baseline).toMatch(/^[0-9a-f]{16}$/)

    clock.advance(3_600_000)
    mode.set(host, '404')
    await r[0]?.monitor.vendorStatus(c.id, 'taken_down')
    const said = clock.now()
    v = await runUntil(r, clock, c.id, x => x.state === 'verified_down')
    expect(v.checks).toBe(4)
    expect(v.verifiedDownAt).toBe(said + 2 * 600_000)
    expect(v.firstDownAt).toBe(said)
    expect(r[0]?.events.map(x => x.e.type)).toEqual(['target.verified_down'])

    mode.set(host, 'nxdomain')
    const verifiedAt = v.verifiedDownAt ?? 0
    v = await runUntil(r, clock, c.id, x => x.phase === 'done')
    expect(v.state).toBe('stayed_down')
    expect(v.lastCheckedAt).toBe(verifiedAt + 7 * DAY)
    // hourly on day 1, 3-hourly to day 3, 6-hourly to day 7: 24 + 16 + 16 probes
    expect(v.checks - 4).toBe(24 + 16 + 16)
    expect(r[0]?.events.map(x => x.e.type)).toEqual(['target.verified_down', 'target.stayed_down'])
    // 60 probes, the newest HISTORY_LIMIT (50) kept: the lifecycle ran on the record, not on the trimmed history
    const { items, total } = await new RedisVerificationStore(clients[0] as Redis).checks(c.id, 0, 2)
    expect(v.checks).toBeGreaterThan(HISTORY_LIMIT)
    expect(total).toBe(HISTORY_LIMIT)
    expect(items[0]).toMatchObject({ outcome: 'down', reason: expect.stringMatching(/^nxdomain/) as string })
    expect(JSON.stringify(items)).not.toContain('Customer number')
  })

  it('a site back on day 3 is reappeared; with resubmit, two replicas file exactly one new case', async () => {
    const host = 'kit-two.test'
    const { clock, r, c } = await liveCase(host, 2, 'resubmit')
    mode.set(host, 'parked')
    await r[1]?.monitor.vendorStatus(c.id, 'mitigated')
    const v0 = await runUntil(r, clock, c.id, x => x.state === 'verified_down')
    const day3 = (v0.verifiedDownAt ?? 0) + 3 * DAY
    const v = await runUntil(r, clock, c.id, x => x.state === 'reappeared', x => { if ((x.nextCheckAt ?? 0) >= day3) mode.set(host, 'live') })
    expect(v.reappearances).toBe(1)
    expect(v.lastSeenLiveAt).toBeGreaterThanOrEqual(day3)
    const all = r.flatMap(x => x.events.map(e => e.e.type))
    expect(all.filter(t => t === 'target.reappeared')).toHaveLength(1)
    expect(all.filter(t => t === 'target.verified_down')).toHaveLength(1)
    expect(r.flatMap(x => x.resubmitted)).toEqual([c.id])
    // linked both ways in the records; the new case is tracked from its creation
    const store = new RedisVerificationStore(clients.at(-1)!)
    expect(await store.get(c.id)).toMatchObject({ relatedCaseIds: [`${c.id}-again`] })
    expect(await store.get(`${c.id}-again`)).toMatchObject({ relatedCaseIds: [c.id], state: 'not_checked', target: c.target })
  })

  it('a re-emergence policy that failed stays owed: a later tick (of any replica) completes it once, and 5 failures give up', async () => {
    const clock = new ManualClock('2026-11-02T00:00:00Z')
    const failures = { left: 1 }
    const r = replicas(2, clock, 'resubmit', 1_000, { resubmitFailures: failures, actLeaseMs: 1 })
    const host = 'kit-owed.test'
    mode.set(host, 'live')
    const c = newCase(host, clock)
    await r[0]?.monitor.track(c)
    await runUntil(r.slice(0, 1), clock, c.id, x => x.checks === 1)
    mode.set(host, '404')
    await r[0]?.monitor.vendorStatus(c.id, 'taken_down')
    await runUntil(r.slice(0, 1), clock, c.id, x => x.state === 'verified_down')
    mode.set(host, 'live')
    // the re-emergence step is written, its resubmit fails: still owed, nothing filed
    const v = await runUntil(r.slice(0, 1), clock, c.id, x => x.state === 'reappeared')
    expect(v).toMatchObject({ pendingReappear: 1, pendingAttempts: 1 })
    expect(r.flatMap(x => x.resubmitted)).toEqual([])
    // the other replica's ticks (nothing due to probe) complete it once the failed attempt's 1 ms lease ran out
    for (let i = 0; i < 1_000 && r[1]?.resubmitted.length === 0; i++) await r[1]?.monitor.tick()
    await Promise.all(r.map(async x => await x.monitor.tick()))
    expect(r[1]?.resubmitted).toEqual([c.id])
    expect(r.flatMap(x => x.resubmitted)).toHaveLength(1)
    const store = new RedisVerificationStore(clients.at(-1)!)
    expect(await store.get(c.id)).toMatchObject({ pendingReappear: null, relatedCaseIds: [`${c.id}-again`] })
    expect(await store.pending(10)).toEqual([])

    // a policy that keeps failing is given up after 5 attempts
    failures.left = 100
    await store.put(await store.get(c.id), { ...(await store.get(c.id))!, pendingReappear: 2, pendingAttempts: 0 })
    for (let i = 0; i < 5_000 && (await store.get(c.id))?.pendingReappear !== null; i++) await r[0]?.monitor.tick()
    expect(await store.get(c.id)).toMatchObject({ pendingReappear: null, pendingAttempts: 0 })
    expect(failures.left).toBe(95)
  })

  it('the vendor says taken_down while the page stays live for the whole run: disputed', async () => {
    const { clock, r, c } = await liveCase('kit-three.test')
    await r[0]?.monitor.vendorStatus(c.id, 'taken_down')
    const v = await runUntil(r, clock, c.id, x => x.state === 'disputed')
    expect(v.checks).toBe(4)
    expect(v.verifiedDownAt).toBeNull()
    expect(r[0]?.events.map(x => x.e.type)).toEqual(['target.disputed'])
  })

  it('email, phone and social targets are unprobeable and never probed', async () => {
    const clock = new ManualClock('2026-11-02T00:00:00Z')
    const r = replicas(1, clock)
    for (const [type, value] of [['email', 'x@acme.example'], ['phone', '+14155550100'], ['social', 'https://social.example/acme']] as const) {
      const v = await r[0]?.monitor.track({ id: `nc_${type}`, provider: 'netcraft', target: { type, value }, createdAt: new Date(clock.now()).toISOString() })
      expect(v).toMatchObject({ state: 'unprobeable', phase: 'done', nextCheckAt: null })
    }
    expect(await r[0]?.monitor.tick()).toBe(0)
  })

  it('the budget per target host holds probes of one host back to the next minute', async () => {
    const clock = new ManualClock('2026-11-02T00:00:00Z')
    const [one] = replicas(1, clock, 'event', 2)
    if (one === undefined) throw new Error('no replica')
    const host = 'shared-host.test'
    mode.set(host, 'live')
    for (let i = 0; i < 3; i++) await one.monitor.track({ ...newCase(host, clock), id: `nc_shared${i}` })
    expect(await one.monitor.tick()).toBe(2)
    expect(await one.monitor.tick()).toBe(0)
    clock.advance(60_001)
    expect(await one.monitor.tick()).toBe(1)
  })
})
