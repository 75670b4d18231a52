import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { inject } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { Bootstrap, type BootstrapFiles } from '../../src/features/targets/rdap/bootstrap.js'
import { RdapService, type RdapSettings } from '../../src/features/targets/rdap/service.js'
import { holdCheck } from '../../src/features/targets/hold.js'
import type { Case, CaseDetail } from '../../src/schemas/case.js'
import { simRegistrarOf, simResolve, simNetworkOf, simStatusesOf } from '../../src/simulators/rdap/index.js'
import { MemoryKvStore } from '../../src/store/memory-kv-store.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
beforeAll(async () => { gw = await testGateway({ store: 'redis' }) })
afterAll(async () => { await gw.close() })

const rdapSim = () => gw.sandbox.rdap!.running
const SETTINGS: RdapSettings = { ttlMs: 3_600_000, errorTtlMs: 60_000, timeoutMs: 2000, serverBudget: { limit: 1000, windowMs: 60_000 }, baseUrl: null }

function rdapService (opts: { store?: MemoryKvStore | RedisKvStore, clock?: ManualClock, settings?: Partial<RdapSettings> } = {}): RdapService {
  return new RdapService({
    store: opts.store ?? new MemoryKvStore(opts.clock ?? gw.clock),
    clock: opts.clock ?? gw.clock,
    bootstrap: new Bootstrap(gw.sandbox.rdap!.bootstrap as BootstrapFiles),
    settings: { ...SETTINGS, ...opts.settings },
    resolve: simResolve
  })
}

/** simulator calls for one domain name (the simulator logs every raw request target) */
const domainCalls = (name: string): number => rdapSim().sim.stats.log.filter(r => r.url.endsWith(`/domain/${name}`)).length

/** a fresh .com domain whose simulated registrar is the named one */
function domainWith (registrar: string, tld = 'com', pred: (d: string) => boolean = () => true): string {
  for (let i = 0; i < 10_000; i++) {
    const d = `intel-${randomUUID().slice(0, 8)}.${tld}`
    if (simRegistrarOf(d).name === registrar && pred(d)) return d
  }
  throw new Error('no such domain')
}

const get = async (url: string) => await gw.app.inject({ method: 'GET', url, headers: auth() })
const post = async (url: string, payload: Record<string, unknown>) => await gw.app.inject({ method: 'POST', url, headers: auth(), payload })

async function until<T> (fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn()
    if (ok(v)) return v
    await new Promise(resolve => setImmediate(resolve))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('cross-provider duplicates and related cases', () => {
  it('the same URL at PhishFort then BforeAI → 409 naming the PhishFort case; allowDuplicate creates it and both list each other', async () => {
    const host = `login.${domainWith('Example Registrar, Inc.')}`
    const value = `https://${host}/secure/login`
    const first = await post('/v1/cases', { provider: 'phishfort', target: { type: 'url', value } })
    expect(first.statusCode, first.body).toBe(201)
    const pf = first.json() as Case
    expect(pf.target).toMatchObject({ host, registrableDomain: host.slice('login.'.length), canonicalUrl: value })

    // the same page spelled differently: case, default port, a fragment and tracking parameters
    const again = { provider: 'bforeai', target: { type: 'url', value: `HTTPS://${host.toUpperCase()}:443/secure/login?utm_source=mail#x` }, brand: { id: 501 }, comment: 'clone' }
    const dry = await post('/v1/cases?dryRun=true', again)
    expect(dry.statusCode, dry.body).toBe(409)
    expect(dry.json().detail).toMatch(/^Dry run/)
    const dup = await post('/v1/cases', again)
    expect(dup.statusCode, dup.body).toBe(409)
    expect(dup.json()).toMatchObject({ code: 'GW_ERR_DUPLICATE_CASE', existing: pf.id, existingCases: [{ id: pf.id, provider: 'phishfort' }] })
    expect(dup.json().detail).toContain(pf.id)

    const created = await post('/v1/cases', { ...again, allowDuplicate: true })
    expect(created.statusCode, created.body).toBe(201)
    const bf = created.json() as Case
    expect(bf.provider).toBe('bforeai')
    expect(bf.target.host).toBe(host)

    const detail = async (id: string): Promise<CaseDetail> => (await get(`/v1/cases/${encodeURIComponent(id)}`)).json() as CaseDetail
    const pfDetail = await until(async () => await detail(pf.id), d => d.relatedCases?.some(r => r.id === bf.id) === true, 'the PhishFort case to list the BforeAI one')
    const bfDetail = await until(async () => await detail(bf.id), d => d.relatedCases?.some(r => r.id === pf.id) === true, 'the BforeAI case to list the PhishFort one')
    expect(pfDetail.relatedCases?.find(r => r.id === bf.id)).toMatchObject({ provider: 'bforeai', match: 'host' })
    expect(bfDetail.relatedCases?.find(r => r.id === pf.id)).toMatchObject({ provider: 'phishfort', match: 'host', value })
    expect(bfDetail.relatedCases?.some(r => r.id === bf.id)).toBe(false)

    // host= and registrableDomain= filter across vendors
    const byHost = await get(`/v1/cases?host=${encodeURIComponent(host.toUpperCase() + '.')}&limit=100`)
    expect(byHost.statusCode, byHost.body).toBe(200)
    expect((byHost.json().items as Case[]).map(c => c.id).sort()).toEqual([pf.id, bf.id].sort())
    const bad = await get('/v1/cases?host=not%20a%20host')
    expect(bad.statusCode).toBe(400)
    expect(bad.headers['content-type']).toMatch(/problem\+json/)
  })

  it('DUPLICATE_SCOPE=provider asks only the chosen provider', async () => {
    const other = await testGateway({ env: { DUPLICATE_SCOPE: 'provider' }, sandbox: gw.sandbox, clock: gw.clock })
    try {
      const value = `https://${domainWith('Cheapnames LLC')}/a`
      expect((await other.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'phishfort', target: { type: 'url', value } } })).statusCode).toBe(201)
      const second = await other.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'bforeai', target: { type: 'url', value }, brand: { id: 501 }, comment: 'clone' } })
      expect(second.statusCode, second.body).toBe(201)
    } finally {
      await other.close()
    }
  })
})

