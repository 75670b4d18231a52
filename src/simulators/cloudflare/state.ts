/**
 * The Cloudflare simulator's store and lifecycle. Nothing runs on timers: a report's status, its mitigations and
 * their statuses are computed from the injected clock whenever they are read.
 *
 * Lifecycle of a report created through the API (t0 = submit time):
 *   t0        in_review, no mitigations
 *   t0 + 1 h  accepted, one interstitial mitigation pending (effective t0 + 4 h)         → unified in_progress
 *   t0 + 4 h  the interstitial is active; phishing reports also get account_suspend
 *             pending (effective t0 + 24 h)                                               → unified mitigated
 *   t0 + 24 h phishing: account_suspend active                                            → unified taken_down
 */
import { paced, type Clock } from '../../clock.js'
import type { AbuseReport, Mitigation, MitigationSummary } from '../../connectors/cloudflare/wire.js'

export const HOUR = 3_600_000
export const DAY = 24 * HOUR

export interface SimMitigation {
  id: string
  type: string
  entityType: string
  entityId: string
  /** not listed before this time */
  appearsAt: number
  /** effective_date */
  effectiveAt: number
  /** seeded mitigations have a fixed status; null = pending before effectiveAt, active from then on */
  fixedStatus: string | null
  /** an appeal puts the mitigation in review */
  appealedAt: number | null
  /** Cloudflare's decision on the appeal (the `/__sim` review control): from `at` on, the mitigation has `status` */
  review?: { at: number, status: string }
}

export interface SimReport {
  id: string
  cdate: number
  domain: string
  type: string
  urls: string[]
  justification: string | null
  originalWork: string | null
  submitter: { name: string, email: string, company: string | null, telephone: string | null }
  /** null: stays in_review */
  acceptedAt: number | null
  externalHostNotified: boolean
  mitigations: SimMitigation[]
  appeals: Array<{ at: number, body: unknown }>
}

export class CloudflareState {
  readonly reports = new Map<string, SimReport>()
  readonly #clock: Clock
  #created = 0

  constructor (clock: Clock) {
    this.#clock = clock
  }

  now (): number { return this.#clock.now() }

  add (report: SimReport): void { this.reports.set(report.id, report) }

  nextId (): string {
    this.#created++
    // abuse_rand values are opaque (Cloudflare API schema, SubmitAbuseReport); ours are hex, with a counter so they never collide with the seed
    const n = (this.#created * 2654435761) >>> 0
    return `cf${n.toString(16).padStart(8, '0')}${this.#created.toString(16).padStart(6, '0')}`
  }

  status (r: SimReport, now = this.now()): 'accepted' | 'in_review' {
    return r.acceptedAt !== null && now >= r.acceptedAt ? 'accepted' : 'in_review'
  }

  mitigationStatus (m: SimMitigation, now = this.now()): string {
    if (m.review !== undefined && now >= m.review.at) return m.review.status
    if (m.appealedAt !== null && now >= m.appealedAt) return 'in_review'
    if (m.fixedStatus !== null) return m.fixedStatus
    return now < m.effectiveAt ? 'pending' : 'active'
  }

  visibleMitigations (r: SimReport, now = this.now()): SimMitigation[] {
    return r.mitigations.filter(m => now >= m.appearsAt)
  }

  mitigationToWire (m: SimMitigation, now = this.now()): Mitigation {
    return {
      id: m.id,
      type: m.type,
      effective_date: new Date(m.effectiveAt).toISOString(),
      status: this.mitigationStatus(m, now),
      entity_type: m.entityType,
      entity_id: m.entityId
    }
  }

  summary (r: SimReport, now = this.now()): Required<MitigationSummary> {
    const statuses = this.visibleMitigations(r, now).map(m => this.mitigationStatus(m, now))
    const count = (s: string): number => statuses.filter(x => x === s).length
    return {
      accepted_url_count: this.status(r, now) === 'accepted' ? r.urls.length || 1 : 0,
      active_count: count('active'),
      external_host_notified: r.externalHostNotified,
      in_review_count: count('in_review'),
      pending_count: count('pending')
    }
  }

  toWire (r: SimReport, now = this.now()): AbuseReport {
    const out: AbuseReport = {
      id: r.id,
      cdate: new Date(r.cdate).toISOString(),
      domain: r.domain,
      type: r.type,
      status: this.status(r, now),
      mitigation_summary: this.summary(r, now),
      submitter: {
        name: r.submitter.name,
        email: r.submitter.email,
        ...(r.submitter.company === null ? {} : { company: r.submitter.company }),
        ...(r.submitter.telephone === null ? {} : { telephone: r.submitter.telephone })
      },
      urls: r.urls
    }
    if (r.justification !== null) out.justification = r.justification
    if (r.originalWork !== null) out.original_work = r.originalWork
    return out
  }

  /** A report submitted through the API, with the lifecycle above. */
  create (input: Omit<SimReport, 'id' | 'cdate' | 'acceptedAt' | 'externalHostNotified' | 'mitigations' | 'appeals'>): SimReport {
    const t0 = this.now()
    const wait = (ms: number): number => paced(this.#clock, ms)
    const id = this.nextId()
    const interstitial = input.type === 'PHISH' ? 'phishing_interstitial' : input.type === 'DMCA' ? 'copyright_interstitial' : 'misleading_interstitial'
    const mitigations: SimMitigation[] = [{
      id: `${id}-m1`,
      type: interstitial,
      entityType: 'url_pattern',
      entityId: input.urls[0] ?? input.domain,
      appearsAt: t0 + wait(HOUR),
      effectiveAt: t0 + wait(4 * HOUR),
      fixedStatus: null,
      appealedAt: null
    }]
    if (input.type === 'PHISH') {
      mitigations.push({
        id: `${id}-m2`,
        type: 'account_suspend',
        entityType: 'account',
        entityId: `acct-${id.slice(-8)}`,
        appearsAt: t0 + wait(4 * HOUR),
        effectiveAt: t0 + wait(24 * HOUR),
        fixedStatus: null,
        appealedAt: null
      })
    }
    const report: SimReport = { ...input, id, cdate: t0, acceptedAt: t0 + wait(HOUR), externalHostNotified: false, mitigations, appeals: [] }
    this.add(report)
    return report
  }

  /** Was one of these URLs submitted in the 7 days before now? (Cloudflare API schema, SubmitAbuseReport duplicate rule) */
  recentlySubmitted (urls: readonly string[], now = this.now()): boolean {
    const wanted = new Set(urls)
    for (const r of this.reports.values()) {
      if (r.cdate > now - 7 * DAY && r.cdate <= now && r.urls.some(u => wanted.has(u))) return true
    }
    return false
  }
}
