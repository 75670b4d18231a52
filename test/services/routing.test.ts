/**
 * The ranking of a measured routing rule (services/routing.ts), pure: the score, ties, a provider with no case down,
 * how the exploration draw spreads over the other providers, the TLD scope, and the keyed draw.
 */
import { describe, expect, it } from 'vitest'
import type { ProviderId } from '../../src/schemas/provider.js'
import { drawOf, rankMeasured, scoreOf, type MeasuredRouting, type Outcome } from '../../src/services/routing.js'

const SETTINGS: MeasuredRouting = { strategy: {} as MeasuredRouting['strategy'], windowDays: 30, minSample: 20, explorePercent: 10 }
const stats = (byType: Partial<Record<ProviderId, Outcome>>, atTld: Partial<Record<ProviderId, Outcome>> = {}) => ({
  byType: new Map(Object.entries(byType)) as Map<ProviderId, Outcome>,
  atTld: new Map(Object.entries(atTld)) as Map<ProviderId, Outcome>
})
const rank = (able: ProviderId[], s: ReturnType<typeof stats>, draw: number, tld: string | null = null) =>
  rankMeasured(able, s, { type: 'url', tld, settings: SETTINGS, draw })

describe('rankMeasured', () => {
  it('scores p50 ÷ success rate; equal scores keep the list order; none down ranks last', () => {
    expect(scoreOf({ cases: 100, down: 50, p50Hours: 2 })).toBe(4)
    expect(scoreOf({ cases: 30, down: 0, p50Hours: null })).toBe(Number.POSITIVE_INFINITY)
    const s = stats({
      phishfort: { cases: 40, down: 20, p50Hours: 2 }, // 4
      bforeai: { cases: 40, down: 40, p50Hours: 4 }, // 4
      cloudflare: { cases: 40, down: 0, p50Hours: null }, // none down
      netcraft: { cases: 40, down: 36, p50Hours: 3 } // 3.33
    })
    const { order, explanation } = rank(['cloudflare', 'phishfort', 'bforeai', 'netcraft'], s, 0.5)
    expect(order).toEqual(['netcraft', 'phishfort', 'bforeai', 'cloudflare'])
    expect(explanation.providers.map(p => p.score)).toEqual([3.33, 4, 4, null])
    expect(explanation.summary).toContain('cloudflare: none down, 0 % over 40 cases')
  })

  it('spreads the exploration share evenly over the providers that are not the best', () => {
    const s = stats({ phishfort: { cases: 20, down: 20, p50Hours: 1 }, bforeai: { cases: 20, down: 20, p50Hours: 2 }, netcraft: { cases: 20, down: 20, p50Hours: 3 } })
    const pick = (draw: number): ProviderId => rank(['phishfort', 'bforeai', 'netcraft'], s, draw).order[0]!
    expect([0, 0.049, 0.05, 0.0999, 0.1, 0.99].map(pick)).toEqual(['bforeai', 'bforeai', 'netcraft', 'netcraft', 'phishfort', 'phishfort'])
    expect(rank(['phishfort', 'bforeai', 'netcraft'], s, 0.05).explanation.decision).toBe('explore')
  })

  it('uses the TLD figures only when every able provider has the minimum sample there', () => {
    const byType = { phishfort: { cases: 50, down: 45, p50Hours: 5 }, bforeai: { cases: 50, down: 45, p50Hours: 2 } }
    const enough = rank(['phishfort', 'bforeai'], stats(byType, { phishfort: { cases: 20, down: 20, p50Hours: 1 }, bforeai: { cases: 20, down: 20, p50Hours: 3 } }), 0.9, 'io')
    expect([enough.order[0], enough.explanation.tld]).toEqual(['phishfort', 'io'])
    const short = rank(['phishfort', 'bforeai'], stats(byType, { phishfort: { cases: 20, down: 20, p50Hours: 1 }, bforeai: { cases: 19, down: 19, p50Hours: 3 } }), 0.9, 'io')
    expect([short.order[0], short.explanation.tld]).toEqual(['bforeai', null])
  })

  it('one able provider is the list order, whatever the draw', () => {
    const { order, explanation } = rank(['bforeai'], stats({ bforeai: { cases: 99, down: 90, p50Hours: 2 } }), 0)
    expect(order).toEqual(['bforeai'])
    expect(explanation).toMatchObject({ decision: 'list_order', summary: expect.stringMatching(/^List order \(only one provider can take it\)/) })
  })
})

describe('drawOf', () => {
  it('is the same for the same key, in [0, 1), and about uniform over many keys', () => {
    expect(drawOf('k-1')).toBe(drawOf('k-1'))
    const draws = Array.from({ length: 10_000 }, (_, i) => drawOf(`key-${i}`))
    expect(draws.every(d => d >= 0 && d < 1)).toBe(true)
    // binomial(10,000, 0.1): sigma 30; 4 sigma either side of 1,000
    const low = draws.filter(d => d < 0.1).length
    expect(low).toBeGreaterThan(880)
    expect(low).toBeLessThan(1120)
  })
})
