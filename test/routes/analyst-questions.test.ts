/**
 * The questions a new analyst asks of the API: "which cases are still open", "where is the URL I reported",
 * "everything for brand Acme", "would this create go through" — answered over the three simulators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Case } from '../../src/schemas/case.js'
import { TERMINAL_STATUSES } from '../../src/schemas/unified-status.js'
import { STATUS_TABLES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { normaliseStatusName } from '../../src/status/table.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
const DASHBOARD = 'https://dashboard.phishfort.example/incidents/{id}'
beforeAll(async () => { gw = await testGateway({ env: { PHISHFORT_DASHBOARD_URL: DASHBOARD } }) })
afterAll(async () => { await gw.close() })

async function get (url: string) {
  return await gw.app.inject({ method: 'GET', url, headers: auth() })
}

/** Every case of a listing, page by page. */
async function walk (query: string, limit = 17): Promise<Case[]> {
  const items: Case[] = []
  let cursor: string | null = null
  do {
    const res = await get(`/v1/cases?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json() as { items: Case[], nextCursor: string | null }
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}

describe('terminal=true|false', () => {
  it('terminal=false lists exactly the open cases of the full listing, across vendors, in the same order', async () => {
    const all = await walk(`provider=${PROVIDER_IDS.join(',')}`, 100)
    const open = await walk('terminal=false')
    const finished = await walk('terminal=true')
    expect(open.map(c => c.id)).toEqual(all.filter(c => !c.terminal).map(c => c.id))
    expect(finished.map(c => c.id)).toEqual(all.filter(c => c.terminal).map(c => c.id))
    expect(new Set(open.map(c => c.provider)).size).toBe(PROVIDER_IDS.length)
    expect(finished.length).toBeGreaterThan(0)
    for (const c of finished) expect(TERMINAL_STATUSES).toContain(c.status)
  })

  it('combines with status, and a cursor is bound to it', async () => {
    const both = (await get('/v1/cases?status=taken_down,in_progress&terminal=false&limit=100')).json() as { items: Case[] }
    expect(both.items.length).toBeGreaterThan(0)
    for (const c of both.items) expect(c.status).toBe('in_progress')
    const first = (await get('/v1/cases?terminal=false&limit=2')).json() as { nextCursor: string }
    const other = await get(`/v1/cases?terminal=true&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)
    expect(other.statusCode).toBe(400)
    expect(other.json().code).toBe('GW_ERR_BAD_CURSOR')
    const bad = await get('/v1/cases?terminal=maybe')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().errors).toEqual([{ path: '/terminal', message: 'must be boolean' }])
  })
})

describe('dry run', () => {
  const post = async (url: string, payload: Record<string, unknown>) => await gw.app.inject({ method: 'POST', url, headers: auth(), payload })
  const vendorPosts = (): number => [...gw.sandbox.running.phishfort.sim.stats.counts].filter(([k]) => k.startsWith('POST ')).reduce((n, [, c]) => n + c, 0)

  it('a dry run for a target with an open case is the 409 the create would be, naming the case, and sends nothing', async () => {
    const body = { provider: 'phishfort', target: { type: 'url', value: 'https://acme-dryrun.example.net/login' } }
    const first = await post('/v1/cases', body)
    expect(first.statusCode, first.body).toBe(201)
    const existing = (first.json() as Case).id
    const sent = vendorPosts()
    const dry = await post('/v1/cases?dryRun=true', body)
    expect(dry.statusCode).toBe(409)
    expect(dry.json()).toMatchObject({ code: 'GW_ERR_DUPLICATE_CASE', existing, provider: 'phishfort' })
    expect(dry.json().detail).toMatch(new RegExp(`^Dry run: the create would be refused; nothing was sent\\. phishfort already has an open case for .*${existing}`))
    const real = await post('/v1/cases', body)
    expect(real.statusCode).toBe(409)
    expect(real.json().existing).toBe(existing)
    const allowed = await post('/v1/cases?dryRun=true', { ...body, allowDuplicate: true })
    expect(allowed.statusCode).toBe(200)
    expect(allowed.json()).toMatchObject({ dryRun: true, provider: 'phishfort' })
    expect(vendorPosts()).toBe(sent)
  })
})

