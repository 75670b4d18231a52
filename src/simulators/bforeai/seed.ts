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

export function seedState (state: BforeaiState, rng: Rng, count: number, spanDays?: number): void {
  const dates = spreadDates(rng, count, state.clock.now(), spanDays)
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
      // BforeAI API docs, Takedown object: nullability is [?]; two seeded takedowns carry only status_id
      omitStatusName: i === 5 || i === 17,
      cancelled: cancelled ? { atMs: updatedMs, reason: CANCELLATION_REASONS[i % 3]?.reason ?? 'False positive' } : null
    })
  }
  // confirmed attacks the company already has (→ 202 "already detected" on /v2/takedown/request)
  for (let i = 0; i < 3; i++) state.detected.add(`https://${fakeDomain(rng)}`)
}

/**
 * Confirmed attacks: `count` domains detected over the last 80 days (two older than the 90-day default window), a few
 * with equal detection dates; the first seeded infrastructure takedowns that carry an attack id appear as attacks
 * whose `takedown` is already set. Uses its own Rng so the takedown seed stays as it was.
 */
export function seedAttacks (state: BforeaiState, rng: Rng, count: number): void {
  const now = state.clock.now()
  let t = now - rng.int(1, 3600) * 1000
  for (let i = 0; i < count; i++) {
    const detectionMs = i >= count - 2 ? now - (100 + i) * 86_400_000 : t
    state.attacks.push({
      attackId: 70_000 + i * 13,
      name: fakeDomain(rng),
      brand: rng.pick(BRANDS),
      detectionMs,
      updatedMs: Math.min(now, detectionMs + rng.int(1, 48) * 3_600_000),
      score: Math.round(rng.next() * 1000) / 10,
      assetType: 'domain',
      takedownId: null
    })
    if (!rng.bool(0.2)) t -= rng.int(1, 8) * 3_600_000
  }
  // attacks that already became takedowns: mirror seeded takedowns with an attack id
  const taken = state.records.filter(r => r.attackId !== null && r.valueType === 'domain').slice(0, 2)
  for (const r of taken) {
    state.attacks.push({
      attackId: r.attackId as number,
      name: new URL(r.attackUrl).hostname,
      brand: r.brand,
      detectionMs: Math.max(now - 80 * 86_400_000, r.createdMs - 3_600_000),
      updatedMs: r.createdMs,
      score: 97.5,
      assetType: 'domain',
      takedownId: r.id
    })
  }
}
