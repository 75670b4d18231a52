/**
 * The seeded data set: deterministic from the seed, dates spread over months before the clock's now. Reports cycle
 * through every report `type` and every status situation of the computed unified status; some have several URLs, some none (a
 * domain-only report).
 */
import { REPORT_TYPES } from '../../connectors/cloudflare/wire.js'
import { Rng, SEED_BRANDS, fakeDomain, fakeEmail, fakePhone, spreadDates } from '../random.js'
import { HOUR, type SimMitigation, type SimReport } from './state.js'

/** The six situations of the computed status, in the order the seed cycles through them. */
export const SEED_SITUATIONS = ['in_review', 'removal_active', 'interstitial_active', 'pending', 'mitigation_in_review', 'nothing'] as const
export type SeedSituation = (typeof SEED_SITUATIONS)[number]

const REMOVALS = ['account_suspend', 'r2_takedown_bucket', 'legal_block', 'registrar_freeze', 'user_suspend', 'network_block',
  'workers_takedown_by_zone_id', 'stream_block_account', 'registrar_parking', 'r2_takedown_object']
const RESTRICTIONS = ['phishing_interstitial', 'misleading_interstitial', 'malware_interstitial', 'copyright_interstitial',
  'geo_block', 'rate_limit_cache', 'zone_fint']
const NAMES = ['Jane Doe', 'Ari Kim', 'Sam Patel', 'Lee Chen', 'Noor Haddad', 'Eva Novak']
const WORDS = ['login', 'verify', 'secure', 'account', 'wallet', 'billing']

export interface SeededReport extends SimReport { situation: SeedSituation }

export function seedReports (seed: number, count: number, now: number, spanDays?: number): SeededReport[] {
  const rng = new Rng(seed)
  const dates = spreadDates(rng, count, now, spanDays)
  const ids = new Set<string>()
  const out: SeededReport[] = []
  for (let i = 0; i < count; i++) {
    let id = rng.id(20, '0123456789abcdef')
    while (ids.has(id)) id = rng.id(20, '0123456789abcdef')
    ids.add(id)
    const cdate = dates[i] ?? now
    const type = REPORT_TYPES[i % REPORT_TYPES.length] ?? 'PHISH'
    const situation = SEED_SITUATIONS[i % SEED_SITUATIONS.length] ?? 'nothing'
    const domain = fakeDomain(rng)
    const urlCount = i % 7 === 3 ? 0 : i % 5 === 0 ? rng.int(2, 3) : 1
    const urls = Array.from({ length: urlCount }, (_v, k) => `https://${domain}/${rng.pick(WORDS)}/${k + 1}`)
    const brand = rng.pick(SEED_BRANDS)
    const mitigation = (n: number, type: string, opts: { at?: number, fixed?: string | null, entity?: 'url_pattern' | 'account' | 'zone' }): SimMitigation => {
      const entityType = opts.entity ?? (type.includes('interstitial') || type === 'geo_block' ? 'url_pattern' : rng.pick(['account', 'zone'] as const))
      return {
        id: `${id}-m${n}`,
        type,
        entityType,
        entityId: entityType === 'url_pattern' ? (urls[0] ?? `https://${domain}/*`) : rng.id(32, '0123456789abcdef'),
        appearsAt: cdate,
        // seeded mitigations took effect in the past (never after the seed's now)
        effectiveAt: opts.at ?? Math.min(cdate + rng.int(2, 72) * HOUR, Math.max(cdate, now - 60_000)),
        fixedStatus: opts.fixed === undefined ? 'active' : opts.fixed,
        appealedAt: null
      }
    }
    const mitigations: SimMitigation[] = []
    switch (situation) {
      case 'removal_active':
        mitigations.push(mitigation(1, 'phishing_interstitial', { entity: 'url_pattern' }))
        mitigations.push(mitigation(2, REMOVALS[Math.floor(i / 6) % REMOVALS.length] ?? 'account_suspend', {}))
        break
      case 'interstitial_active':
        mitigations.push(mitigation(1, RESTRICTIONS[Math.floor(i / 6) % RESTRICTIONS.length] ?? 'phishing_interstitial', {}))
        if (rng.bool()) mitigations.push(mitigation(2, 'account_suspend', { fixed: 'removed' }))
        break
      case 'pending':
        mitigations.push(mitigation(1, 'phishing_interstitial', { at: now + rng.int(2, 48) * HOUR, fixed: 'pending', entity: 'url_pattern' }))
        break
      case 'mitigation_in_review':
        mitigations.push(mitigation(1, 'misleading_interstitial', { fixed: 'in_review', entity: 'url_pattern' }))
        break
      case 'nothing':
        if (i % 2 === 0) mitigations.push(mitigation(1, 'phishing_interstitial', { fixed: 'cancelled', entity: 'url_pattern' }))
        break
      case 'in_review':
        break
    }
    out.push({
      id,
      cdate,
      domain,
      type,
      urls,
      justification: `Seeded ${type} report ${i + 1}: ${rng.pick(WORDS)} page abusing ${brand}`,
      originalWork: type === 'PHISH' || type === 'TM' || type === 'DMCA' ? brand : null,
      submitter: {
        name: rng.pick(NAMES),
        email: fakeEmail(rng),
        company: rng.bool() ? `${brand} Security` : null,
        telephone: rng.bool(0.3) ? fakePhone(rng) : null
      },
      acceptedAt: situation === 'in_review' ? null : cdate,
      externalHostNotified: rng.bool(0.3),
      mitigations,
      appeals: [],
      situation
    })
  }
  return out
}
