/**
 * Pure wire → canonical mapping. Never switches on status values: the status comes from the engine, fed with the
 * facts extracted here. Fields Cloudflare does not give are null.
 */
import { withIdentity } from '../../domain/target-identity.js'
import { extend } from '../../domain/objects.js'
import type { Case, CaseDetail, HistoryEntry, Mitigation as CaseMitigation } from '../../schemas/case.js'
import type { Facts } from '../../status/table.js'
import type { MappedStatus } from '../../status/engine.js'
import { caseSelfLink, encodeCaseId } from '../../domain/case-id.js'
import { toRfc3339 } from '../../domain/time.js'
import { ConnectorError } from '../connector.js'
import type { AbuseReport, Mitigation } from './wire.js'

/** Report `type` → threat class; anything else is lowercased (Cloudflare API schema, GetAbuseReport). */
export const THREAT_CLASS_BY_TYPE: Readonly<Record<string, string>> = {
  PHISH: 'phishing',
  GEN: 'general',
  THREAT: 'threat',
  DMCA: 'copyright',
  TM: 'trademark',
  REG_WHO: 'registrar_whois',
  NCSEI: 'ncsei',
  EMER: 'emergency',
  NETWORK: 'network'
}

/** RFC 3339 UTC, or null when the vendor value is missing or not a date. */
export const toIso = toRfc3339

/** The mitigations whose status is `active`. */
export function activeMitigations (mitigations: readonly Mitigation[]): Mitigation[] {
  return mitigations.filter(m => m.status === 'active')
}

/**
 * Facts for the rules table (status-map.ts). `active` is the list of the report's active mitigations, or null when
 * they were not fetched (then no removal type can match and an active report reads as `mitigated`).
 */
export function statusFacts (report: AbuseReport, active: readonly Mitigation[] | null): Facts {
  const s = report.mitigation_summary ?? {}
  return {
    activeCount: s.active_count ?? 0,
    pendingCount: s.pending_count ?? 0,
    inReviewCount: s.in_review_count ?? 0,
    activeMitigationTypes: (active ?? []).map(m => m.type)
  }
}

/**
 * A pending mitigation's effective_date is when it "will become active" (Cloudflare API docs, List abuse report
 * mitigations): a plan, not something that happened, so it dates neither the case nor a history entry.
 */
function happened (m: Mitigation): boolean {
  return m.status !== 'pending'
}

/** Latest parseable effective_date of a mitigation in effect, or null. */
function latestEffective (mitigations: readonly Mitigation[]): string | null {
  let best: number | null = null
  for (const m of mitigations.filter(happened)) {
    const ms = m.effective_date === null || m.effective_date === undefined ? NaN : Date.parse(m.effective_date)
    if (!Number.isNaN(ms) && (best === null || ms > best)) best = ms
  }
  return best === null ? null : new Date(best).toISOString()
}

function nonEmpty (value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value
}

/**
 * One report as a Case. `mitigations` are the ones known to the caller (the active ones in a listing, all of them in
 * the detail view); `updatedAt` is the latest effective_date among them, null when none is known.
 */
/** The canonical created timestamp; a report without a readable one is a protocol failure. */
export function createdAtOf (report: AbuseReport): string {
  const createdAt = toIso(report.cdate)
  if (createdAt === null) throw new ConnectorError('cloudflare', 'protocol', `abuse report ${report.id} has an unparseable cdate`)
  return createdAt
}

export function toCase (report: AbuseReport, status: MappedStatus, mitigations: readonly Mitigation[]): Case {
  const createdAt = createdAtOf(report)
  const firstUrl = (report.urls ?? []).find(u => u !== '')
  const domain = nonEmpty(report.domain)
  const target: Case['target'] = withIdentity(firstUrl !== undefined
    ? { type: 'url', value: firstUrl, domain }
    : { type: 'domain', value: report.domain, domain })
  return {
    id: encodeCaseId('cloudflare', report.id),
    provider: 'cloudflare',
    providerCaseId: report.id,
    target,
    status: status.status,
    terminal: status.terminal,
    providerStatus: report.status,
    brand: { id: null, name: nonEmpty(report.original_work) },
    threat: { class: THREAT_CLASS_BY_TYPE[report.type] ?? report.type.toLowerCase(), name: null, platform: null },
    reportedBy: nonEmpty(report.submitter?.email),
    createdAt,
    updatedAt: latestEffective(mitigations),
    links: { self: caseSelfLink('cloudflare', report.id), provider: null }
  }
}

function toCaseMitigation (m: Mitigation): CaseMitigation {
  return {
    id: m.id,
    type: m.type,
    status: m.status,
    effectiveAt: toIso(m.effective_date),
    entityType: nonEmpty(m.entity_type),
    entityId: nonEmpty(m.entity_id)
  }
}

/**
 * The detail view: the Case plus every mitigation and a history of the submission followed by one entry per
 * mitigation in effect, oldest effective_date first (pending ones and those without a parseable date have no entry).
 */
export function toCaseDetail (report: AbuseReport, status: MappedStatus, mitigations: readonly Mitigation[], raw: boolean): CaseDetail {
  const base = toCase(report, status, mitigations)
  const dated = mitigations.filter(happened)
    .map(m => ({ m, at: toIso(m.effective_date) }))
    .filter((x): x is { m: Mitigation, at: string } => x.at !== null)
    .sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : 0)
  const history: HistoryEntry[] = [
    { at: base.createdAt, status: null, providerStatus: 'submitted', message: 'report submitted', source: 'provider' },
    ...dated.map(({ m, at }) => ({
      at,
      status: null,
      providerStatus: m.status,
      message: `${m.type} on ${m.entity_type ?? 'entity'} ${m.entity_id ?? ''}`.trimEnd(),
      source: 'provider' as const
    }))
  ]
  const detail: CaseDetail = extend(base, { history, mitigations: mitigations.map(toCaseMitigation) })
  if (raw) detail.raw = report
  return detail
}
