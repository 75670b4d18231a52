/**
 * Pure wire → canonical mapping. No I/O, no status branches: the unified status comes from the status engine.
 * Fields PhishFort does not give are null, never invented.
 */
import { withIdentity } from '../../domain/target-identity.js'
import { extend } from '../../domain/objects.js'
import type { Case, CaseDetail, HistoryEntry } from '../../schemas/case.js'
import type { TargetType } from '../../schemas/common.js'
import { caseSelfLink, encodeCaseId } from '../../domain/case-id.js'
import { toRfc3339 } from '../../domain/time.js'
import type { StatusEngine } from '../../status/engine.js'
import { caseRow, type CaseRow } from '../connector.js'
import type { DetailedIncident, Incident } from './wire.js'

const PROVIDER = 'phishfort'

/** RFC 3339 UTC when parseable; the vendor's own text otherwise; null when absent. */
/** Canonical RFC 3339; an unparseable value is kept as the vendor sent it. */
export function isoOrNull (value: string | null | undefined): string | null {
  return toRfc3339(value) ?? (value === undefined || value === '' ? null : value)
}

export function hostnameOf (value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null
  try {
    return new URL(value).hostname || null
  } catch {
    return null
  }
}

const SUBJECT_TYPES: ReadonlySet<string> = new Set(['email', 'phone', 'ipv4'])

/** PhishFort Client API docs, 'Data Structures' page: either `url` or `domain` (or both) is present; email/phone/ipv4 carry their value in `subject`. */
export function mapTarget (incident: Incident): Case['target'] {
  const type = incident.incidentType ?? null
  const url = incident.url ?? null
  const domain = incident.domain ?? null
  const subject = incident.subject ?? null
  if (type !== null && SUBJECT_TYPES.has(type)) {
    return { type: type as TargetType, value: subject ?? url ?? domain ?? '', domain }
  }
  if (type === 'social') {
    const value = url ?? subject ?? domain ?? ''
    return { type: 'social', value, domain: domain ?? hostnameOf(value) }
  }
  if (url !== null) return { type: 'url', value: url, domain: domain ?? hostnameOf(url) }
  const value = domain ?? subject ?? ''
  return { type: 'domain', value, domain: domain ?? subject }
}

/**
 * `providerStatus` always holds a PhishFort `status` value (snake_case). When PhishFort sends only the deprecated
 * `statusVerbose` label ("Takedown Ready"), it is written the same way ("takedown_ready"); the legacy labels without a
 * status value become `takedown_failed` / `takedown_pending`, which GET /v1/reference/statuses lists as well.
 */
export function providerStatusOf (incident: Incident): string | null {
  if (incident.status !== undefined && incident.status !== null) return incident.status
  const label = incident.statusVerbose ?? null
  return label === null || label.trim() === '' ? null : statusValueOf(label)
}

/** A `statusVerbose` label written as a `status` value: "Pre-Weaponised" → "pre_weaponised". */
export function statusValueOf (label: string): string {
  return label.trim().toLowerCase().replace(/[\s\-./]+/g, '_')
}

export interface MapOptions {
  /**
   * PHISHFORT_DASHBOARD_URL: the dashboard page of an incident, `{id}` standing for its id. PhishFort documents the
   * link only in report answers, not its format, so the gateway builds it from this template on every route, or
   * gives null everywhere when it is unset.
   */
  dashboardUrl?: string | null
}

export function dashboardLink (template: string | null | undefined, id: string): string | null {
  return template === null || template === undefined ? null : template.replaceAll('{id}', encodeURIComponent(id))
}

/** The listed incident as a row: its sort key now, the Case when the merge hands it out. */
export function toRow (incident: Incident, status: StatusEngine, opts: MapOptions = {}): CaseRow {
  return caseRow(createdAtOf(incident), encodeCaseId(PROVIDER, incident.id), () => toCase(incident, status, opts))
}

function createdAtOf (incident: Incident): string {
  return isoOrNull(incident.timestamp) ?? incident.timestamp
}

export function toCase (incident: Incident, status: StatusEngine, opts: MapOptions = {}): Case {
  const providerStatus = providerStatusOf(incident)
  const mapped = status.map(PROVIDER, providerStatus)
  return {
    id: encodeCaseId(PROVIDER, incident.id),
    provider: PROVIDER,
    providerCaseId: incident.id,
    target: withIdentity(mapTarget(incident)),
    status: mapped.status,
    terminal: mapped.terminal,
    providerStatus,
    brand: { id: null, name: incident.safeDomain ?? null },
    threat: {
      class: incident.incidentClass ?? null,
      name: incident.threatTaxonomy?.name ?? null,
      platform: null
    },
    reportedBy: incident.reportedBy ?? null,
    createdAt: createdAtOf(incident),
    updatedAt: isoOrNull(incident.lastHistoryUpdateTimestamp),
    links: { self: caseSelfLink(PROVIDER, incident.id), provider: dashboardLink(opts.dashboardUrl, incident.id) }
  }
}

export function toCaseDetail (incident: DetailedIncident, status: StatusEngine, opts: MapOptions & { raw?: boolean } = {}): CaseDetail {
  const history: HistoryEntry[] = (incident.history ?? [])
    .map((h, index) => ({ index, ms: Date.parse(h.timestamp ?? ''), entry: h }))
    .filter(h => !Number.isNaN(h.ms))
    // oldest first; entries with equal timestamps keep the vendor's order
    .sort((a, b) => a.ms - b.ms || a.index - b.index)
    .map(({ ms, entry }) => ({ at: new Date(ms).toISOString(), status: null, providerStatus: null, message: entry.message ?? null, source: 'provider' as const }))
  const registrar = incident.registrar ?? null
  const detail: CaseDetail = extend(toCase(incident, status, opts), {
    history,
    state: incident.incidentState === undefined || incident.incidentState === null ? null : { ...incident.incidentState },
    registrar: registrar === null
      ? null
      : { name: registrar.name ?? null, difficulty: registrar.difficulty ?? null, description: registrar.description ?? null },
    hostingProvider: incident.hostingProvider ?? null,
    takedownStartedAt: isoOrNull(incident.burnStartedTimestamp),
    resolvedAt: isoOrNull(incident.takedownTimestamp)
  })
  if (opts.raw === true) detail.raw = incident
  return detail
}