describe('RDAP enrichment against the simulator', () => {
  it('finds the registrar and an abuse email nested two entities deep, dates and EPP statuses', async () => {
    const domain = domainWith('Cheapnames LLC')
    const e = await rdapService().enrich(`www.${domain}`)
    expect(e.error).toBeNull()
    expect(e.registrar).toEqual({ name: 'Cheapnames LLC', ianaId: '9992', abuse: { email: 'abuse@cheapnames.example', phone: '+1.5555550102' } })
    expect(e.domain).toMatchObject({ name: domain, statuses: simStatusesOf(domain).map(s => s.replace(/ (\w)/g, (_, c: string) => c.toUpperCase())) })
    expect(Date.parse(e.domain!.expiresAt!) - Date.parse(e.domain!.createdAt!)).toBe(365 * 86_400_000)
    const [ip] = await simResolve(`www.${domain}`)
    expect(e.hosting).toEqual([expect.objectContaining({ ip, networkName: simNetworkOf(ip!).name, country: simNetworkOf(ip!).country, abuse: { email: simNetworkOf(ip!).abuseEmail, phone: null } })])
    expect(e.hosting[0]!.cidr).toMatch(/\/24$/)
  })

  it('an abuse contact at the top of the answer is found too', async () => {
    const e = await rdapService().enrich(domainWith('Registrar of Last Resort GmbH'))
    expect(e.registrar?.abuse.email).toBe('abuse@lastresort.example')
  })

  it('a 429 with Retry-After is honoured: no call before it, one after (manual clock)', async () => {
    // the simulator runs on the sandbox's clock: the service shares it
    const clock = gw.clock
    const svc = rdapService({ clock })
    const domain = domainWith('Offshore Domains Ltd', 'top')
    const first = await svc.enrich(domain)
    expect(first.error).toMatch(/429; retry after 30 s/)
    expect(first.registrar).toBeNull()
    expect(domainCalls(domain)).toBe(1)
    clock.advance(29_000)
    expect((await svc.enrich(domain)).error).toMatch(/Retry-After|429/)
    expect(domainCalls(domain)).toBe(1)
    clock.advance(2000)
    const later = await svc.enrich(domain)
    expect(later.error).toBeNull()
    expect(later.registrar?.name).toBe('Offshore Domains Ltd')
    expect(domainCalls(domain)).toBe(2)
  })

  it('cached records are not fetched again within the TTL by another replica sharing Redis; after it they are', async () => {
    const prefix = `t-${randomUUID()}:`
    const stores = [new RedisKvStore(inject('redisUrl'), { keyPrefix: prefix }), new RedisKvStore(inject('redisUrl'), { keyPrefix: prefix })]
    try {
      expect(await Promise.all(stores.map(async s => await s.waitReady(2000)))).toEqual([true, true])
      const clock = new ManualClock(gw.clock.now())
      const [a, b] = stores.map(store => rdapService({ store, clock, settings: { ttlMs: 600_000 } }))
      const domain = domainWith('Example Registrar, Inc.')
      const fromA = await a!.enrich(domain)
      const fromB = await b!.enrich(domain)
      expect(fromB).toEqual(fromA)
      expect(domainCalls(domain)).toBe(1)
      clock.advance(600_001)
      await b!.enrich(domain)
      expect(domainCalls(domain)).toBe(2)
    } finally {
      await Promise.all(stores.map(async s => { await s.close() }))
    }
  })

  it('a registry hold is reported for the verification lifecycle', async () => {
    const svc = rdapService()
    const held = domainWith('Example Registrar, Inc.', 'com', d => simStatusesOf(d).some(s => s.endsWith('hold')))
    const free = domainWith('Example Registrar, Inc.', 'com', d => !simStatusesOf(d).some(s => s.endsWith('hold')))
    expect(await holdCheck(svc)(`login.${held}`)).toBe(true)
    expect(await holdCheck(svc)(free)).toBe(false)
    expect(await holdCheck(svc)('203.0.113.7')).toBeNull()
    expect(await holdCheck(null)(free)).toBeNull()
  })

  it('a detail read records the case\'s registrar and hosting network, and analytics group the case by them', async () => {
    const domain = domainWith('Cheapnames LLC')
    const created = await post('/v1/cases', { provider: 'phishfort', target: { type: 'domain', value: domain } })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id as string
    expect(await gw.app.caseEnrichment.of([id])).toEqual([null])
    const read = (await get(`/v1/cases/${encodeURIComponent(id)}`)).json() as CaseDetail
    const network = read.enrichment?.hosting[0]?.networkName ?? null
    expect(network).not.toBeNull()
    await vi.waitFor(async () => { expect(await gw.app.caseEnrichment.of([id])).toEqual([{ registrar: 'Cheapnames LLC', hostingNetwork: network }]) })
    await vi.waitFor(async () => {
      const report = (await get('/v1/analytics/takedowns?groupBy=registrar,hostingNetwork&provider=phishfort')).json()
      expect(report.groups.some((g: any) => g.key.registrar === 'Cheapnames LLC' && g.key.hostingNetwork === network && g.cases >= 1)).toBe(true)
    })
  })

  it('a server that is down: the case read is still 200 and its enrichment carries the error', async () => {
    const domain = domainWith('Example Registrar, Inc.')
    const created = await post('/v1/cases', { provider: 'phishfort', target: { type: 'domain', value: domain } })
    expect(created.statusCode, created.body).toBe(201)
    rdapSim().sim.faults.add({ path: `/domain/${domain.replaceAll('.', '\\.')}$`, status: 503 })
    try {
      const read = await get(`/v1/cases/${encodeURIComponent(created.json().id as string)}`)
      expect(read.statusCode).toBe(200)
      const enrichment = (read.json() as CaseDetail).enrichment
      expect(enrichment?.error).toContain(`domain ${domain}: `)
      expect(enrichment?.error).toContain('503')
      expect(enrichment?.registrar).toBeNull()
      expect(enrichment?.hosting.length).toBe(1)
    } finally {
      rdapSim().sim.faults.clear()
    }
  })
})