describe('one case, the same fields on every route', () => {
  const post = async (payload: Record<string, unknown>) => await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload })

  it('links.provider is the dashboard page where one is known, else null, the same on create, read and listing', async () => {
    const pf = await post({ provider: 'phishfort', target: { type: 'url', value: 'https://acme-links.example.net/pf' } })
    const bf = await post({ provider: 'bforeai', target: { type: 'url', value: 'https://acme-links.example.net/bf' }, brand: { id: 501 }, comment: 'look-alike login page' })
    for (const [res, link] of [[pf, DASHBOARD.replace('{id}', (pf.json() as Case).providerCaseId)], [bf, null]] as const) {
      expect(res.statusCode, res.body).toBe(201)
      const created = res.json() as Case
      expect(created.links.provider).toBe(link)
      expect((await get(`/v1/cases/${created.id}`)).json().links.provider).toBe(link)
      const listed = (await get(`/v1/cases?provider=${created.provider}&q=acme-links.example.net&limit=100`)).json().items as Case[]
      expect(listed.find(c => c.id === created.id)?.links.provider).toBe(link)
    }
  })

  it('providerStatus holds the vendor status value everywhere, and every status a connector can map is in the reference list', async () => {
    const all = await walk('terminal=false', 100).then(async open => [...open, ...await walk('terminal=true', 100)])
    const phishfort = all.filter(c => c.provider === 'phishfort')
    expect(phishfort.length).toBeGreaterThan(30)
    for (const c of phishfort) expect(c.providerStatus).toMatch(/^[a-z_]+$/)
    const reference = (await get('/v1/reference/statuses')).json().items as Array<{ provider: string, id: string | number, name: string }>
    for (const provider of PROVIDER_IDS) {
      const listed = new Set(reference.filter(i => i.provider === provider).flatMap(i => [String(i.id), i.name]).map(normaliseStatusName))
      const seen = all.filter(c => c.provider === provider).map(c => c.providerStatus).filter((s): s is string => s !== null)
      const table = STATUS_TABLES[provider]
      // tables of a documented closed set (PhishFort) or of the rules' vendor values (Cloudflare); BforeAI names come from
      // the vendor at run time, so its table holds guesses and only what the vendor serves is checked
      const mappable = table.kind === 'rules' ? table.rules.flatMap(r => r.when.providerStatus ?? []) : provider === 'bforeai' ? [] : Object.keys(table.entries)
      for (const status of [...seen, ...mappable]) expect(listed.has(normaliseStatusName(status)), `${provider} ${status}`).toBe(true)
    }
  })
})

describe('finding a reported URL', () => {
  it('a BforeAI report of a URL without a path is a domain case that keeps the submitted URL, and q finds it by the URL', async () => {
    const sent = 'https://acme-verify.example.net/'
    const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'bforeai', target: { type: 'url', value: sent }, brand: { id: 501 }, comment: 'Look-alike login page' } })
    expect(res.statusCode, res.body).toBe(201)
    const created = res.json() as Case
    expect(created.target).toMatchObject({ type: 'domain', value: 'acme-verify.example.net', domain: 'acme-verify.example.net', submitted: sent })
    expect((await get(`/v1/cases/${created.id}`)).json().target).toEqual(created.target)
    for (const q of [sent, 'https://ACME-verify.example.net/login?next=1', 'acme-verify']) {
      const found = (await get(`/v1/cases?q=${encodeURIComponent(q)}&limit=100`)).json().items as Case[]
      expect(found.map(c => c.id), q).toContain(created.id)
    }
    // a URL of another host does not find it
    const other = (await get(`/v1/cases?q=${encodeURIComponent('https://verify.example.net/')}&limit=100`)).json().items as Case[]
    expect(other.map(c => c.id)).not.toContain(created.id)
  })
})

