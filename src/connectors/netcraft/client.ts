/**
 * The Netcraft Takedown API v1 endpoints the gateway calls, all through VendorHttp (retries for reads, deadlines,
 * error kinds). Auth is `Authorization: Bearer <key>`; POST bodies are form-encoded; every path keeps its trailing
 * slash (whether the server redirects without it, which would lose a POST body, is unknown). Each path segment the
 * gateway fills in is percent-encoded.
 */
import type { FormData } from 'undici'
import type { ConnectorContext, ConnectorDeps, ProviderSettings } from '../connector.js'
import { ConnectorError } from '../connector.js'
import { VendorHttp, vendorHttp, type ErrorBodyParser, type QueryValue } from '../http.js'
import { parseOrFail } from '../validate.js'
import {
  AttackTypeListSchema, EscalateAnswerSchema, NoteAnswerSchema, NoteListSchema, REPORT_CODES, TakedownListSchema,
  type AttackType, type Note, type ReportCode, type Takedown
} from './wire.js'

const PROVIDER = 'netcraft'

/**
 * Netcraft's error bodies are undocumented for v1: JSON `{error}` or the legacy `{error_code, error_message}`, or
 * plain text. The first readable one, trimmed; null lets VendorHttp say `HTTP <status>`.
 */
export const parseNetcraftError: ErrorBodyParser = (_status, body) => {
  if (typeof body === 'string') return body.trim() === '' ? null : body.trim().slice(0, 300)
  if (body !== null && typeof body === 'object') {
    const b = body as Record<string, unknown>
    for (const key of ['error_message', 'error', 'message']) {
      if (typeof b[key] === 'string' && b[key] !== '') return b[key]
    }
  }
  return null
}

export type ReportAnswer =
  | { code: Exclude<ReportCode, 'TD_WILDCARD' | 'TD_VERIFY'>, id: string }
  | { code: 'TD_WILDCARD' | 'TD_VERIFY', id: null }

/**
 * The plain-text answer of `report/`: `CODE` and, for TD_OK/TD_EXISTS, the takedown id on the next line. TD_DENIED is
 * our credential refused; anything else (TD_ERROR …) is the vendor refusing the report, its text kept.
 */
export function parseReportAnswer (body: unknown, status: number): ReportAnswer {
  const lines = (typeof body === 'string' ? body : '').split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')
  const code = lines[0] ?? ''
  if (code === 'TD_DENIED') throw new ConnectorError(PROVIDER, 'auth', 'Netcraft denied access to report/ (TD_DENIED)', { upstreamStatus: status })
  if (!(REPORT_CODES as readonly string[]).includes(code)) {
    const text = typeof body === 'string' ? body.trim().slice(0, 300) : JSON.stringify(body)?.slice(0, 300) ?? ''
    throw new ConnectorError(PROVIDER, 'rejected', `Netcraft refused the report: ${text === '' ? '(empty answer)' : text}`, { upstreamStatus: status })
  }
  if (code === 'TD_WILDCARD' || code === 'TD_VERIFY') return { code, id: null }
  const id = lines[1]
  if (id === undefined || !/^\d+$/.test(id)) throw new ConnectorError(PROVIDER, 'protocol', `report/ answered ${code} without a takedown id`, { upstreamStatus: status })
  return { code: code as 'TD_OK' | 'TD_EXISTS', id }
}

export class NetcraftClient {
  readonly http: VendorHttp

  constructor (settings: ProviderSettings, deps: ConnectorDeps) {
    this.http = vendorHttp(PROVIDER, settings, deps, { headers: { authorization: `Bearer ${settings.credential}`, accept: 'application/json, text/plain' }, parseError: parseNetcraftError })
  }

  /** GET attacks/: a bare array, no envelope, no paging metadata. */
  async listAttacks (query: Readonly<Record<string, QueryValue>>, ctx: ConnectorContext): Promise<Takedown[]> {
    const res = await this.http.call({ method: 'GET', path: '/attacks/', query }, ctx)
    return parseOrFail(PROVIDER, TakedownListSchema, res.body, 'attacks/')
  }

  /** GET notes/?takedown_id= (bare array; integer ids in live data, strings in others). */
  async listNotes (takedownId: string, ctx: ConnectorContext): Promise<Note[]> {
    const res = await this.http.call({ method: 'GET', path: '/notes/', query: { takedown_id: takedownId } }, ctx)
    return parseOrFail(PROVIDER, NoteListSchema, res.body, 'notes/')
  }

  async listAttackTypes (region: string | undefined, ctx: ConnectorContext): Promise<AttackType[]> {
    const res = await this.http.call({ method: 'GET', path: '/attack-types/', query: { region } }, ctx)
    return parseOrFail(PROVIDER, AttackTypeListSchema, res.body, 'attack-types/')
  }

  /** POST report/, once: it creates a takedown (or authorises the existing one); multipart when an evidence file goes along. */
  async report (fields: Readonly<Record<string, string>>, ctx: ConnectorContext, form?: FormData): Promise<ReportAnswer> {
    const res = await this.http.call(form === undefined
      ? { method: 'POST', path: '/report/', urlencoded: fields, idempotent: false }
      : { method: 'POST', path: '/report/', form, idempotent: false }, ctx)
    return parseReportAnswer(res.body, res.status)
  }

  /** POST notes/ → `{note_id}`; an answer without one is a failure (as in XSOAR's integration). */
  async addNote (takedownId: string, text: string, notify: boolean, ctx: ConnectorContext): Promise<void> {
    const res = await this.http.call({ method: 'POST', path: '/notes/', urlencoded: { takedown_id: takedownId, text, notify: String(notify) }, idempotent: false }, ctx)
    parseOrFail(PROVIDER, NoteAnswerSchema, res.body, 'notes/ (no note_id)')
  }

  /** POST escalate/ → `{"status":"TD_OK"}`; any other answer is Netcraft refusing (e.g. a takedown not yet authorised). */
  async escalate (takedownId: string, ctx: ConnectorContext): Promise<void> {
    const res = await this.http.call({ method: 'POST', path: '/escalate/', urlencoded: { takedown_id: takedownId }, idempotent: false }, ctx)
    const answer = parseOrFail(PROVIDER, EscalateAnswerSchema, res.body, 'escalate/')
    if (answer.status !== 'TD_OK') {
      throw new ConnectorError(PROVIDER, 'rejected', `Netcraft did not escalate takedown ${takedownId}: ${parseNetcraftError(res.status, res.body) ?? JSON.stringify(res.body).slice(0, 200)}`, { upstreamStatus: res.status })
    }
  }
}
