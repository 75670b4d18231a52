/**
 * The pages a listing walk keeps for the next gateway page: what is kept (only the page a next position points at,
 * never a first page, nothing of a provider that failed), for how long (from the vendor read, on the injected clock),
 * how many, and that a page is taken once.
 */
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { ProviderPosition } from '../../src/domain/cursor.js'
import type { ProviderId } from '../../src/schemas/provider.js'
import type { WalkResult, WalkSource } from '../../src/services/merge-walk.js'
import { PageLookahead } from '../../src/services/lookahead.js'

/** a vendor whose page `n` (token "n", null = 1) holds one item and points at page n + 1; counts its reads */
function vendor (provider: ProviderId): WalkSource<string> & { reads: Array<string | null> } {
  const reads: Array<string | null> = []
  return {
    provider,
    pos: { t: null, s: 10, d: false },
    reads,
    fetch: async token => {
      reads.push(token)
      const n = token === null ? 1 : Number(token)
      return { items: [`${provider}-${n}`], next: String(n + 1) }
    }
  }
}

const at = (t: string | null, d = false): ProviderPosition => ({ t, s: 10, d })
type Outcome = Pick<WalkResult<string>, 'next' | 'errors'>
const ok = (next: Record<string, ProviderPosition>): Outcome => ({ next, errors: [] })

describe('PageLookahead', () => {
  it('keeps the page a next position points at, for one use; a first page never', async () => {
    const clock = new ManualClock()
    const pages = new PageLookahead(clock)
    const v = vendor('bforeai')

    const w1 = pages.walk<string>('f')
    const s1 = w1.source(v)
    await s1.fetch(null, 10)
    await s1.fetch('2', 10)
    w1.keep(ok({ bforeai: at('2') }))
    expect(pages.size).toBe(1)

    const s2 = pages.walk<string>('f').source(v)
    expect(await s2.fetch('2', 10)).toEqual({ items: ['bforeai-2'], next: '3' })
    expect(v.reads).toEqual([null, '2']) // from memory
    await pages.walk<string>('f').source(v).fetch('2', 10)
    expect(v.reads).toEqual([null, '2', '2']) // taken once: the vendor again

    // a walk that ends where it started (nothing handed out) points at the first page: nothing is kept
    const w3 = pages.walk<string>('f')
    await w3.source(v).fetch(null, 10)
    w3.keep(ok({ bforeai: at(null) }))
    expect(pages.size).toBe(0)
  })

  it('keys pages by provider, filters and page size', async () => {
    const pages = new PageLookahead(new ManualClock())
    const v = vendor('bforeai')
    const w = pages.walk<string>('f')
    await w.source(v).fetch('2', 10)
    w.keep(ok({ bforeai: at('2') }))
    await pages.walk<string>('other filters').source(v).fetch('2', 10)
    await pages.walk<string>('f').source(v).fetch('2', 20)
    await pages.walk<string>('f').source(vendor('phishfort')).fetch('2', 10)
    expect(v.reads).toEqual(['2', '2', '2'])
    expect(pages.size).toBe(1)
  })

  it('keeps nothing of a provider that failed, and the pages of the others', async () => {
    const pages = new PageLookahead(new ManualClock())
    const a = vendor('bforeai')
    const b = vendor('phishfort')
    const w = pages.walk<string>('f')
    await w.source(a).fetch('2', 10)
    await w.source(b).fetch('2', 10)
    w.keep({ next: { bforeai: at('2'), phishfort: at('2') }, errors: [{ provider: 'phishfort', status: 503, title: 'The provider is unavailable', detail: 'x' }] })
    await pages.walk<string>('f').source(a).fetch('2', 10)
    await pages.walk<string>('f').source(b).fetch('2', 10)
    expect(a.reads).toEqual(['2'])
    expect(b.reads).toEqual(['2', '2'])
  })

  it('a page ages from its vendor read, also when a walk hands it on unused', async () => {
    const clock = new ManualClock()
    const pages = new PageLookahead(clock, { ttlMs: 30_000 })
    const v = vendor('bforeai')
    const w1 = pages.walk<string>('f')
    await w1.source(v).fetch('2', 10)
    w1.keep(ok({ bforeai: at('2') }))
    clock.advance(20_000)
    // taken from memory, nothing of it handed out: kept again, still 20 s old
    const w2 = pages.walk<string>('f')
    await w2.source(v).fetch('2', 10)
    w2.keep(ok({ bforeai: at('2') }))
    expect(v.reads).toEqual(['2'])
    clock.advance(10_000)
    await pages.walk<string>('f').source(v).fetch('2', 10)
    expect(v.reads).toEqual(['2', '2'])
  })

  it('holds at most `pages` pages, dropping the oldest; 0 holds none', async () => {
    const pages = new PageLookahead(new ManualClock(), { pages: 64 })
    const v = vendor('bforeai')
    for (let n = 2; n < 2 + 70; n++) {
      const w = pages.walk<string>('f')
      await w.source(v).fetch(String(n), 10)
      w.keep(ok({ bforeai: at(String(n)) }))
    }
    expect(pages.size).toBe(64)
    await pages.walk<string>('f').source(v).fetch('7', 10) // among the six oldest: gone
    await pages.walk<string>('f').source(v).fetch('8', 10) // kept
    expect(v.reads.slice(70)).toEqual(['7'])

    const none = new PageLookahead(new ManualClock(), { pages: 0 })
    const w = none.walk<string>('f')
    await w.source(v).fetch('2', 10)
    w.keep(ok({ bforeai: at('2') }))
    expect(none.size).toBe(0)
  })

  it('a finished provider keeps nothing', async () => {
    const pages = new PageLookahead(new ManualClock())
    const w = pages.walk<string>('f')
    await w.source(vendor('bforeai')).fetch('2', 10)
    w.keep(ok({ bforeai: { t: '2', s: 10, d: true } }))
    w.keep({ next: null, errors: [] })
    expect(pages.size).toBe(0)
  })
})