describe('GET /v1/targets/lookup', () => {
  it('shows an existing case, the plan a create would use and the registrar for a sandbox target', async () => {
    const page = (await get('/v1/cases?provider=phishfort&targetType=url&terminal=false&limit=100')).json().items as Case[]
    const seeded = page.find(c => c.target.host != null && !c.target.host.endsWith('.top'))
    expect(seeded).toBeDefined()
    const value = seeded!.target.value
    const res = await until(async () => await get(`/v1/targets/lookup?value=${encodeURIComponent(value)}`),
      r => (r.json().openCases as Array<{ id: string }> | undefined)?.some(o => o.id === seeded!.id) === true, 'the listed case in the lookup')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.target).toMatchObject({ type: 'url', host: seeded!.target.host, registrableDomain: seeded!.target.registrableDomain })
    expect(body.openCases.find((o: { id: string }) => o.id === seeded!.id)).toMatchObject({ provider: 'phishfort', status: seeded!.status, match: 'host' })
    expect(body.plan).toMatchObject({ dryRun: true, routedBy: 'rule' })
    expect(body.enrichment.registrar.name).toBe(simRegistrarOf(seeded!.target.registrableDomain!).name)
    // verification is off in this gateway: no probe to show
    expect(body.lastProbe).toBeNull()

    const bad = await get('/v1/targets/lookup?value=ftp%3A%2F%2Fx')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().errors[0].path).toBe('/value')
    expect((await gw.app.inject({ method: 'GET', url: '/v1/targets/lookup?value=a.example' })).statusCode).toBe(401)
  })
})
