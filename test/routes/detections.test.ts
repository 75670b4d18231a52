import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { CaseSchema, type Case } from '../../src/schemas/case.js'
import { DetectionPageSchema, DetectionSchema, type Detection } from '../../src/schemas/detection.js'
import { ProblemSchema } from '../../src/schemas/problem.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
beforeAll(async () => { gw = await testGateway() })
afterAll(async () => { await gw.close() })
beforeEach(() => { for (const id of PROVIDER_IDS) gw.sandbox.running[id].sim.stats.reset() })

const calls = () => PROVIDER_IDS.reduce((n, id) => n + gw.sandbox.running[id].sim.stats.total(), 0)
// Cloudflare Brand Protection requests only (the abuse-report reads of a case listing are not detection calls)
const brandCalls = () => gw.sandbox.running.cloudflare.sim.stats.log.filter(r => r.url.includes('/brand-protection/')).length
const writeCalls = () => PROVIDER_IDS.reduce((n, id) => n + Object.entries(gw.sandbox.running[id].sim.stats.toJSON())
  .filter(([k]) => !k.startsWith('GET ')).reduce((m, [, v]) => m + v, 0), 0)

async function get (url: string) {
  return await gw.app.inject({ method: 'GET', url, headers: auth() })
}
async function post (url: string, body: unknown, headers: Record<string, string> = {}) {
  return await gw.app.inject({ method: 'POST', url, headers: { ...auth(), ...headers }, payload: body as Record<string, unknown> })
}

function expectProblem (res: { statusCode: number, headers: Record<string, unknown>, json: () => unknown }, status: number): Record<string, unknown> {
  expect(res.statusCode).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
  const body = res.json() as Record<string, unknown>
  expect(Value.Check(ProblemSchema, body)).toBe(true)
  return body
}

