import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { TtlCache } from '../../src/store/ttl-cache.js'

function cache (max = 3, ttlMs = 1000): { c: TtlCache<string>, clock: ManualClock } {
  const clock = new ManualClock()
  return { c: new TtlCache<string>({ max, ttlMs, clock }), clock }
}

describe('TtlCache', () => {
  it('answers a value until its time is up, then forgets it', () => {
    const { c, clock } = cache()
    c.set('a', 'A')
    clock.advance(999)
    expect(c.get('a')).toBe('A')
    clock.advance(1)
    expect(c.get('a')).toBeUndefined()
    expect(c.size).toBe(0)
  })

  it('counts an entry\'s time from when its value was read, and holds nothing already too old', () => {
    const { c, clock } = cache()
    const readAt = clock.now()
    clock.advance(600)
    c.set('a', 'A', { at: readAt })
    clock.advance(399)
    expect(c.get('a')).toBe('A')
    clock.advance(1)
    expect(c.get('a')).toBeUndefined()
    c.set('old', 'O', { at: clock.now() - 1000 })
    expect(c.size).toBe(0)
  })

  it('takes an entry\'s own time over the default', () => {
    const { c, clock } = cache()
    c.set('short', 'S', { ttlMs: 10 })
    c.set('long', 'L', { ttlMs: 5000 })
    clock.advance(2000)
    expect([c.get('short'), c.get('long')]).toEqual([undefined, 'L'])
  })

  it('holds at most max entries, pushing out the least recently set', () => {
    const { c } = cache(2)
    c.set('a', 'A')
    c.set('b', 'B')
    c.set('a', 'A2') // set again: now the most recent
    c.set('c', 'C')
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual(['A2', undefined, 'C'])
    expect(c.size).toBe(2)
  })

  it('take hands a fresh value out once; max 0 holds nothing', () => {
    const { c, clock } = cache()
    c.set('a', 'A')
    expect(c.take('a')).toBe('A')
    expect(c.take('a')).toBeUndefined()
    c.set('b', 'B')
    clock.advance(1000)
    expect(c.take('b')).toBeUndefined()
    const none = cache(0).c
    none.set('a', 'A')
    expect([none.get('a'), none.size]).toEqual([undefined, 0])
  })

  it('delete and clear remove entries', () => {
    const { c } = cache()
    c.set('a', 'A')
    c.set('b', 'B')
    c.delete('a')
    expect([c.get('a'), c.get('b')]).toEqual([undefined, 'B'])
    c.clear()
    expect(c.size).toBe(0)
  })
})
