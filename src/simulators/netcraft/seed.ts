/**
 * Deterministic seed: every Netcraft status (verified both with and without authorisation), url, e-mail and IP
 * attacks, ids increasing with the report time (Netcraft's ids are assigned in submission order), notes on some
 * takedowns, and one wildcard takedown (`*.` host) that makes reports of its sub-domains answer TD_WILDCARD.
 */
import { NETCRAFT_STATUS_SLUGS, type NetcraftStatus } from '../../connectors/netcraft/wire.js'
import { fakeDomain, fakeEmail, fakeIpv4, fakeUrl, Rng, SEED_BRANDS, spreadDates } from '../random.js'
import { HOUR, type SimTakedown, type Step, type TakedownStore } from './state.js'

/** the steps a takedown went through to reach its current status (status descriptions of the takedown list docs) */
const PATHS: Readonly<Record<NetcraftStatus, readonly NetcraftStatus[]>> = {
  unverified: ['unverified'],
  verified: ['unverified', 'verified'],
  inactive_monitoring: ['unverified', 'inactive_monitoring'],
  contacted_hosting: ['unverified', 'verified', 'contacted_hosting'],
  contacted_upstream: ['unverified', 'verified', 'contacted_hosting', 'contacted_upstream'],
  contacted_police: ['unverified', 'verified', 'contacted_hosting', 'contacted_police'],
  resolved_monitoring: ['unverified', 'verified', 'contacted_hosting', 'resolved_monitoring'],
  resolved: ['unverified', 'verified', 'contacted_hosting', 'resolved_monitoring', 'resolved'],
  stale: ['unverified', 'inactive_monitoring', 'stale'],
  invalid: ['unverified', 'invalid']
}
const HOSTS = ['Cloudflare, Inc.', 'DigitalOcean, LLC', 'Hetzner Online GmbH', 'OVH SAS']
const REGISTRARS = ['NameCheap, Inc.', 'GoDaddy.com, LLC', 'Tucows Domains Inc.']
export const SEED_REGION = 'sandbox-region'

export function seedTakedowns (store: TakedownStore, seed: number, count: number, spanDays?: number): void {
  const rng = new Rng(seed ^ 0x6e637261)
  const now = store.clock.now()
  // oldest first, so ids grow with the report time
  const dates = spreadDates(rng, count, now, spanDays).reverse()
  dates.forEach((createdAt, i) => {
    const status = NETCRAFT_STATUS_SLUGS[i % NETCRAFT_STATUS_SLUGS.length] as NetcraftStatus
    const kind = i % 7 === 5 ? 'email' : i % 7 === 6 ? 'ip' : 'url'
    const attack = kind === 'email' ? fakeEmail(rng) : kind === 'ip' ? `http://${fakeIpv4(rng)}/gate.php` : fakeUrl(rng)
    const steps = stepsOf(rng, PATHS[status], createdAt, now)
    const contacted = steps.find(s => s.status === 'contacted_hosting')
    // verified takedowns alternate between waiting for authorisation and authorised (notices about to go out)
    const authAt = contacted !== undefined ? contacted.at - HOUR / 2 : status === 'verified' && i % 2 === 1 ? (steps.at(-1)?.at ?? createdAt) : null
    const t: SimTakedown = {
      id: String(30400000 + i * 7),
      attack,
      reportedUrl: attack,
      attackType: kind === 'email' ? 'advance_fee_fraud' : kind === 'ip' ? 'malware_c2' : rng.pick(['phishing_url', 'phishing_url', 'fake_shop']),
      region: SEED_REGION,
      brand: rng.pick(SEED_BRANDS),
      reporter: rng.bool(0.5) ? 'netcraft' : 'soc@acme.example',
      reportSource: rng.pick(['Phishing Feed', 'Takedown Interface', 'API']),
      customerLabel: '',
      tags: rng.bool(0.3) ? ['generic-phish'] : [],
      falsePositive: status === 'invalid' && rng.bool(0.5),
      host: status === 'unverified' ? '' : rng.pick(HOSTS),
      registrar: status === 'unverified' ? '' : rng.pick(REGISTRARS),
      ip: kind === 'email' ? '' : fakeIpv4(rng),
      createdAt,
      steps,
      authAt: authAt === null ? null : Math.max(createdAt, authAt),
      authSource: authAt === null ? '' : rng.pick(['customer', 'netcraft'] as const),
      escalatedAt: null
    }
    store.add(t)
    if (i % 4 === 0 && steps.length > 1) store.notes.push({ id: 1394700000 + i, takedownId: t.id, groupId: 0, author: 'Netcraft', text: 'Hosting provider acknowledged the report', at: steps[1]!.at })
  })
  // older than every other seeded takedown, so its id (the lowest) keeps ids in report-time order
  const wildcardAt = (dates[0] ?? now) - 86_400_000
  store.add({
    id: '30399993',
    attack: `https://*.wild-${fakeDomain(rng)}/`,
    reportedUrl: '',
    attackType: 'phishing_url',
    region: SEED_REGION,
    brand: 'Acme Bank',
    reporter: 'soc@acme.example',
    reportSource: 'API',
    customerLabel: '',
    tags: [],
    falsePositive: false,
    host: 'OVH SAS',
    registrar: 'Offshore Names Ltd.',
    ip: fakeIpv4(rng),
    createdAt: wildcardAt,
    steps: stepsOf(rng, PATHS.contacted_hosting, wildcardAt, now),
    authAt: wildcardAt,
    authSource: 'customer',
    escalatedAt: null
  })
}

/** The path's steps at growing fractions of the time between the report and a minute ago. */
function stepsOf (rng: Rng, path: readonly NetcraftStatus[], createdAt: number, now: number): Step[] {
  const span = Math.max(0, now - createdAt - 60_000)
  let share = 0
  return path.map((status, k) => {
    if (k > 0) share += (1 - share) * rng.int(10, 60) / 100
    return { at: createdAt + Math.floor(span * share), status }
  })
}