describe('small things', () => {
  it('/v1/providers says plainly whether each provider is available, next to its circuit', async () => {
    const own = await testGateway({ env: { CIRCUIT_FAILURE_THRESHOLD: '1', CIRCUIT_HALF_OPEN_AFTER_MS: '600000' } })
    try {
      const before = (await own.app.inject({ url: '/v1/providers', headers: auth() })).json().items as Array<{ id: string, available: boolean, circuit: string }>
      expect(before.map(p => [p.id, p.available, p.circuit])).toEqual(PROVIDER_IDS.map(id => [id, true, 'closed']))
      own.sandbox.running.phishfort.sim.faults.add({ status: 503 })
      await own.app.inject({ url: '/v1/cases?provider=phishfort&limit=1', headers: auth() })
      const after = (await own.app.inject({ url: '/v1/providers', headers: auth() })).json().items as Array<{ id: string, available: boolean, circuit: string }>
      expect(after.find(p => p.id === 'phishfort')).toMatchObject({ available: false, circuit: 'open' })
      expect(after.find(p => p.id === 'bforeai')).toMatchObject({ available: true, circuit: 'closed' })
    } finally {
      await own.close()
    }
  })

  it('a 304 carries no body and no Content-Length of a body', async () => {
    const url = '/v1/reference/statuses?provider=phishfort'
    const first = await get(url)
    const res = await gw.app.inject({ url, headers: { ...auth(), 'if-none-match': String(first.headers.etag) } })
    expect(res.statusCode).toBe(304)
    expect(res.rawPayload.length).toBe(0)
    expect(res.headers['content-length'] ?? '0').toBe('0')
    expect(res.headers.etag).toBe(first.headers.etag)
  })
})

describe('CORS', () => {
  const preflight = async (app: TestGateway['app'], origin: string) => await app.inject({
    method: 'OPTIONS', url: '/v1/cases', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' }
  })

  it('is off by default: a preflight gets no CORS headers', async () => {
    const res = await preflight(gw.app, 'https://soc.acme.example')
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('with CORS_ORIGINS, a preflight from a listed origin is allowed without a key, others are not, and answers expose the request id', async () => {
    const cors = await testGateway({ sandbox: gw.sandbox, env: { CORS_ORIGINS: 'https://soc.acme.example, http://localhost:5173' } })
    try {
      const ok = await preflight(cors.app, 'https://soc.acme.example')
      expect(ok.statusCode).toBe(204)
      expect(ok.headers['access-control-allow-origin']).toBe('https://soc.acme.example')
      expect(String(ok.headers['access-control-allow-methods'])).toContain('POST')
      expect(String(ok.headers['access-control-allow-headers'])).toContain('idempotency-key')
      const other = await preflight(cors.app, 'https://evil.example')
      expect(other.headers['access-control-allow-origin']).toBeUndefined()
      const read = await cors.app.inject({ url: '/v1/cases?limit=1', headers: { ...auth(), origin: 'http://localhost:5173' } })
      expect(read.statusCode).toBe(200)
      expect(read.headers['access-control-allow-origin']).toBe('http://localhost:5173')
      expect(String(read.headers['access-control-expose-headers'])).toContain('x-request-id')
    } finally {
      await cors.close()
    }
  })
})

describe('brand filter', () => {
  it('brand=acme finds every vendor\'s spelling of the brand (words, case-insensitive); an id finds by id only', async () => {
    const all = await walk('terminal=false', 100).then(async open => [...open, ...await walk('terminal=true', 100)])
    const acme = all.filter(c => /(^|[^a-z0-9])acme([^a-z0-9]|$)/i.test(c.brand.name ?? ''))
    expect(new Set(acme.map(c => c.provider)).size).toBeGreaterThan(1)
    const found = await walk('brand=acme')
    expect(found.map(c => c.id).sort()).toEqual(acme.map(c => c.id).sort())
    expect((await walk('brand=ACME')).length).toBe(found.length)
    const withId = all.find(c => typeof c.brand.id === 'number')!
    const byId = await walk(`brand=${String(withId.brand.id)}`)
    expect(byId.length).toBeGreaterThan(0)
    for (const c of byId) expect(String(c.brand.id)).toBe(String(withId.brand.id))
    expect(await walk('brand=acm')).toEqual([]) // words, not substrings
  })
})
