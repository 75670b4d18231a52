/**
 * The verification block on the cases the API answers with (list, detail, export) and the `verification=` filter,
 * against the sandbox's vendor simulators and a verification store in real Redis seeded with records; the page's
 * block costs one batched store read.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Verification } from '../../../src/features/verification/lifecycle.js'
import { MemoryVerificationStore, openVerificationStore } from '../../../src/features/verification/store.js'
import { verificationCaseView } from '../../../src/features/verification/view.js'
import type { Case, CasePage } from '../../../src/schemas/case.js'
import type { VerificationState } from '../../../src/schemas/verification.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'

let gw: TestGateway
const get = async (url: string) => await gw.app.inject({ method: 'GET', url, headers: auth() })

const T0 = Date.parse('2026-11-02T10:00:00.000Z')

function record (c: Pick<Case, 'id' | 'provider' | 'target'>, state: VerificationState, verifiedDownAt: number | null): Verification {
  return {
    ...start({ id: c.id, provider: c.provider, target: { type: c.target.type, value: c.target.value }, reportedAt: T0 - 3_600_000 }, true, T0),
    state,
    verifiedDownAt,
    lastCheckedAt: T0,
    nextCheckAt: T0 + 3_600_000,
    checks: 4
  }
}

/** every case of the sandbox, walked page by page with the given query */
async function walk (query: string): Promise<{ items: Case[], pages: number }> {
  const items: Case[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await get(`/v1/cases?limit=50${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json<CasePage>()
    items.push(...page.items)
    cursor = page.nextCursor
    pages++
  } while (cursor !== null && pages < 100)
  return { items, pages }
}

let all: Case[] = []
const bare = (c: Case): Case => { const { verification: _v, ...rest } = c; return rest }
const seeded = new Map<string, VerificationState>()

beforeAll(async () => {
  gw = await testGateway({ store: 'redis', count: 12 })
  all = (await walk('')).items
  expect(all.length).toBeGreaterThan(20)
  // every seventh case verified down, every eleventh reappeared; the rest have no record
  // the gateway's own store: the same Redis client and key prefix
  const store = openVerificationStore(gw.store, gw.clock)
  for (const [i, c] of all.entries()) {
    const state: VerificationState | null = i % 7 === 0 ? 'verified_down' : i % 11 === 3 ? 'reappeared' : null
    if (state === null) continue
    expect(await store.put(null, record(c, state, state === 'verified_down' ? T0 + 1_200_000 : null))).toBe(true)
    seeded.set(c.id, state)
  }
})
afterAll(async () => { await gw.close() })

describe('the verification block', () => {
  it('on every listed case: the seeded state, not_checked where the gateway has no record (verification is off here)', async () => {
    const { items } = await walk('')
    expect(items.map(c => c.id)).toEqual(all.map(c => c.id))
    for (const c of items) {
      const want = seeded.get(c.id) ?? 'not_checked'
      expect(c.verification?.state, c.id).toBe(want)
      if (want === 'verified_down') {
        expect(c.verification).toEqual({
          state: 'verified_down',
          firstSeenLiveAt: null,
          lastSeenLiveAt: null,
          downSince: null,
          verifiedDownAt: '2026-11-02T10:20:00.000Z',
          lastCheckedAt: '2026-11-02T10:00:00.000Z',
          nextCheckAt: '2026-11-02T11:00:00.000Z',
          checks: 4,
          relatedCaseIds: []
        })
      }
      if (want === 'not_checked') expect(c.verification?.checks).toBe(0)
    }
  })

  it('on the case detail', async () => {
    const down = all.find(c => seeded.get(c.id) === 'verified_down')!
    const res = await get(`/v1/cases/${encodeURIComponent(down.id)}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<Case>().verification).toMatchObject({ state: 'verified_down', verifiedDownAt: '2026-11-02T10:20:00.000Z', checks: 4 })
    const plain = all.find(c => !seeded.has(c.id))!
    expect((await get(`/v1/cases/${encodeURIComponent(plain.id)}`)).json<Case>().verification).toMatchObject({ state: 'not_checked', checks: 0 })
  })

  it('a page costs one batched store read, whatever its size; a store that fails leaves not_checked', async () => {
    const store = new MemoryVerificationStore(() => T0)
    const c = all[0]!
    await store.put(null, record(c, 'disputed', null))
    let reads = 0
    const counted = Object.assign(Object.create(store) as MemoryVerificationStore, {
      getMany: async (ids: readonly string[]) => { reads++; return await store.getMany(ids) }
    })
    const view = verificationCaseView({ store: counted, log: pino({ level: 'silent' }) })
    const page = all.slice(0, 40).map(bare)
    await view.page!(page, { aborted: false } as never)
    expect(reads).toBe(1)
    expect(page[0]!.verification?.state).toBe('disputed')
    expect(page.slice(1).every(x => x.verification?.state === 'not_checked')).toBe(true)

    const failing = Object.assign(Object.create(store) as MemoryVerificationStore, { getMany: async () => { throw new Error('store down') } })
    const other = all.slice(0, 3).map(bare)
    await verificationCaseView({ store: failing, log: pino({ level: 'silent' }) }).page!(other, { aborted: false } as never)
    expect(other.map(x => x.verification?.state)).toEqual(['not_checked', 'not_checked', 'not_checked'])
  })
})

