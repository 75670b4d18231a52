/**
 * The questions a new analyst asks of the API (issue 18): "which cases are still open", "where is the URL I reported",
 * "everything for brand Acme", "would this create go through" — answered over the three simulators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Case } from '../../src/schemas/case.js'
import { TERMINAL_STATUSES } from '../../src/schemas/unified-status.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
beforeAll(async () => { gw = await testGateway() })
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
    const all = await walk('provider=bforeai,phishfort,cloudflare', 100)
    const open = await walk('terminal=false')
    const finished = await walk('terminal=true')
    expect(open.map(c => c.id)).toEqual(all.filter(c => !c.terminal).map(c => c.id))
    expect(finished.map(c => c.id)).toEqual(all.filter(c => c.terminal).map(c => c.id))
    expect(new Set(open.map(c => c.provider)).size).toBe(3)
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
