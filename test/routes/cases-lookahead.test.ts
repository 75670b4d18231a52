/**
 * A listing keeps the vendor page a gateway page read past its last case for the next gateway page. Over the four
 * simulators (one seeded data set with equal timestamps), a walk with that lookahead returns exactly the cases, in
 * exactly the order, of a walk whose every page is read from the vendors, for small and large limits and with a
 * filter, and costs fewer vendor calls; a first page is always read from every vendor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Case } from '../../src/schemas/case.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

let cached: TestGateway
let uncached: TestGateway

/** vendor calls so far, per simulator */
const calls = (): number[] => PROVIDER_IDS.map(p => cached.sandbox.running[p].sim.stats.total())
const sum = (ns: number[]): number => ns.reduce((a, b) => a + b, 0)

async function walk (gw: TestGateway, query: string): Promise<{ cases: Case[], pages: number, vendorCalls: number }> {
  const before = sum(calls())
  const cases: Case[] = []
  let cursor: string | null = null
  let pages = 0
  while (pages < 1000) {
    const url: string = `/v1/cases?${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const res = await gw.app.inject({ url, headers: auth() })
    expect(res.statusCode).toBe(200)
    const page = res.json() as { items: Case[], nextCursor: string | null, partial: boolean }
    expect(page.partial).toBe(false)
    cases.push(...page.items)
    pages++
    cursor = page.nextCursor
    if (cursor === null) return { cases, pages, vendorCalls: sum(calls()) - before }
  }
  throw new Error('the walk did not end')
}

beforeAll(async () => {
  cached = await testGateway({ seed: 4242, count: 40, env: { RATE_LIMIT_MAX: '0' } })
  // the same vendors, every page read from them
  uncached = await testGateway({ sandbox: cached.sandbox, clock: cached.clock, env: { RATE_LIMIT_MAX: '0' }, appOptions: { lookahead: { pages: 0 } } })
}, 30_000)
afterAll(async () => {
  await uncached?.close()
  await cached?.close()
})

describe('GET /v1/cases with the next page kept in memory', () => {
  // with limit 100 every provider's cases fit in one vendor page: nothing to keep, nothing saved
  const walks = [
    { query: 'limit=1', saves: true },
    { query: 'limit=7', saves: true },
    { query: 'limit=10', saves: true },
    { query: 'limit=33', saves: false },
    { query: 'limit=100', saves: false },
    { query: 'limit=9&status=taken_down,in_progress,received', saves: false }
  ]
  for (const { query, saves } of walks) {
    it(`walks the same cases in the same order as a walk that reads every page from the vendors (${query})`, async () => {
      const without = await walk(uncached, query)
      const withLookahead = await walk(cached, query)
      expect(without.cases.length).toBeGreaterThan(0)
      expect(withLookahead.cases).toEqual(without.cases)
      expect(withLookahead.pages).toBe(without.pages)
      expect(new Set(withLookahead.cases.map(c => c.id)).size).toBe(withLookahead.cases.length)
      expect(withLookahead.vendorCalls).toBeLessThanOrEqual(without.vendorCalls)
      if (saves) expect(withLookahead.vendorCalls).toBeLessThan(without.vendorCalls)
      console.log(`[lookahead] ${query}: ${without.pages} gateway pages, ${without.vendorCalls} vendor calls without, ${withLookahead.vendorCalls} with`)
    }, 60_000)
  }

  it('a walk spread over replicas (every page on a fresh gateway) returns the same sequence', async () => {
    const reference = await walk(cached, 'limit=20')
    const cases: Case[] = []
    let cursor: string | null = null
    do {
      const fresh = await testGateway({ sandbox: cached.sandbox, clock: cached.clock, env: { RATE_LIMIT_MAX: '0' } })
      try {
        const res = await fresh.app.inject({ url: `/v1/cases?limit=20${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, headers: auth() })
        expect(res.statusCode).toBe(200)
        const page = res.json() as { items: Case[], nextCursor: string | null }
        cases.push(...page.items)
        cursor = page.nextCursor
      } finally {
        await fresh.close()
      }
    } while (cursor !== null)
    expect(cases).toEqual(reference.cases)
  }, 60_000)

  it('a first page is read from every vendor, however often it is asked for', async () => {
    for (let i = 0; i < 3; i++) {
      const before = calls()
      const res = await cached.app.inject({ url: '/v1/cases?limit=5', headers: auth() })
      expect(res.statusCode).toBe(200)
      const after = calls()
      for (let p = 0; p < PROVIDER_IDS.length; p++) expect(after[p]!, PROVIDER_IDS[p]).toBeGreaterThan(before[p]!)
    }
  })

  // one provider, limit = its page size: page 1 reads vendor page 2 to hand out its last case, and points at it
  const ONE = '/v1/cases?provider=bforeai&limit=10'

  it('a cursor\'s page is taken from memory once: asking for it again reads the vendor', async () => {
    const cursor = await firstCursor()
    const once = await nextPage(cursor)
    const again = await nextPage(cursor)
    expect(again.body).toEqual(once.body)
    expect(once.vendorPages).toEqual([3]) // page 2 from memory
    // page 2 from the vendor; page 3 was kept by the request before (the same vendor page, read a moment ago)
    expect(again.vendorPages).toEqual([2])
    cached.clock.advance(30_000) // nothing of this test is left for the next one
  })

  it('a kept page is read from the vendor again once it is 30 s old', async () => {
    let cursor = await firstCursor()
    cached.clock.advance(29_999)
    expect((await nextPage(cursor)).vendorPages).toEqual([3])
    cached.clock.advance(30_000)
    cursor = await firstCursor()
    cached.clock.advance(30_000)
    expect((await nextPage(cursor)).vendorPages).toEqual([2, 3])
  })

  async function firstCursor (): Promise<string> {
    const res = await cached.app.inject({ url: ONE, headers: auth() })
    expect(res.statusCode).toBe(200)
    const cursor = (res.json() as { nextCursor: string | null }).nextCursor
    expect(cursor).not.toBeNull()
    return encodeURIComponent(cursor!)
  }

  /** the next page, and the BforeAI list pages it read */
  async function nextPage (cursor: string): Promise<{ body: unknown, vendorPages: number[] }> {
    const log = cached.sandbox.running.bforeai.sim.stats.log
    const before = log.length
    const res = await cached.app.inject({ url: `${ONE}&cursor=${cursor}`, headers: auth() })
    expect(res.statusCode).toBe(200)
    const vendorPages = log.slice(before).map(r => new URL(r.url, 'http://sim').searchParams.get('page')).filter(p => p !== null).map(Number)
    return { body: res.json(), vendorPages: vendorPages.sort((a, b) => a - b) }
  }
})
