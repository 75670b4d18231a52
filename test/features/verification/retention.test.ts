/**
 * What verification keeps per case is bounded: checks are stored packed and read back exactly as the API shows them
 * (an entry in the older JSON form still reads), the history keeps the newest VERIFY_HISTORY_LIMIT (oldest trimmed
 * first; the route still pages newest first), and once a case's verification ends (stayed_down, or the vendor closed
 * the case) its record and history get the retention TTL in Redis while the analytics outcome row stays. The monitor
 * probes a loopback fixture site through an injected resolver on a manual clock; the store is the real Redis.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { packCheck, unpackCheck } from '../../../src/features/verification/check-pack.js'
import { loadSignatures } from '../../../src/features/verification/classify.js'
import { start, type Verification } from '../../../src/features/verification/lifecycle.js'
import { VerificationMonitor } from '../../../src/features/verification/monitor.js'
import { probeTarget } from '../../../src/features/verification/probe.js'
import type { DnsResolver } from '../../../src/features/verification/resolver.js'
import { MemoryVerificationStore, RedisVerificationStore, type Check } from '../../../src/features/verification/store.js'
import { auth, testGateway } from '../../support/app.js'

const DAY = 86_400_000
const RETENTION_MS = 30 * DAY
const KIT = '<html><head><title>Acme Bank</title></head><body><h1>Acme Bank online banking</h1><p>Please sign in to continue.</p></body></html>'
const mode = new Map<string, 'live' | '404'>()
let site: Server
let port = 0
const prefix = `t-retention-${randomUUID()}:`
let client: Redis
/** the same Redis without the prefix, to read TTLs of the real keys */
let raw: Redis

