/**
 * PhishFort simulator state: incidents with a timeline of status steps. The status, history and timestamps are computed
 * lazily from the injected clock at read time (no timers), so tests move an incident along with `clock.advance()`.
 */
import { paced, type Clock } from '../../clock.js'
import {
  PHISHFORT_STATUSES, type DetailedIncident, type Incident, type IncidentState, type PhishfortStatus, type ThreatTaxonomy
} from '../../connectors/phishfort/wire.js'
import { Rng } from '../random.js'

export const MIN = 60_000
export const HOUR = 60 * MIN

/** Human labels of `statusVerbose` (PhishFort Client API docs, 'Incident Lifecycle' page, and the polarityio/phishfort
 * integration's labels; the legacy "Takedown Failed" / "Takedown Pending" from the 'Incidents' page). */
export const VERBOSE_LABELS = {
  pending_review: 'Pending Review',
  case_building: 'Case Building',
  approval_required: 'Approval Required',
  takedown_ready: 'Takedown Ready',
  pre_weaponised: 'Pre-Weaponised',
  takedown_in_progress: 'Takedown Pending',
  takedown_success: 'Takedown Success',
  takedown_attempt_failed: 'Takedown Failed',
  blocklisted: 'Blocklisted',
  action_required: 'Action Required',
  closed: 'Closed'
} as const satisfies Record<PhishfortStatus, string>

const STEP_MESSAGES = {
  pending_review: 'Incident reported and queued for analyst review',
  case_building: 'Analyst is reviewing the incident and gathering evidence',
  approval_required: 'Takedown plan is waiting for approval',
  takedown_ready: 'Takedown approved',
  pre_weaponised: 'Incident placed into monitoring',
  takedown_in_progress: 'Takedown notices sent to the registrar and hosting provider',
  takedown_success: 'Content is offline; takedown complete',
  takedown_attempt_failed: 'Takedown attempt failed; the provider did not act',
  blocklisted: 'Incident blocklisted with partners',
  action_required: 'Action required from the client',
  closed: 'Incident closed'
} as const satisfies Record<PhishfortStatus, string>

export interface Step { at: number, status: PhishfortStatus, message: string }
export interface Note { at: number, message: string, type: string }

export interface SimIncident {
  id: string
  clientId: string
  safeDomain: string
  subject: string
  incidentType: string
  domain?: string
  url?: string
  source: string
  createdAt: number
  reportedBy?: string
  threatTaxonomy?: ThreatTaxonomy
  incidentClass: string
  registrar?: { name?: string, difficulty?: string, description?: string }
  hostingProvider?: string
  /** seeded incidents that predate `status`: only the deprecated `statusVerbose` is served */
  verboseOnly: boolean
  /** status steps, oldest first; a step is visible once the clock reaches `at` */
  steps: Step[]
  /** client comments and attachments (history entries that do not change the status) */
  notes: Note[]
  attachments: Array<{ filename: string, contentType: string, size: number }>
}

export interface ClientInfo { id: string, safeDomain: string }

export const MAIN_CLIENT: ClientInfo = { id: '0Xp5voyA4y5xYNoufOVC', safeDomain: 'exampleclient.com' }
export const SUB_CLIENT: ClientInfo = { id: '7sUbClIeNtAcMe00beta', safeDomain: 'acme-subsidiary.com' }

export function step (at: number, status: PhishfortStatus, message: string = STEP_MESSAGES[status]): Step {
  return { at, status, message }
}

/** Lifecycles of created incidents; offsets from the report time (divided by the clock's speed). */
export const LIFECYCLES = {
  takedown: [[0, 'pending_review'], [15 * MIN, 'case_building'], [2 * HOUR, 'takedown_in_progress'], [24 * HOUR, 'takedown_success']],
  monitor: [[0, 'pending_review'], [30 * MIN, 'pre_weaponised']],
  /** `POST /v1/incident/{id}/tkd` on an existing incident: back to case building, then the takedown path */
  requestTakedown: [[0, 'case_building'], [2 * HOUR, 'takedown_in_progress'], [24 * HOUR, 'takedown_success']],
  requestMonitor: [[0, 'pre_weaponised']],
  /** `safe`: an analyst reviews the request, then closes the incident */
  markSafe: [[HOUR, 'closed']]
} as const satisfies Record<string, ReadonlyArray<readonly [number, PhishfortStatus]>>

export class IncidentStore {
  readonly #byId = new Map<string, SimIncident>()
  readonly #clock: Clock
  readonly #rng: Rng

  constructor (clock: Clock, seed: number) {
    this.#clock = clock
    this.#rng = new Rng(seed ^ 0x5f3759df)
  }

