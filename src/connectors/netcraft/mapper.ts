/**
 * Pure wire → canonical mapping for Netcraft takedowns. No I/O; the unified status comes from the status engine.
 * Netcraft sends `""` for every unset field: those become null, never invented values.
 */
import { withIdentity } from '../../domain/target-identity.js'
import { caseSelfLink, encodeCaseId } from '../../domain/case-id.js'
import { extend } from '../../domain/objects.js'
import type { Case, CaseDetail, HistoryEntry } from '../../schemas/case.js'
import type { UnifiedStatus } from '../../schemas/unified-status.js'
import type { StatusEngine } from '../../status/engine.js'
import { caseRow, type CaseRow } from '../connector.js'
import { flag, statusSlug, type Note, type Takedown } from './wire.js'

const PROVIDER = 'netcraft'
const NETCRAFT_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(?: ?(?:UTC|Z|\+00:?00))?$/
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/

/**
 * `2023-09-19 19:05:21 UTC`, the same without ` UTC` (notes), with microseconds (`2023-09-10 14:13:55.120309`), all
 * UTC, as RFC 3339; null for `""`, `Not revoked` and anything else that is no time.
 */
export function netcraftTime (value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null
  // a listing converts the same few hundred times on every read of a page: remembered, not parsed again
  let at = TIMES.get(value)
  if (at === undefined) {
    const m = NETCRAFT_TIME.exec(value.trim())
    const ms = m === null ? Number.NaN : Date.parse(`${m[1] ?? ''}T${m[2] ?? ''}${(m[3] ?? '').slice(0, 4)}Z`)
    at = Number.isNaN(ms) ? null : new Date(ms).toISOString()
    if (TIMES.size >= TIMES_MAX) TIMES.clear()
    TIMES.set(value, at)
  }
  return at
}

const TIMES = new Map<string, string | null>()
const TIMES_MAX = 20_000

/** The absolute UTC form the `date_from`/`date_to` filters take (`YYYY-MM-DD HH:MM:SS`). */
export function netcraftFilterTime (iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ')
}

function text (value: string | null | undefined): string | null {
  return value === undefined || value === null || value.trim() === '' ? null : value
}

function hostnameOf (value: string): string | null {
  try {
    return new URL(value).hostname || null
  } catch {
    return null
  }
}

/** What was reported: a URL, an e-mail address (advance-fee fraud, phishing senders), an IP, or a bare host name. */
export function mapTarget (t: Takedown): Case['target'] {
  const value = text(t.attack_url) ?? text(t.reported_url) ?? text(t.hostname) ?? text(t.domain) ?? ''
  const domain = text(t.domain) ?? text(t.hostname)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { type: 'url', value, domain: domain ?? hostnameOf(value) }
  if (value.includes('@')) return { type: 'email', value, domain: domain ?? value.split('@').pop() ?? null }
  if (IPV4.test(value)) return { type: 'ipv4', value, domain: null }
  return { type: 'domain', value, domain: domain ?? (value === '' ? null : value) }
}

export function mapStatus (t: Takedown, status: StatusEngine): { slug: string, status: UnifiedStatus, terminal: boolean } {
  const slug = statusSlug(t.status)
  const mapped = status.map(PROVIDER, slug, { authgiven: flag(t.authgiven) ? 1 : 0 })
  return { slug, status: mapped.status, terminal: mapped.terminal }
}

function createdAtOf (t: Takedown): string {
  const at = netcraftTime(t.date_submitted)
  if (at === null) throw new Error(`takedown ${String(t.id)}: date_submitted "${t.date_submitted}" is not a time`)
  return at
}

export function toRow (t: Takedown, status: StatusEngine): CaseRow {
  return caseRow(createdAtOf(t), encodeCaseId(PROVIDER, String(t.id)), () => toCase(t, status))
}

