/**
 * Cursor paging over the real simulators: for random seeded data sets (equal timestamps included), walking every
 * page with every limit from 1 to 100 returns every case exactly once, newest first, ties by id.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareKeys, keyOf } from '../../src/domain/merge.js'
import type { Case } from '../../src/schemas/case.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

async function walk (gw: TestGateway, limit: number): Promise<Case[]> {
  const out: Case[] = []
  let cursor: string | null = null
  for (let guard = 0; guard < 1000; guard++) {
    const url: string = `/v1/cases?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const res = await gw.app.inject({ url, headers: auth() })
    expect(res.statusCode).toBe(200)
    const page = res.json() as { items: Case[], nextCursor: string | null, partial: boolean }
    expect(page.partial).toBe(false)
    expect(page.items.length).toBeLessThanOrEqual(limit)
    out.push(...page.items)
    cursor = page.nextCursor
    if (cursor === null) return out
  }
  throw new Error('the walk did not end')
}

describe('walking GET /v1/cases over random simulator data sets', () => {
  it('every limit from 1 to 100 returns every case exactly once, in order (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 30, max: 45 }), async (seed, count) => {
      const gw = await testGateway({ seed, count, env: { RATE_LIMIT_MAX: '0' } })
      try {
        const reference = await walk(gw, 100)
        expect(reference.length).toBeGreaterThanOrEqual(3 * count)
        const ids = reference.map(c => c.id)
        expect(new Set(ids).size).toBe(ids.length)
        for (let i = 1; i < reference.length; i++) expect(compareKeys(keyOf(reference[i - 1]!), keyOf(reference[i]!))).toBeLessThan(0)
        const created = reference.map(c => c.createdAt)
        expect(new Set(created).size).toBeLessThan(created.length) // the data set has equal timestamps
        for (let limit = 1; limit < 100; limit++) {
          expect((await walk(gw, limit)).map(c => c.id), `seed ${seed}, count ${count}, limit ${limit}`).toEqual(ids)
        }
      } finally {
        await gw.close()
      }
    }), { numRuns: 3 })
  }, 180_000)
})
