import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { ManualClock } from '../../src/clock.js'
import type { Logger } from '../../src/logger.js'
import { GatewayError } from '../../src/domain/problems.js'
import { CaseService } from '../../src/services/cases.js'
import { howToTurnOn, PROVIDER_MODULES } from '../../src/providers/registry.js'
import { ProviderSet } from '../../src/services/provider-set.js'
import type { CaseListQuery } from '../../src/schemas/case.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { fakeCase, FakeConnector, RowsFakeConnector } from '../support/fake-connector.js'
import { compareKeys, keyOf } from '../../src/domain/merge.js'

const log = pino({ level: 'silent' }) as unknown as Logger
const SECRET = 'test-secret-0123456789'

function setOf (connectors: FakeConnector[], clock = new ManualClock()): ProviderSet {
  return new ProviderSet(connectors.map(c => ({ id: c.id, mode: 'sandbox' as const, connector: c, timeoutMs: 1000, lastError: null, ids: PROVIDER_MODULES[c.id].ids })), howToTurnOn, clock)
}

async function walk (service: CaseService, query: Omit<CaseListQuery, 'cursor'>): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await service.list({ ...query, ...(cursor === null ? {} : { cursor }) }, new AbortController().signal, log)
    expect(page.items.length).toBeLessThanOrEqual(query.limit)
    expect(page.partial).toBe(false)
    ids.push(...page.items.map(i => i.id))
    cursor = page.nextCursor
    if (cursor === null) return ids
  }
  throw new Error('walk did not end')
}

/** A random vendor data set: timestamps drawn from a small range so equal timestamps (within and across vendors) are common. */
const dataSet = fc.record({
  bforeai: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 80, size: 'max' }),
  phishfort: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 80, size: 'max' }),
  cloudflare: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 80, size: 'max' })
})

/** one fake connector per registered provider; a provider the data set does not name has no cases */
function connectorsFor (data: Partial<Record<ProviderId, number[]>>): FakeConnector[] {
  const base = Date.parse('2026-01-01T00:00:00Z')
  return PROVIDER_IDS.map(p => new FakeConnector(p, (data[p] ?? []).map((minute, i) => fakeCase(p, `${p.slice(0, 2)}${(i * 7919) % 1000}-${i}`, base + minute * 60_000))))
}