  get clock (): Clock { return this.#clock }

  add (incident: SimIncident): void { this.#byId.set(incident.id, incident) }
  get (id: string): SimIncident | undefined { return this.#byId.get(id) }
  all (): SimIncident[] { return [...this.#byId.values()] }

  newId (): string {
    for (;;) {
      const id = this.#rng.id(20)
      if (!this.#byId.has(id)) return id
    }
  }

  visibleSteps (incident: SimIncident): Step[] {
    const now = this.#clock.now()
    return incident.steps.filter(s => s.at <= now)
  }

  statusOf (incident: SimIncident): PhishfortStatus {
    return this.visibleSteps(incident).at(-1)?.status ?? 'pending_review'
  }

  /**
   * Replaces the steps still in the future with a new plan starting now (an action supersedes the old plan); a client
   * request leaves a note in the history, an analyst's own decision (the `/__sim` plan control) does not.
   */
  replan (incident: SimIncident, plan: ReadonlyArray<readonly [number, PhishfortStatus]>, note?: string): void {
    const now = this.#clock.now()
    incident.steps = incident.steps.filter(s => s.at <= now)
    if (note !== undefined) incident.notes.push({ at: now, message: note, type: 'info' })
    for (const [offset, status] of plan) incident.steps.push(step(now + paced(this.#clock, offset), status))
  }

  /** newest first by creation, ties by id descending: the order the simulator pages in */
  sorted (): SimIncident[] {
    return this.all().sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  }

  toIncident (incident: SimIncident, detailed: false): Incident
  toIncident (incident: SimIncident, detailed: true): DetailedIncident
  toIncident (incident: SimIncident, detailed: boolean): Incident | DetailedIncident {
    const steps = this.visibleSteps(incident)
    const status = steps.at(-1)?.status ?? 'pending_review'
    const now = this.#clock.now()
    const notes = incident.notes.filter(n => n.at <= now)
    const lastUpdate = Math.max(steps.at(-1)?.at ?? incident.createdAt, ...notes.map(n => n.at))
    const burn = steps.find(s => s.status === 'takedown_in_progress')
    const done = steps.find(s => s.status === 'takedown_success')
    const base: Incident = {
      id: incident.id,
      clientId: incident.clientId,
      safeDomain: incident.safeDomain,
      subject: incident.subject,
      incidentType: incident.incidentType,
      ...(incident.domain === undefined ? {} : { domain: incident.domain }),
      ...(incident.url === undefined ? {} : { url: incident.url }),
      source: incident.source,
      ...(incident.verboseOnly ? {} : { status }),
      statusVerbose: VERBOSE_LABELS[status],
      timestamp: new Date(incident.createdAt).toISOString(),
      lastHistoryUpdateTimestamp: new Date(lastUpdate).toISOString(),
      ...(burn === undefined ? {} : { burnStartedTimestamp: new Date(burn.at).toISOString() }),
      ...(done === undefined ? {} : { takedownTimestamp: new Date(done.at).toISOString() }),
      ...(incident.reportedBy === undefined ? {} : { reportedBy: incident.reportedBy }),
      incidentClass: incident.incidentClass
    }
    if (incident.threatTaxonomy !== undefined) {
      // the list returns the lite taxonomy, the detail the expanded one (Data Structures page, "ThreatTaxonomy")
      base.threatTaxonomy = detailed
        ? incident.threatTaxonomy
        : { name: incident.threatTaxonomy.name ?? '', description: incident.threatTaxonomy.description ?? '' }
    }
    if (!detailed) return base
    const history = [
      ...steps.map(s => ({ at: s.at, message: s.message, type: 'info/auto' })),
      ...notes
    ].sort((a, b) => a.at - b.at)
    return {
      ...base,
      history: history.map(h => ({ message: h.message, timestamp: new Date(h.at).toISOString(), type: h.type })),
      incidentState: stateFor(status, Math.max(incident.createdAt, now - 6 * HOUR)),
      ...(incident.registrar === undefined ? {} : { registrar: incident.registrar }),
      ...(incident.hostingProvider === undefined ? {} : { hostingProvider: incident.hostingProvider })
    }
  }
}

/** A plausible incidentState for a status (Data Structures page, "IncidentState"). */
function stateFor (status: PhishfortStatus, at: number): IncidentState {
  const removed = status === 'takedown_success' || status === 'closed'
  return {
    unresponsive: removed,
    warningBanner: status === 'blocklisted',
    responsive: !removed,
    contentRemoved: removed,
    redirect: false,
    inconclusive: status === 'pending_review',
    timestamp: new Date(at).toISOString()
  }
}

export function isPhishfortStatus (value: string): value is PhishfortStatus {
  return (PHISHFORT_STATUSES as readonly string[]).includes(value)
}