export function toCase (t: Takedown, status: StatusEngine): Case {
  const id = String(t.id)
  const mapped = mapStatus(t, status)
  return {
    id: encodeCaseId(PROVIDER, id),
    provider: PROVIDER,
    providerCaseId: id,
    target: withIdentity(mapTarget(t)),
    status: mapped.status,
    terminal: mapped.terminal,
    providerStatus: mapped.slug,
    brand: { id: null, name: text(t.target_brand) },
    threat: { class: null, name: text(t.attack_type), platform: null },
    reportedBy: text(t.reporter),
    createdAt: createdAtOf(t),
    updatedAt: netcraftTime(t.last_updated),
    links: { self: caseSelfLink(PROVIDER, id), provider: text(t.evidence_url) }
  }
}

/** The record's milestones: Netcraft has no history endpoint, its dates are the timeline. */
const MILESTONES: ReadonlyArray<{ field: keyof Takedown, providerStatus: string | null, message: string }> = [
  { field: 'date_submitted', providerStatus: 'unverified', message: 'Reported to Netcraft' },
  { field: 'date_first_actioned', providerStatus: null, message: 'First actioned by Netcraft' },
  { field: 'first_inactive', providerStatus: 'inactive_monitoring', message: 'Went offline before the takedown was authorised' },
  { field: 'date_authed', providerStatus: null, message: 'Takedown authorised' },
  { field: 'first_contact', providerStatus: 'contacted_hosting', message: 'Netcraft sent the first takedown notices' },
  { field: 'date_escalated', providerStatus: null, message: 'Takedown escalated from automated to managed' },
  { field: 'first_resolved', providerStatus: 'resolved_monitoring', message: 'Attack offline (first time); monitoring' },
  { field: 'restart_date', providerStatus: 'contacted_hosting', message: 'Attack came back; Netcraft restarted the takedown' },
  { field: 'final_resolved', providerStatus: 'resolved_monitoring', message: 'Attack offline (latest time); monitoring' },
  { field: 'stop_monitoring_date', providerStatus: null, message: 'Monitoring ended' }
]

export function toCaseDetail (t: Takedown, notes: readonly Note[], status: StatusEngine, opts: { raw?: boolean } = {}): CaseDetail {
  const entries: Array<{ ms: number, order: number, entry: HistoryEntry }> = []
  const authgiven = { authgiven: 1 }
  for (const [order, m] of MILESTONES.entries()) {
    const at = netcraftTime(t[m.field] as string | null | undefined)
    if (at === null) continue
    if (m.field === 'date_authed' && text(t.authorisation_source) !== null) {
      entries.push({ ms: Date.parse(at), order, entry: { at, status: null, providerStatus: null, message: `${m.message} (by ${String(t.authorisation_source)})`, source: 'provider' } })
      continue
    }
    const mapped = m.providerStatus === null ? null : status.map(PROVIDER, m.providerStatus, authgiven).status
    entries.push({ ms: Date.parse(at), order, entry: { at, status: mapped, providerStatus: m.providerStatus, message: m.message, source: 'provider' } })
  }
  for (const [i, n] of notes.entries()) {
    const at = netcraftTime(n.time)
    if (at === null) continue
    const author = text(n.author)
    entries.push({ ms: Date.parse(at), order: MILESTONES.length + i, entry: { at, status: null, providerStatus: null, message: `${author === null ? '' : `${author}: `}${n.note ?? ''}`, source: 'provider' } })
  }
  // oldest first; on equal times milestones keep their order and notes follow them
  entries.sort((a, b) => a.ms - b.ms || a.order - b.order)
  const detail: CaseDetail = extend(toCase(t, status), {
    history: entries.map(e => e.entry),
    registrar: text(t.registrar) === null ? null : { name: text(t.registrar), difficulty: null, description: null },
    hostingProvider: text(t.host),
    takedownStartedAt: netcraftTime(t.first_contact),
    resolvedAt: netcraftTime(t.final_resolved) ?? netcraftTime(t.first_resolved)
  })
  if (opts.raw === true) detail.raw = { takedown: t, notes }
  return detail
}