describe('CaseService.list', () => {
  it('walking every page with any limit returns every case exactly once, newest first, ties by id (property)', async () => {
    await fc.assert(fc.asyncProperty(dataSet, fc.integer({ min: 1, max: 100 }), async (data, limit) => {
      const connectors = connectorsFor(data)
      const service = new CaseService(setOf(connectors), SECRET)
      const ids = await walk(service, { limit })
      const all = connectors.flatMap(c => c.items)
      const expected = [...all].sort((a, b) => compareKeys(keyOf(a), keyOf(b))).map(c => c.id)
      expect(ids).toEqual(expected)
    }), { numRuns: 80 })
  })

  it('every limit from 1 to 100 walks the same data set completely', async () => {
    const connectors = connectorsFor({ bforeai: Array.from({ length: 45 }, (_, i) => i % 9), phishfort: Array.from({ length: 40 }, (_, i) => i % 5), cloudflare: Array.from({ length: 38 }, (_, i) => (i * 3) % 11) })
    const expected = connectors.flatMap(c => c.items).sort((a, b) => compareKeys(keyOf(a), keyOf(b))).map(c => c.id)
    const service = new CaseService(setOf(connectors), SECRET)
    for (let limit = 1; limit <= 100; limit++) {
      expect(await walk(service, { limit })).toEqual(expected)
    }
  })

  it('through listCaseRows: the same walk, and an unfiltered page maps only the cases it hands out', async () => {
    const base = Date.parse('2026-03-01T00:00:00Z')
    const data = (p: ProviderId): ReturnType<typeof fakeCase>[] => Array.from({ length: 30 }, (_, i) => fakeCase(p, `${p}${i}`, base + (i % 7) * 1000, { status: i % 2 === 0 ? 'taken_down' : 'in_progress' }))
    const rows = PROVIDER_IDS.map(p => new RowsFakeConnector(p, data(p)))
    const plain = PROVIDER_IDS.map(p => new FakeConnector(p, data(p)))
    const byRows = new CaseService(setOf(rows), SECRET)
    const first = await byRows.list({ limit: 10 }, new AbortController().signal, log)
    // 3 vendor pages of 10 were read; only the 10 cases on the page were mapped
    expect(rows.reduce((n, c) => n + c.mapped, 0)).toBe(10)
    expect(first.items.map(c => c.id)).toEqual((await new CaseService(setOf(plain), SECRET).list({ limit: 10 }, new AbortController().signal, log)).items.map(c => c.id))
    for (const limit of [1, 7, 10, 33]) {
      expect(await walk(byRows, { limit })).toEqual(await walk(new CaseService(setOf(plain), SECRET), { limit }))
      expect(await walk(byRows, { limit, status: 'taken_down' })).toEqual(await walk(new CaseService(setOf(plain), SECRET), { limit, status: 'taken_down' }))
    }
  })

  it('filters by status, target type, q, brand and time, and a filtered walk is still complete and ordered', async () => {
    const base = Date.parse('2026-02-01T00:00:00Z')
    const items = Array.from({ length: 50 }, (_, i) => fakeCase('phishfort', `pf${i}`, base + (i % 17) * 1000, {
      status: i % 3 === 0 ? 'taken_down' : 'in_progress', type: i % 2 === 0 ? 'url' : 'domain', brand: i % 4 === 0 ? 'Globex' : 'acme'
    }))
    const service = new CaseService(setOf([new FakeConnector('phishfort', items)]), SECRET)
    const ids = await walk(service, { limit: 7, status: 'taken_down', targetType: 'url', brand: 'globex' })
    const expected = items.filter(c => c.status === 'taken_down' && c.target.type === 'url' && c.brand.name === 'Globex')
      .sort((a, b) => compareKeys(keyOf(a), keyOf(b))).map(c => c.id)
    expect(ids).toEqual(expected)
    expect(ids.length).toBeGreaterThan(0)
    const since = new Date(base + 5000).toISOString()
    const until = new Date(base + 9000).toISOString()
    const timed = await walk(service, { limit: 3, since, until, q: 'PF1' })
    expect(timed).toEqual(items.filter(c => Date.parse(c.createdAt) >= base + 5000 && Date.parse(c.createdAt) < base + 9000 && c.target.value.includes('pf1'))
      .sort((a, b) => compareKeys(keyOf(a), keyOf(b))).map(c => c.id))
  })

  it('answers partial results naming the failed provider, and a problem when every provider fails', async () => {
    const connectors = connectorsFor({ bforeai: [1, 2, 3], phishfort: [4, 5], cloudflare: [6] })
    connectors[1]!.failWith = 'unavailable'
    const clock = new ManualClock('2026-11-02T10:00:00.000Z')
    const set = setOf(connectors, clock)
    const service = new CaseService(set, SECRET)
    const page = await service.list({ limit: 50 }, new AbortController().signal, log)
    expect(page.partial).toBe(true)
    // GET /v1/providers shows the failure, dated by the injected clock
    expect(set.get('phishfort')?.lastError).toEqual({ at: '2026-11-02T10:00:00.000Z', kind: 'unavailable', message: 'injected unavailable' })
    expect(page.items.map(i => i.provider).sort()).toEqual(['bforeai', 'bforeai', 'bforeai', 'cloudflare'])
    expect(page.errors).toEqual([{ provider: 'phishfort', status: 503, title: 'The provider is unavailable', detail: 'phishfort: injected unavailable' }])
    expect(page.nextCursor).not.toBeNull() // phishfort is retried on the next page

    for (const c of connectors) c.failWith = 'timeout'
    const err = await service.list({ limit: 50 }, new AbortController().signal, log).catch(e => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect(err.code).toBe('GW_ERR_PROVIDER_TIMEOUT')
    connectors[0]!.failWith = 'unavailable'
    const err2 = await service.list({ limit: 50 }, new AbortController().signal, log).catch(e => e)
    expect(err2.code).toBe('GW_ERR_PROVIDER_UNAVAILABLE')
  })

  it('rejects tampered, foreign and mismatched cursors, and unknown statuses with the allowed list', async () => {
    const connectors = connectorsFor({ bforeai: [1, 2, 3, 4], phishfort: [], cloudflare: [] })
    const service = new CaseService(setOf(connectors), SECRET)
    const page = await service.list({ limit: 2 }, new AbortController().signal, log)
    const cursor = page.nextCursor!
    const tampered = cursor.slice(0, 5) + (cursor[5] === 'A' ? 'B' : 'A') + cursor.slice(6)
    for (const bad of [tampered, 'garbage', cursor + 'x']) {
      const err = await service.list({ limit: 2, cursor: bad }, new AbortController().signal, log).catch(e => e)
      expect(err.code).toBe('GW_ERR_BAD_CURSOR')
    }
    const foreign = new CaseService(setOf(connectors), 'another-secret-0123456')
    expect((await foreign.list({ limit: 2, cursor }, new AbortController().signal, log).catch(e => e)).code).toBe('GW_ERR_BAD_CURSOR')
    expect((await service.list({ limit: 2, cursor, status: 'closed' }, new AbortController().signal, log).catch(e => e)).code).toBe('GW_ERR_BAD_CURSOR')
    const err = await service.list({ limit: 2, status: 'in_progress,done' }, new AbortController().signal, log).catch(e => e)
    expect(err.code).toBe('GW_ERR_VALIDATION')
    expect(err.extras.allowed).toContain('taken_down')
  })

  it('reads only as many vendor pages as the page needs', async () => {
    const connectors = connectorsFor({ bforeai: Array.from({ length: 300 }, (_, i) => i % 40), phishfort: [], cloudflare: [] })
    const service = new CaseService(setOf(connectors), SECRET)
    await service.list({ limit: 10 }, new AbortController().signal, log)
    expect(connectors[0]!.calls).toBeLessThanOrEqual(3)
  })
})
