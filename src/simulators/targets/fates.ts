/**
 * What happens to a reported site in the small internet: two data tables, each row with its share (percent). A host's
 * story and the page it shows once it is down are picked by a hash of its name, so the same host behaves the same on
 * every machine and every run. Every wait is on the sandbox clock (`paced`): SANDBOX_SPEED shortens them all.
 */
import { paced, type Clock } from '../../clock.js'

const HOUR = 3_600_000

export type Fate = 'taken_down' | 'dies_early' | 'comes_back' | 'stays_up'

/**
 * The stories. Times are from the report (`createdAt`) or from when the vendor began to say taken down / mitigated
 * (`downAt`); the newest case of a host decides.
 */
export const FATES: ReadonlyArray<{ fate: Fate, share: number, story: string }> = [
  { fate: 'taken_down', share: 45, story: 'up while the vendor works on it, down from when the vendor says taken down or mitigated' },
  { fate: 'dies_early', share: 20, story: 'down 2 h after the report, before the vendor acts (the kit moved, the host cleaned up)' },
  { fate: 'comes_back', share: 20, story: 'down with the vendor, back 12 h later for a day (a re-emergence), then down again' },
  { fate: 'stays_up', share: 15, story: 'stays up although the vendor says taken down (a vendor claim to dispute)' }
]

export const TIMES = { diesEarlyAfterMs: 2 * HOUR, backAfterMs: 12 * HOUR, backForMs: 24 * HOUR } as const

export type DeadPage = 'nxdomain' | 'refused' | 'not_found' | 'registrar_suspended' | 'hosting_suspended' | 'suspension_redirect' |
  'parked' | 'site_not_found' | 'provider_interstitial' | 'browser_warning'

/** What a down host shows. An IPv4 target has no name to lose: its `nxdomain` share refuses connections instead. */
export const DEAD_PAGES: ReadonlyArray<{ page: DeadPage, share: number }> = [
  { page: 'nxdomain', share: 20 },
  { page: 'not_found', share: 15 },
  { page: 'registrar_suspended', share: 12 },
  { page: 'hosting_suspended', share: 10 },
  { page: 'suspension_redirect', share: 8 },
  { page: 'parked', share: 10 },
  { page: 'site_not_found', share: 5 },
  { page: 'refused', share: 5 },
  { page: 'provider_interstitial', share: 10 },
  { page: 'browser_warning', share: 5 }
]

/** FNV-1a: the same name gives the same story everywhere */
export function hash (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

function pick<T extends { share: number }> (rows: readonly T[], key: string): T {
  const total = rows.reduce((n, r) => n + r.share, 0)
  let at = hash(key) % total
  for (const r of rows) {
    if (at < r.share) return r
    at -= r.share
  }
  return rows[rows.length - 1] as T
}

export const fateOf = (host: string): Fate => pick(FATES, `fate:${host}`).fate

export function deadPageOf (host: string): DeadPage {
  const page = pick(DEAD_PAGES, `page:${host}`).page
  return page === 'nxdomain' && /^\d+(\.\d+){3}$/.test(host) ? 'refused' : page
}

/** The host's case as the vendor holds it now (simulators/harness.ts SimTarget). */
export interface HostCase { createdAt: number, downAt: number | null }

/** `live` (the phishing page) or the page a down host shows, at `now`. */
export function pageAt (host: string, c: HostCase, clock: Clock): 'live' | DeadPage {
  const now = clock.now()
  const wait = (ms: number): number => paced(clock, ms)
  const vendorDown = c.downAt !== null && c.downAt <= now
  let dead: boolean
  switch (fateOf(host)) {
    case 'taken_down': dead = vendorDown; break
    case 'dies_early': dead = vendorDown || now >= c.createdAt + wait(TIMES.diesEarlyAfterMs); break
    case 'comes_back': {
      const back = (c.downAt ?? 0) + wait(TIMES.backAfterMs)
      dead = vendorDown && !(now >= back && now < back + wait(TIMES.backForMs))
      break
    }
    case 'stays_up': dead = false
  }
  return dead ? deadPageOf(host) : 'live'
}