const resolver: DnsResolver = {
  resolve4: async (h) => {
    if (!mode.has(h)) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
    return ['127.0.0.1']
  },
  resolve6: async () => [],
  resolveCname: async () => { throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' }) }
}

beforeAll(async () => {
  site = createServer((req, res) => {
    if (mode.get((req.headers.host ?? '').split(':')[0] ?? '') === 'live') res.writeHead(200, { 'content-type': 'text/html' }).end(KIT)
    else res.writeHead(404).end()
  })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  port = (site.address() as AddressInfo).port
  client = new Redis(inject('redisUrl'), { keyPrefix: prefix })
  raw = new Redis(inject('redisUrl'))
})
afterAll(async () => {
  const keys = await raw.keys(`${prefix}*`)
  if (keys.length > 0) await raw.unlink(...keys)
  client.disconnect()
  raw.disconnect()
  await new Promise(resolve => site.close(resolve))
})

const history = (id: string): string => `${prefix}tgw:v1:verify:{vf}:checks:${id}`
const record = (id: string): string => `${prefix}tgw:v1:verify:{vf}:case:${id}`

function monitorOn (clock: ManualClock, historyLimit: number): { monitor: VerificationMonitor, store: RedisVerificationStore } {
  const store = new RedisVerificationStore(client, { historyLimit, retentionMs: RETENTION_MS })
  const monitor = new VerificationMonitor({
    store,
    clock,
    signatures: loadSignatures(null).signatures,
    lifecycle: { confirmProbes: 3, confirmSpacingMs: 600_000, monitorDays: 7, openEveryMs: 6 * 3_600_000 },
    probe: async (type, value) => await probeTarget(type, value.replace('{port}', String(port)), {
      resolver, allowLoopback: true, timeoutMs: 2_000, maxBytes: 262_144, userAgent: 'test', proxyUrl: null, now: () => clock.now()
    }),
    perMinute: 1_000,
    perHostPerMinute: 1_000,
    onReappear: 'event',
    emit: async () => {}
  })
  return { monitor, store }
}

async function track (monitor: VerificationMonitor, clock: ManualClock, host: string): Promise<string> {
  const id = `nc_${host.split('.')[0] ?? ''}`
  mode.set(host, 'live')
  await monitor.track({ id, provider: 'netcraft', target: { type: 'url', value: `http://${host}:{port}/login` }, createdAt: new Date(clock.now()).toISOString() })
  return id
}

/** ticks at each next check until `until` holds */
async function runUntil (m: VerificationMonitor, store: RedisVerificationStore, clock: ManualClock, id: string, until: (v: Verification) => boolean): Promise<Verification> {
  for (let i = 0; i < 200; i++) {
    const v = await store.get(id)
    if (v === null) throw new Error('not tracked')
    if (until(v)) return v
    if (v.nextCheckAt === null) throw new Error(`stopped in ${v.state}`)
    clock.set(Math.max(clock.now(), v.nextCheckAt))
    await m.tick()
  }
  throw new Error('did not get there')
}

describe('a stored check', () => {
  const check: Check = {
    id: randomUUID(),
    caseId: 'nc_1',
    at: '2026-11-02T10:00:00.123Z',
    outcome: 'blocked',
    reason: 'signature:cloudflare-phishing-warning',
    url: 'http://kit.test/login',
    dns: { code: 'ok', addresses: ['127.0.0.1'], cnames: ['edge.kit.test'] },
    redirects: [{ url: 'http://kit.test/login', status: 302 }, { url: 'https://kit.test/login', status: null }],
    finalStatus: 403,
    tls: { issuer: 'R11', validTo: '2027-01-01T00:00:00.000Z', error: null },
    bodySha256: 'ab'.repeat(32),
    fingerprint: '0123456789abcdef',
    title: 'Suspected phishing',
    bytes: 12_345,
    durationMs: 87
  }

  it('packs to a smaller form that reads back exactly as the API shows it', () => {
    const packed = packCheck(check)
    expect(unpackCheck('nc_1', packed)).toEqual(check)
    expect(packed.length).toBeLessThan(JSON.stringify(check).length * 0.75)
    expect(packed).not.toContain('nc_1')
    const bare: Check = { ...check, id: 'not-a-uuid', at: 'Mon, 02 Nov 2026 10:00:00 GMT', dns: null, redirects: [], tls: null, bodySha256: 'XYZ', fingerprint: null, title: null, finalStatus: null }
    expect(unpackCheck('nc_1', packCheck(bare))).toEqual(bare)
  })

  it('an entry of the older JSON form still reads from the history', async () => {
    const store = new RedisVerificationStore(client)
    const old = { ...check, caseId: 'nc_old' }
    await client.lpush('tgw:v1:verify:{vf}:checks:nc_old', JSON.stringify(old))
    await store.addCheck({ ...check, caseId: 'nc_old', id: randomUUID() })
    const { items, total } = await store.checks('nc_old', 0, 10)
    expect(total).toBe(2)
    expect(items[1]).toEqual(old)
  })
})

describe('the history limit', () => {
  it('keeps the newest checks, trims the oldest first, pages newest first; the lifecycle runs on after trimming', async () => {
    const clock = new ManualClock('2026-11-02T00:00:00Z')
    const { monitor, store } = monitorOn(clock, 3)
    const id = await track(monitor, clock, 'trim-one.test')
    const made: Check[] = []
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000)
      made.push((await monitor.probeNow(id))!)
    }
    expect(await raw.llen(history(id))).toBe(3)
    const first = await store.checks(id, 0, 2)
    expect(first.total).toBe(3)
    expect(first.items.map(c => c.id)).toEqual([made[4]!.id, made[3]!.id])
    expect(first.items[0]).toEqual(made[4])
    expect((await store.checks(id, 2, 2)).items.map(c => c.id)).toEqual([made[2]!.id])

    // a record reloaded by another store instance (another replica) after trimming still drives the lifecycle
    const other = monitorOn(clock, 3)
    mode.set('trim-one.test', '404')
    await other.monitor.vendorStatus(id, 'taken_down')
    const v = await runUntil(other.monitor, other.store, clock, id, x => x.state === 'verified_down')
    expect(v.checks).toBe(5 + 3)
    expect((await other.store.checks(id, 0, 10)).items.map(c => c.outcome)).toEqual(['down', 'down', 'down'])
  })

  it('VERIFY_HISTORY_LIMIT bounds what GET /v1/cases/{id}/checks pages through, newest first', async () => {
    mode.set('route-trim.test', 'live')
    const gw = await testGateway({ env: { VERIFY_ENABLED: 'true', VERIFY_TICK_MS: '3600000', VERIFY_HISTORY_LIMIT: '2' }, appOptions: { verifyResolver: resolver } })
    try {
      const created = await gw.app.inject({
        method: 'POST',
        url: '/v1/cases',
        headers: auth(),
        payload: { provider: 'bforeai', target: { type: 'url', value: `http://route-trim.test:${port}/login` }, brand: { id: 501 }, comment: 'clone' }
      })
      const caseId = created.json<{ id: string }>().id
      const ids: string[] = []
      for (let i = 0; i < 3; i++) {
        gw.clock.advance(61_000)
        const probed = await gw.app.inject({ method: 'POST', url: `/v1/cases/${caseId}/checks`, headers: auth() })
        expect(probed.statusCode).toBe(200)
        ids.push(probed.json<Check>().id)
      }
      const page1 = await gw.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/checks?limit=1`, headers: auth() })
      expect(page1.json()).toMatchObject({ verification: { checks: 3 }, total: 2, nextOffset: 1, items: [{ id: ids[2], caseId, outcome: 'live' }] })
      const page2 = await gw.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/checks?limit=1&offset=1`, headers: auth() })
      expect(page2.json()).toMatchObject({ total: 2, nextOffset: null, items: [{ id: ids[1] }] })
    } finally {
      await gw.close()
    }
  })
})