async function allDetections (query = ''): Promise<Detection[]> {
  const out: Detection[] = []
  let cursor: string | null = null
  do {
    const res = await get(`/v1/detections?limit=7${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    expect(res.statusCode).toBe(200)
    const page = res.json()
    expect(Value.Check(DetectionPageSchema, page)).toBe(true)
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return out
}

describe('GET /v1/detections', () => {
  it('merges BforeAI attacks and Cloudflare domain and logo matches newest first, each once across pages', async () => {
    const all = await allDetections()
    expect(new Set(all.map(d => d.id)).size).toBe(all.length)
    expect(new Set(all.map(d => d.kind))).toEqual(new Set(['attack', 'domain-match', 'logo-match']))
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i - 1]!.detectedAt)).toBeGreaterThanOrEqual(Date.parse(all[i]!.detectedAt))
    const big = (await get('/v1/detections?limit=100')).json()
    expect(big.items.map((d: Detection) => d.id)).toEqual(all.map(d => d.id))
    const cf = await allDetections('&provider=cloudflare')
    expect(cf.length).toBeGreaterThan(0)
    expect(cf.every(d => d.provider === 'cloudflare')).toBe(true)
  })

  it('one provider down: partial results naming it', async () => {
    gw.sandbox.running.cloudflare.sim.faults.add({ status: 500 })
    try {
      const page = (await get('/v1/detections?limit=20')).json()
      expect(page.partial).toBe(true)
      expect(page.errors).toMatchObject([{ provider: 'cloudflare', status: 502 }])
      expect(page.items.length).toBeGreaterThan(0)
      expect(page.items.every((d: Detection) => d.provider === 'bforeai')).toBe(true)
    } finally {
      gw.sandbox.running.cloudflare.sim.faults.clear()
    }
  })

  it('400 for an unknown provider and a tampered cursor; 422 for a provider without detections; 403 without the read scope', async () => {
    expectProblem(await get('/v1/detections?provider=nosuch'), 400)
    expect(expectProblem(await get('/v1/detections?provider=phishfort'), 422).code).toBe('GW_ERR_UNSUPPORTED')
    const first = (await get('/v1/detections?limit=2')).json()
    const c = first.nextCursor as string
    expect(expectProblem(await get(`/v1/detections?limit=2&cursor=${encodeURIComponent(c.slice(0, -2) + (c.endsWith('AA') ? 'BB' : 'AA'))}`), 400).code).toBe('GW_ERR_BAD_CURSOR')
    expectProblem(await gw.app.inject({ method: 'GET', url: '/v1/detections', headers: auth('writer-secret-key') }), 403)
  })
})

describe('POST /v1/detections/{id}/takedown', () => {
  it('end to end: a Cloudflare domain match becomes a PhishFort takedown, found by GET /v1/cases?q=, and the detection links to it', async () => {
    const match = (await allDetections('&provider=cloudflare')).find(d => d.kind === 'domain-match' && d.caseId === null)!
    const res = await post(`/v1/detections/${match.id}/takedown`, { provider: 'phishfort', comment: 'Lookalike of our brand', reportedBy: 'soc@acme.example' })
    expect(res.statusCode).toBe(201)
    const created: Case = res.json()
    expect(Value.Check(CaseSchema, created)).toBe(true)
    expect(created.provider).toBe('phishfort')
    expect(created.target).toMatchObject({ value: match.target.value })
    expect(res.headers.location).toBe(`/v1/cases/${created.id}`)

    const search = (await get(`/v1/cases?q=${encodeURIComponent(match.target.value)}&limit=100`)).json()
    expect(search.items.map((c: Case) => c.id)).toContain(created.id)

    const again = (await get(`/v1/detections/${match.id}`)).json()
    expect(Value.Check(DetectionSchema, again)).toBe(true)
    expect(again.caseId).toBe(created.id)
    expect(again.links.case).toBe(`/v1/cases/${created.id}`)
    expect((await allDetections('&provider=cloudflare')).find(d => d.id === match.id)?.caseId).toBe(created.id)

    // a second takedown of the same detection names the first case; nothing is sent
    gw.sandbox.running.phishfort.sim.stats.reset()
    const dup = expectProblem(await post(`/v1/detections/${match.id}/takedown`, { provider: 'phishfort' }), 409)
    expect(dup.existing).toBe(created.id)
    expect(gw.sandbox.running.phishfort.sim.stats.total()).toBe(0)
  })

  it('an accepted BforeAI attack shows up as a BforeAI case with the same target', async () => {
    const attack = (await allDetections('&provider=bforeai')).find(d => d.caseId === null)!
    const res = await post(`/v1/detections/${attack.id}/takedown`, {}, { 'idempotency-key': 'accept-once-1' })
    expect(res.statusCode).toBe(201)
    const created: Case = res.json()
    expect(created.provider).toBe('bforeai')
    expect(created.target).toMatchObject(attack.target) // plus the attack URL as `submitted`
    expect(gw.sandbox.running.bforeai.sim.stats.get('POST', '/api/v2/takedown/accept')).toBe(1)

    // the same Idempotency-Key replays the answer without a second accept
    const replay = await post(`/v1/detections/${attack.id}/takedown`, {}, { 'idempotency-key': 'accept-once-1' })
    expect(replay.statusCode).toBe(201)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json().id).toBe(created.id)
    expect(gw.sandbox.running.bforeai.sim.stats.get('POST', '/api/v2/takedown/accept')).toBe(1)

    expect((await get(`/v1/cases/${created.id}`)).json().target).toEqual(created.target)
    const listed = (await get(`/v1/cases?provider=bforeai&q=${encodeURIComponent(attack.target.value)}`)).json()
    expect(listed.items.map((c: Case) => c.id)).toContain(created.id)
    expect((await get(`/v1/detections/${attack.id}`)).json().caseId).toBe(created.id)
    expect(expectProblem(await post(`/v1/detections/${attack.id}/takedown`, {}), 409).existing).toBe(created.id)
  })

  it.each([
    ['a malformed id', 'justtext'],
    ['an unknown provider', 'nosuch:attack:1'],
    ['an unknown kind', 'bforeai:whatever:1'],
    ['a provider without detections', 'phishfort:attack:1'],
    ['a cloudflare id without a query', 'cloudflare:domain-match:acme.example']
  ])('%s is a 404 with no vendor call', async (_name, id) => {
    const p = expectProblem(await post(`/v1/detections/${encodeURIComponent(id)}/takedown`, { provider: 'phishfort' }), 404)
    expect(p.code).toBe('GW_ERR_NOT_FOUND')
    expect(calls()).toBe(0)
  })

  it('a well-formed id the provider does not know is a 404 after a read, with no write', async () => {
    expectProblem(await post('/v1/detections/cloudflare:domain-match:101%3Anot-a-match.example/takedown', { provider: 'phishfort' }), 404)
    expectProblem(await post('/v1/detections/bforeai:attack:4242424/takedown', {}), 404)
    expect(writeCalls()).toBe(0)
  })

  it('refuses a body with target (400) before any vendor call', async () => {
    const p = expectProblem(await post('/v1/detections/bforeai:attack:70000/takedown', { target: { type: 'domain', value: 'x.example' } }), 400)
    expect(p.errors).toEqual([{ path: '/target', message: 'is not a known field' }])
    expect(calls()).toBe(0)
  })
})

function multipart (fields: Record<string, string>, file?: { name: string, filename: string, type: string, data: Buffer }): { payload: Buffer, headers: Record<string, string> } {
  const boundary = '----detections-test-boundary'
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  if (file !== undefined) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\ncontent-type: ${file.type}\r\n\r\n`), file.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

describe('/v1/brand-monitors and /v1/scans', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')

  it('creates a domain query (its matches join the detections), a logo query from a multipart image, lists and deletes them', async () => {
    const d = await post('/v1/brand-monitors', { type: 'domain', tag: 'umbrella', patterns: ['umbrella'], scan: true })
    expect(d.statusCode).toBe(201)
    expect(d.json()).toMatchObject({ type: 'domain', tag: 'umbrella', patterns: ['umbrella'], scan: true })
    const { payload, headers } = multipart({ type: 'logo', tag: 'umbrella-logo', similarityThreshold: '0.5' }, { name: 'image', filename: 'logo.png', type: 'image/png', data: PNG })
    const l = await gw.app.inject({ method: 'POST', url: '/v1/brand-monitors', headers, payload })
    expect(l.statusCode).toBe(201)
    expect(l.json()).toMatchObject({ type: 'logo', tag: 'umbrella-logo', similarityThreshold: 0.5 })
    expect(l.headers.location).toBe(`/v1/brand-monitors/${l.json().id}`)

    const list = (await get('/v1/brand-monitors')).json().items.map((m: { id: string }) => m.id)
    expect(list).toEqual(expect.arrayContaining([d.json().id, l.json().id]))
    const dets = await allDetections('&provider=cloudflare')
    expect(dets.filter(x => x.matched.queryTag === 'umbrella')).toHaveLength(6)
    expect(dets.some(x => x.matched.queryTag === 'umbrella-logo')).toBe(true)

    for (const id of [d.json().id, l.json().id]) {
      expect((await gw.app.inject({ method: 'DELETE', url: `/v1/brand-monitors/${id}`, headers: auth() })).statusCode).toBe(204)
    }
    expect((await allDetections('&provider=cloudflare')).some(x => x.matched.queryTag?.startsWith('umbrella') === true)).toBe(false)
    expectProblem(await gw.app.inject({ method: 'DELETE', url: `/v1/brand-monitors/${d.json().id as string}`, headers: auth() }), 404)
  })

  it.each([
    ['empty pattern list', 400, { type: 'domain', tag: 'x', patterns: [] }],
    ['blank pattern', 400, { type: 'domain', tag: 'x', patterns: ['  '] }],
    ['blank tag', 400, { type: 'domain', tag: ' ', patterns: ['acme'] }],
    ['similarity above 1', 400, { type: 'logo', tag: 'x', similarityThreshold: 1.5, imageData: PNG.toString('base64') }],
    ['similarity below 0', 400, { type: 'logo', tag: 'x', similarityThreshold: -0.1, imageData: PNG.toString('base64') }],
    ['a logo without an image', 400, { type: 'logo', tag: 'x', similarityThreshold: 0.5 }],
    ['a base64 image over 5 MB', 413, { type: 'logo', tag: 'x', similarityThreshold: 0.5, imageData: Buffer.alloc(5 * 1024 * 1024 + 10).toString('base64') }]
  ])('%s → %i before any vendor call', async (_name, status, body) => {
    expectProblem(await post('/v1/brand-monitors', body), status)
    expect(brandCalls()).toBe(0)
  })

  it('a multipart image over 5 MB → 413, and a similarity outside 0–1 in multipart → 400, before any vendor call', async () => {
    const big = multipart({ type: 'logo', tag: 'big', similarityThreshold: '0.5' }, { name: 'image', filename: 'big.png', type: 'image/png', data: Buffer.alloc(5 * 1024 * 1024 + 1) })
    expectProblem(await gw.app.inject({ method: 'POST', url: '/v1/brand-monitors', headers: big.headers, payload: big.payload }), 413)
    const bad = multipart({ type: 'logo', tag: 'x', similarityThreshold: '2' }, { name: 'image', filename: 'l.png', type: 'image/png', data: PNG })
    expectProblem(await gw.app.inject({ method: 'POST', url: '/v1/brand-monitors', headers: bad.headers, payload: bad.payload }), 400)
    expect(brandCalls()).toBe(0)
  })

  it('submits URLs for scanning and reads the results back', async () => {
    const res = await post('/v1/scans', { urls: ['https://login-umbrella.example/a'] })
    expect(res.statusCode).toBe(202)
    const scanId = res.json().submitted[0].scanId as number
    expect(scanId).toBeTypeOf('number')
    const info = (await get(`/v1/scans?scanId=${scanId}`)).json()
    expect(info.items).toMatchObject([{ url: 'https://login-umbrella.example/a', scanId }])
    expectProblem(await post('/v1/scans', { urls: ['ftp://x.example/'] }), 400)
    expectProblem(await get('/v1/scans'), 400)
  })
})
