/**
 * Pure mapping of what the gateway knows about one submission (its record, refreshed from the operation) to the
 * canonical case. No I/O; the unified status comes from the status engine.
 */
import { caseSelfLink, encodeCaseId } from '../../domain/case-id.js'
import { extend } from '../../domain/objects.js'
import type { Case, CaseDetail, HistoryEntry } from '../../schemas/case.js'
import type { StatusEngine } from '../../status/engine.js'
import { caseRow, type CaseRow } from '../connector.js'
import { closedReasonOf, stateOf, type Operation } from './wire.js'

const PROVIDER = 'webrisk'
const WEBRISK_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const TIMES = new Map<string, string | null>()
const TIMES_MAX = 10_000

/** One submission as the gateway last saw it. */
export interface Seen {
  /** native id `<project>.<operation>` */
  id: string
  /** the operation name, verbatim */
  name: string
  /** the submitted URL (null when the gateway did not submit it and the operation does not say) */
  uri: string | null
  createdAt: string
  state: string
  done: boolean
  /** google.rpc.Status code of a done operation's error; 0 = none */
  errorCode: number
  errorMessage: string | null
  threatTypes: string[]
  closedReason: string | null
  /** the operation's updateTime, else when the gateway first saw its current state */
  updatedAt: string | null
  /** the abuse type the gateway submitted */
  abuseType: string | null
}

/** RFC 3339 with 0–9 fractional digits → ISO milliseconds; null when absent or unreadable */
export function webriskTime (value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null
  // a listing converts the same times on every read of a page: remembered, not parsed again
  let at = TIMES.get(value)
  if (at === undefined) {
    const m = WEBRISK_TIME.exec(value.trim())
    const ms = m === null ? Number.NaN : Date.parse(`${m[1] ?? ''}${(m[2] ?? '').slice(0, 4)}${m[3] ?? ''}`)
    at = Number.isNaN(ms) ? null : new Date(ms).toISOString()
    if (TIMES.size >= TIMES_MAX) TIMES.clear()
    TIMES.set(value, at)
  }
  return at
}

/**
 * The operation read now, over what was known before (the record; null for an operation the gateway did not submit).
 * `nowIso` dates a state change the operation does not date itself.
 */
export function seenOf (op: Operation, id: string, before: Seen | null, nowIso: string): Seen {
  const state = stateOf(op)
  const created = before?.createdAt ?? webriskTime(op.metadata?.createTime) ?? webriskTime(op.metadata?.updateTime)
  if (created === null) throw new Error(`operation ${op.name} has no createTime and the gateway has no record of it`)
  const done = op.done === true
  const changed = before === null || before.state !== state || before.done !== done
  return {
    id,
    name: op.name,
    uri: before?.uri ?? op.response?.uri ?? null,
    createdAt: created,
    state,
    done,
    errorCode: done && op.error !== undefined ? (op.error.code ?? 2) : 0,
    errorMessage: done ? (op.error?.message ?? null) : null,
    threatTypes: (op.response?.threatTypes ?? []).map(String),
    closedReason: closedReasonOf(op),
    updatedAt: webriskTime(op.metadata?.updateTime) ?? (changed ? nowIso : before.updatedAt),
    abuseType: before?.abuseType ?? null
  }
}

export function mapSeen (s: Seen, status: StatusEngine): { status: Case['status'], terminal: boolean } {
  return status.map(PROVIDER, s.state, { done: s.done ? 1 : 0, errorCode: s.errorCode, threats: s.threatTypes.length })
}

function hostOf (uri: string): string | null {
  try {
    return new URL(uri).hostname || null
  } catch {
    return null
  }
}

/** threat class: what Google found, else what was submitted (SOCIAL_ENGINEERING is phishing) */
function threatClass (s: Seen): string | null {
  const word = s.threatTypes[0] ?? s.abuseType
  if (word === undefined || word === null) return null
  return word === 'SOCIAL_ENGINEERING' ? 'phishing' : word === 'MALWARE' ? 'malware' : word.toLowerCase()
}

export function toCase (s: Seen, status: StatusEngine): Case {
  const mapped = mapSeen(s, status)
  return {
    id: encodeCaseId(PROVIDER, s.id),
    provider: PROVIDER,
    providerCaseId: s.id,
    target: { type: 'url', value: s.uri ?? '', domain: s.uri === null ? null : hostOf(s.uri) },
    status: mapped.status,
    terminal: mapped.terminal,
    providerStatus: s.state,
    brand: { id: null, name: null },
    threat: { class: threatClass(s), name: s.threatTypes.length === 0 ? null : s.threatTypes.join(', '), platform: null },
    reportedBy: null,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    links: { self: caseSelfLink(PROVIDER, s.id), provider: null }
  }
}

export function toRow (s: Seen, status: StatusEngine): CaseRow {
  return caseRow(s.createdAt, encodeCaseId(PROVIDER, s.id), () => toCase(s, status))
}

/**
 * Web Risk keeps no history: the submission, and the current state dated by the operation's updateTime (or when the
 * gateway first saw it). The gateway's recorded steps are added by the case read (historyKept: false).
 */
export function toCaseDetail (s: Seen, status: StatusEngine, raw: unknown): CaseDetail {
  const c = toCase(s, status)
  const history: HistoryEntry[] = [{ at: s.createdAt, status: 'received', providerStatus: null, message: 'Submitted to Web Risk', source: 'provider' }]
  if (s.state !== 'STATE_UNSPECIFIED' || s.done) {
    const why = [s.closedReason === null ? null : `closedReason ${s.closedReason}`, s.errorMessage, s.threatTypes.length === 0 ? null : `threatTypes ${s.threatTypes.join(', ')}`]
      .filter(p => p !== null).join('; ')
    history.push({ at: s.updatedAt ?? s.createdAt, status: c.status, providerStatus: s.state, message: `Operation ${s.state}${why === '' ? '' : ` (${why})`}`, source: 'provider' })
  }
  const detail: CaseDetail = extend(c, {
    history,
    resolvedAt: c.terminal || c.status === 'mitigated' ? (s.updatedAt ?? null) : null
  })
  if (raw !== undefined) detail.raw = raw
  return detail
}
