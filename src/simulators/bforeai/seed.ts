/**
 * Deterministic seed: every status of STATUSES (including the unmapped "Escalated to Partner") and every target kind
 * (url, bare domain, social), several brands, creation dates over months with runs of equal timestamps.
 */
import { Rng, fakeDomain, fakeUrl, spreadDates } from '../random.js'
import { BRANDS, CANCELLATION_REASONS, PLATFORMS, STATUSES, THREAT_TYPES, type BforeaiState } from './state.js'

const KINDS = ['url', 'domain', 'social'] as const
const SOCIAL_HOSTS: Record<string, string> = {
  Facebook: 'www.facebook.com',
  Instagram: 'www.instagram.com',
  X: 'x.com',
  TikTok: 'www.tiktok.com',
  LinkedIn: 'www.linkedin.com',
  YouTube: 'www.youtube.com',
  Telegram: 't.me'
}
const DESCRIPTIONS = [
  'Credential phishing page cloning the login form',
  'Lookalike domain registered for brand abuse',
  'Fake support account asking for card details',
  'Typosquat redirecting to a payment scam',
  'Cloned checkout page collecting card numbers'
]

export function seedState (state: BforeaiState, rng: Rng, count: number): void {
  const dates = spreadDates(rng, count, state.clock.now())
  for (let i = 0; i < count; i++) {
    const createdMs = dates[i] as number
    const status = STATUSES[i % STATUSES.length] as (typeof STATUSES)[number]
    const kind = KINDS[(i + Math.floor(i / STATUSES.length)) % KINDS.length] as (typeof KINDS)[number]
    const brand = rng.pick(BRANDS)
    const description = rng.pick(DESCRIPTIONS)
    const userId = rng.id(8, 'abcdef0123456789') + '-' + rng.id(4, 'abcdef0123456789')
    const updatedMs = Math.min(state.clock.now(), createdMs + rng.int(0, 72) * 3_600_000)
    let attackUrl: string
    let valueType: string
    let platform: string | null = null
    let threatType: string | null = null
    if (kind === 'social') {
      platform = rng.pick(PLATFORMS)
      threatType = rng.pick(THREAT_TYPES)
      attackUrl = `https://${SOCIAL_HOSTS[platform] ?? 'social.example'}/${brand.name.toLowerCase().replace(/\s+/g, '.')}.${rng.id(6, 'abcdefghijklmnopqrstuvwxyz0123456789')}`
      valueType = 'social'
    } else if (kind === 'domain') {
      attackUrl = `https://${fakeDomain(rng)}`
      valueType = 'domain'
    } else {
      attackUrl = fakeUrl(rng)
      valueType = 'url'
    }
    const cancelled = status.name === 'Cancelled'
    state.add({
      createdMs,
      attackUrl,
      valueType,
      brand,
      userId,
      description,
      takedownType: kind === 'social' ? 'Social Media' : 'Infrastructure',
      platform,
      threatType,
      attackId: kind === 'social' ? null : rng.int(10_000, 99_999),
      fixed: cancelled ? null : { statusId: status.id, updatedMs: status.name === 'Pending' ? null : updatedMs },
      // bforeai-notes §4.8: nullability is [?]; two seeded takedowns carry only status_id
      omitStatusName: i === 5 || i === 17,
      cancelled: cancelled ? { atMs: updatedMs, reason: CANCELLATION_REASONS[i % 3]?.reason ?? 'False positive' } : null
    })
  }
  // confirmed attacks the company already has (→ 202 "already detected" on /v2/takedown/request)
  for (let i = 0; i < 3; i++) state.detected.add(`https://${fakeDomain(rng)}`)
}
