import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { byId, keyOf, sortNewestFirst, timeOf } from '../../src/domain/merge.js'

interface Row { id: string, at: string }
const time = (r: Row): number => Date.parse(r.at)

/** the reference: a stable sort with the same comparator, parsing in the comparator */
function reference (rows: Row[], tie: boolean): Row[] {
  const t = (r: Row): number => { const ms = time(r); return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms }
  return [...rows].sort((a, b) => (t(b) - t(a)) || (tie ? byId(a, b) : 0))
}

const rows = fc.array(fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  // few distinct instants so ties are common; now and then a value that does not parse
  at: fc.oneof(fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00.500Z'), fc.constant('not a date'))
}), { maxLength: 30 })

describe('sortNewestFirst', () => {
  it('orders like a stable comparator sort, with and without a tie-break, and says whether it reordered', () => {
    fc.assert(fc.property(rows, fc.boolean(), (input, tie) => {
      const expected = reference(input, tie)
      const items = [...input]
      const reordered = sortNewestFirst(items, time, tie ? byId : undefined)
      expect(items).toEqual(expected)
      expect(reordered).toBe(input.some((row, i) => row !== expected[i]))
    }))
  })

  it('leaves an already ordered page untouched and reports no reordering', () => {
    const page = [{ id: 'b', at: '2026-01-02T00:00:00Z' }, { id: 'a', at: '2026-01-01T00:00:00Z' }]
    const copy = [...page]
    expect(sortNewestFirst(page, time)).toBe(false)
    expect(page).toEqual(copy)
  })
})

describe('timeOf', () => {
  it('is Date.parse, remembered: the same answer on every call, for readable and unreadable times', () => {
    fc.assert(fc.property(fc.oneof(fc.date({ noInvalidDate: true }).map(d => d.toISOString()), fc.string()), s => {
      expect(Object.is(timeOf(s), Date.parse(s))).toBe(true)
      expect(Object.is(timeOf(s), Date.parse(s))).toBe(true)
    }))
    expect(keyOf({ createdAt: '2026-01-02T03:04:05.678Z', id: 'x:1' })).toEqual([Date.parse('2026-01-02T03:04:05.678Z'), 'x:1'])
  })
})