describe('retention once verification ends', () => {
  /** a monitored case probed live once, then its site answers 404 and the vendor says taken down */
  async function takenDownAndGone (host: string): Promise<{ clock: ManualClock, monitor: ReturnType<typeof monitorOn>['monitor'], store: ReturnType<typeof monitorOn>['store'], id: string }> {
    const clock = new ManualClock('2026-11-02T00:00:00Z')
    const { monitor, store } = monitorOn(clock, 50)
    const id = await track(monitor, clock, host)
    await runUntil(monitor, store, clock, id, x => x.checks === 1)
    mode.set(host, '404')
    await monitor.vendorStatus(id, 'taken_down')
    return { clock, monitor, store, id }
  }

  it('stayed_down: record and history get the retention TTL, an on-demand probe later does not extend it, the outcome row stays', async () => {
    const { clock, monitor, store, id } = await takenDownAndGone('ret-one.test')
    await runUntil(monitor, store, clock, id, x => x.state === 'verified_down')
    // monitoring: nothing expires yet
    expect(await raw.pttl(record(id))).toBe(-1)
    expect(await raw.pttl(history(id))).toBe(-1)

    const v = await runUntil(monitor, store, clock, id, x => x.phase === 'done')
    expect(v.state).toBe('stayed_down')
    const ttl = await raw.pttl(record(id))
    expect(ttl).toBeGreaterThan(RETENTION_MS - 60_000)
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS)
    expect(await raw.pttl(history(id))).toBeGreaterThan(RETENTION_MS - 60_000)
    expect(await raw.pttl(history(id))).toBeLessThanOrEqual(RETENTION_MS)

    // 25 of the 30 days gone (Redis's own clock: the keys' TTL set to what is left), then the ended case is probed on
    // demand: the new check is kept, and both keys keep the expiry they got when the case ended
    await raw.pexpire(record(id), 5 * DAY)
    await raw.pexpire(history(id), 5 * DAY)
    clock.advance(25 * DAY)
    expect(await monitor.probeNow(id)).toMatchObject({ outcome: 'down' })
    expect((await store.checks(id, 0, 1)).items[0]?.at).toBe(new Date(clock.now()).toISOString())
    for (const key of [record(id), history(id)]) {
      expect(await raw.pttl(key)).toBeLessThanOrEqual(5 * DAY)
      expect(await raw.pttl(key)).toBeGreaterThan(5 * DAY - 60_000)
    }

    // the analytics' outcome rows never expire
    const shards = await store.outcomeShards()
    expect(shards.length).toBeGreaterThan(0)
    for (const s of shards) expect(await raw.pttl(`${prefix}tgw:v1:verify:{vf}:outcome-rows:${s}`)).toBe(-1)
    const rows = await store.outcomeRows(shards)
    expect(rows.some(b => b.length > 0)).toBe(true)

    // the retention passes (the keys go as their TTL would take them): a status change of the case later does not
    // start its verification again, so its outcome row keeps what the probes saw
    await raw.unlink(record(id), history(id))
    const c = { id, provider: 'netcraft', target: { type: 'url' as const, value: 'http://ret-one.test:{port}/login' }, createdAt: new Date(v.reportedAt).toISOString() }
    expect(await monitor.track(c)).toBeNull()
    expect(await store.get(id)).toBeNull()
    expect(await store.outcomeRows(shards)).toEqual(rows)
  })

  it('a case the vendor closed stops being probed and expires; reopened, it is probed again and kept', async () => {
    const clock = new ManualClock('2026-11-02T00:00:00Z')
    const { monitor, store } = monitorOn(clock, 50)
    const id = await track(monitor, clock, 'ret-closed.test')
    await runUntil(monitor, store, clock, id, x => x.checks === 1)
    clock.advance(3_600_000)
    const closed = await monitor.vendorStatus(id, 'closed')
    expect(closed).toMatchObject({ state: 'live', phase: 'done', nextCheckAt: null })
    expect(await store.due(clock.now() + 30 * DAY, 10)).not.toContain(id)
    expect(await raw.pttl(record(id))).toBeGreaterThan(RETENTION_MS - 60_000)
    expect(await raw.pttl(history(id))).toBeGreaterThan(RETENTION_MS - 60_000)

    const reopened = await monitor.vendorStatus(id, 'in_progress')
    expect(reopened).toMatchObject({ phase: 'open', nextCheckAt: clock.now() })
    expect(await store.due(clock.now(), 10)).toContain(id)
    expect(await raw.pttl(record(id))).toBe(-1)
    expect(await raw.pttl(history(id))).toBe(-1)
  })

  it('a case in its confirmation run goes on to its end when the vendor closes it', async () => {
    const { clock, monitor, store, id } = await takenDownAndGone('ret-confirm.test')
    expect(await monitor.vendorStatus(id, 'closed')).toMatchObject({ phase: 'confirming' })
    expect(await runUntil(monitor, store, clock, id, x => x.state === 'verified_down')).toMatchObject({ phase: 'monitoring' })
    expect(await raw.pttl(record(id))).toBe(-1)
  })

  it('the memory store drops an ended case once the retention has passed on the clock', async () => {
    const clock = new ManualClock('2026-11-02T00:00:00Z')
    const store = new MemoryVerificationStore(() => clock.now(), { retentionMs: RETENTION_MS, historyLimit: 2 })
    const v = start({ id: 'm1', provider: 'netcraft', target: { type: 'email', value: 'x@kit.test' }, reportedAt: clock.now() }, false, clock.now())
    expect(await store.put(null, v)).toBe(true)
    clock.advance(RETENTION_MS - 1)
    expect(await store.get('m1')).not.toBeNull()
    clock.advance(1)
    expect(await store.get('m1')).toBeNull()
    expect(await store.retired('m1', `netcraft:${new Date(v.reportedAt).toISOString().slice(0, 7)}`)).toBe(true)
  })
})