describe('verification= on GET /v1/cases and the export', () => {
  it('keeps the cases in the listed states, across pages (short pages, the cursor still walks them all)', async () => {
    const { items } = await walk('&verification=verified_down,reappeared')
    const want = all.filter(c => seeded.has(c.id)).map(c => c.id)
    expect(want.length).toBeGreaterThan(3)
    expect(items.map(c => c.id)).toEqual(want)
    const notChecked = await walk('&verification=not_checked')
    expect(notChecked.items.length).toBe(all.length - want.length)
  })

  it('combines with the other filters; a cursor is bound to its verification list', async () => {
    const provider = all.find(c => seeded.get(c.id) === 'verified_down')!.provider
    const { items } = await walk(`&provider=${provider}&verification=verified_down`)
    expect(items.map(c => c.id)).toEqual(all.filter(c => c.provider === provider && seeded.get(c.id) === 'verified_down').map(c => c.id))
    const first = (await get('/v1/cases?limit=5&verification=verified_down')).json<CasePage>()
    expect(first.nextCursor).not.toBeNull()
    const swapped = await get(`/v1/cases?limit=5&verification=reappeared&cursor=${encodeURIComponent(first.nextCursor!)}`)
    expect(swapped.statusCode).toBe(400)
  })

  it('an unknown state is a 400 problem naming the allowed ones', async () => {
    for (const q of ['verification=gone', 'verification=live,gone', 'verification=,']) {
      const res = await get(`/v1/cases?${q}`)
      expect(res.statusCode, q).toBe(400)
      expect(res.headers['content-type']).toContain('application/problem+json')
      const problem = res.json<{ detail: string, allowed: string[] }>()
      expect(problem.detail).toContain('allowed: not_checked, unprobeable, live, down, blocked, verified_down, stayed_down, reappeared, disputed')
      expect(problem.allowed).toContain('verified_down')
    }
    expect((await get('/v1/cases/export?format=csv&verification=gone')).statusCode).toBe(400)
  })

  it('the export carries the state columns and takes the filter', async () => {
    const res = await get('/v1/cases/export?format=csv&verification=verified_down')
    expect(res.statusCode, res.body).toBe(200)
    const lines = res.body.trim().split('\r\n')
    const header = lines[0]!.split(',')
    const col = header.indexOf('verificationState')
    expect(col).toBeGreaterThan(0)
    expect(header).toContain('verifiedDownAt')
    const rows = lines.slice(1)
    expect(rows.length).toBe([...seeded.values()].filter(s => s === 'verified_down').length)
    for (const r of rows) {
      expect(r.split(',')[col]).toBe('verified_down')
      expect(r).toContain('2026-11-02T10:20:00.000Z')
    }
    const nd = await get('/v1/cases/export?format=ndjson')
    const states = nd.body.trim().split('\n').map(l => (JSON.parse(l) as Case).verification?.state)
    expect(states.filter(s => s === 'reappeared').length).toBe([...seeded.values()].filter(s => s === 'reappeared').length)
    expect(states.every(s => s !== undefined)).toBe(true)
  })
})
