/**
 * Deterministic seed: every documented status, every incident type (domain with url, domain without url, email, phone,
 * ipv4, social), some incidents served with only the deprecated `statusVerbose`, some in a managed sub-client.
 */
import { PHISHFORT_STATUSES, type PhishfortStatus } from '../../connectors/phishfort/wire.js'
import { fakeDomain, fakeEmail, fakeIpv4, fakePhone, fakeUrl, Rng, spreadDates } from '../random.js'
import { HOUR, MAIN_CLIENT, SUB_CLIENT, step, type IncidentStore, type SimIncident, type Step } from './state.js'

/** the steps an incident went through to reach its current status (PhishFort Client API docs, 'Incident Lifecycle' page) */
const PATHS = {
  pending_review: ['pending_review'],
  case_building: ['pending_review', 'case_building'],
  approval_required: ['pending_review', 'case_building', 'approval_required'],
  takedown_ready: ['pending_review', 'case_building', 'approval_required', 'takedown_ready'],
  pre_weaponised: ['pending_review', 'case_building', 'pre_weaponised'],
  takedown_in_progress: ['pending_review', 'case_building', 'takedown_ready', 'takedown_in_progress'],
  takedown_success: ['pending_review', 'case_building', 'takedown_in_progress', 'takedown_success'],
  takedown_attempt_failed: ['pending_review', 'case_building', 'takedown_in_progress', 'takedown_attempt_failed'],
  blocklisted: ['pending_review', 'case_building', 'blocklisted'],
  action_required: ['pending_review', 'case_building', 'action_required'],
  closed: ['pending_review', 'case_building', 'blocklisted', 'closed']
} as const satisfies Record<PhishfortStatus, readonly PhishfortStatus[]>

const KINDS = ['domain-url', 'domain', 'email', 'phone', 'ipv4', 'social'] as const
const SOCIAL_HOSTS = ['www.facebook.com', 'x.com', 'www.instagram.com', 't.me', 'www.tiktok.com']
const TAXONOMIES = [
  { name: 'Brand - Website - Impersonation', cls: 'phishing', target: 'Website', threat: 'Impersonation' },
  { name: 'Brand - Social Media - Impersonation', cls: 'phishing', target: 'Social Media', threat: 'Impersonation' },
  { name: 'Brand - Website - Trademark Infringement', cls: 'infringement', target: 'Website', threat: 'Trademark Infringement' }
]
const REGISTRARS = [
  { name: 'Example Registrar Inc.', difficulty: 'Medium', description: 'Registrar typically responds within 48 hours.' },
  { name: 'NameCheap, Inc.', difficulty: 'Easy', description: 'Registrar usually acts within 24 hours.' },
  { name: 'Offshore Names Ltd.', difficulty: 'Hard', description: 'Registrar rarely responds to abuse reports.' }
]
const HOSTS = ['Cloudflare, Inc.', 'DigitalOcean, LLC', 'Hetzner Online GmbH', 'OVH SAS']

export function seedIncidents (store: IncidentStore, seed: number, count: number, spanDays?: number): void {
  const rng = new Rng(seed)
  const now = store.clock.now()
  const dates = spreadDates(rng, count, now, spanDays)
  dates.forEach((createdAt, i) => {
    const status = PHISHFORT_STATUSES[i % PHISHFORT_STATUSES.length] as PhishfortStatus
    const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number]
    const client = i % 5 === 4 ? SUB_CLIENT : MAIN_CLIENT
    const taxonomy = status === 'pending_review' ? undefined : (kind === 'social' ? TAXONOMIES[1] : rng.pick(TAXONOMIES))
    const incident: SimIncident = {
      id: rng.id(20),
      clientId: client.id,
      safeDomain: client.safeDomain,
      subject: '',
      incidentType: 'domain',
      source: rng.pick(['PHISHFORT_DETECTED', 'CLIENT_REPORTED']),
      createdAt,
      incidentClass: taxonomy?.cls ?? 'n/a',
      verboseOnly: i % 4 === 3,
      steps: steps(rng, PATHS[status], createdAt, now),
      notes: [],
      attachments: []
    }
    if (rng.bool(0.8)) incident.reportedBy = rng.pick(['analyst@phishfort.com', 'soc@exampleclient.com', 'brand@acme-subsidiary.com'])
    if (taxonomy !== undefined) {
      incident.threatTaxonomy = {
        name: taxonomy.name,
        description: '',
        incidentClass: taxonomy.cls,
        incidentTargetType: { id: `tt-${taxonomy.target.length}`, name: taxonomy.target, description: `${taxonomy.target} used to deceive victims` },
        incidentType: { id: 'it-brand', name: 'Brand', description: 'Attacks targeting a specific brand' },
        incidentThreatType: { id: `th-${taxonomy.threat.length}`, name: taxonomy.threat, description: `${taxonomy.threat} of the brand` }
      }
    }
    switch (kind) {
      case 'domain-url': {
        const domain = fakeDomain(rng)
        Object.assign(incident, { incidentType: 'domain', subject: domain, domain, url: fakeUrl(rng, domain) })
        break
      }
      case 'domain': {
        // "domain" present only when the url path differs (Data Structures page): a bare domain has no url
        const domain = fakeDomain(rng)
        Object.assign(incident, { incidentType: 'domain', subject: domain, domain })
        break
      }
      case 'email': Object.assign(incident, { incidentType: 'email', subject: fakeEmail(rng) }); break
      case 'phone': Object.assign(incident, { incidentType: 'phone', subject: fakePhone(rng) }); break
      case 'ipv4': Object.assign(incident, { incidentType: 'ipv4', subject: fakeIpv4(rng) }); break
      case 'social': {
        const url = `https://${rng.pick(SOCIAL_HOSTS)}/${rng.pick(['acme', 'globex', 'initech'])}.support${rng.int(1, 999)}`
        Object.assign(incident, { incidentType: 'social', subject: url, url })
        break
      }
    }
    if (kind === 'domain-url' || kind === 'domain') {
      if (status !== 'pending_review') incident.registrar = rng.pick(REGISTRARS)
      if (rng.bool(0.7)) incident.hostingProvider = rng.pick(HOSTS)
    }
    store.add(incident)
  })
}

/** Steps spread between creation and now, all in the past. */
function steps (rng: Rng, path: readonly PhishfortStatus[], createdAt: number, now: number): Step[] {
  const out: Step[] = [step(createdAt, path[0] ?? 'pending_review')]
  const room = Math.max(0, now - createdAt - 60_000)
  let at = createdAt
  for (const status of path.slice(1)) {
    at = Math.min(at + rng.int(1, 36) * HOUR, createdAt + room)
    at = Math.max(at, out.at(-1)?.at ?? createdAt)
    out.push(step(at, status))
  }
  return out
}
