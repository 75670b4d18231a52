/**
 * The Cloudflare Abuse Reports endpoints the connector calls, through VendorHttp (auth header, deadline, retries of
 * reads only, error kinds). Every path sits under `/accounts/{account_id}` (Cloudflare API v4 schema, Abuse Reports).
 */
import type { Dispatcher } from 'undici'
import type { TSchema, Static } from 'typebox'
import { parseOrFail } from '../validate.js'
import type { Clock } from '../../clock.js'
import { ConnectorError, type ConnectorContext, type ConnectorDeps } from '../connector.js'
import { VendorHttp, vendorHttp, type ErrorBodyParser } from '../http.js'
import {
  AppealEnvelopeSchema, MitigationListEnvelopeSchema, ReportEnvelopeSchema, ReportListEnvelopeSchema, SubmitSuccessSchema,
  type AbuseReport, type AppealEnvelope, type Mitigation, type ResultInfo, type SubmitSuccess
} from './wire.js'
import { vendorPath } from '../vendor-path.js'

/** Cloudflare API schema, ListAbuseReports and ListMitigations: no per_page maximum is documented [?]; 100 is the v4 norm and what we cap at. */
export const MAX_PER_PAGE = 100
/** how many mitigation pages we read for one report before giving up (100 per page) */
const MAX_MITIGATION_PAGES = 20

export interface ReportListParams {
  page: number
  perPage: number
  sort?: string
  createdAfter?: string
  createdBefore?: string
  domain?: string
  /** `accepted|in_review` */
  status?: string
  /** `pending|active|in_review|cancelled|removed`: reports with at least one mitigation in that status */
  mitigationStatus?: string
}

function str (value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim()
  if (typeof value === 'number') return String(value)
  return null
}

/**
 * Reads every Cloudflare error shape into one line (never the request):
 * - the v4 envelope `{success:false, errors:[{code, message}]}` (list/get/mitigations/appeal, the credential 401);
 * - the submit shape `{result:"error", msg, err_code, error_code}` (submit 400/500, the entitlement 401), Cloudflare API schema, SubmitAbuseReport.
 */
export const parseCloudflareError: ErrorBodyParser = (_status, body) => {
  if (typeof body === 'string') {
    const line = body.trim().split('\n')[0] ?? ''
    return line === '' ? null : line.slice(0, 200)
  }
  if (body === null || typeof body !== 'object') return null
  const b = body as Record<string, unknown>
  const parts: string[] = []
  if (Array.isArray(b.errors)) {
    for (const e of b.errors as unknown[]) {
      if (e === null || typeof e !== 'object') continue
      const message = str((e as Record<string, unknown>).message)
      const code = str((e as Record<string, unknown>).code)
      if (message !== null) parts.push(code === null ? message : `${message} (code ${code})`)
    }
  }
  const msg = str(b.msg)
  if (msg !== null) {
    const code = str(b.error_code) ?? str(b.err_code)
    parts.push(code === null ? msg : `${msg} (${code})`)
  }
  if (parts.length === 0) {
    const message = str(b.message) ?? str(b.error)
    if (message !== null) parts.push(message)
  }
  return parts.length === 0 ? null : parts.join('; ')
}

function parse<S extends TSchema> (schema: S, body: unknown, what: string): Static<S> {
  return parseOrFail('cloudflare', schema, body, what)
}

/** A 2xx envelope that says `success: false` is not something we can use. */
function assertSuccess (body: { success: boolean }, what: string): void {
  if (!body.success) {
    const detail = parseCloudflareError(200, body) ?? 'success: false'
    throw new ConnectorError('cloudflare', 'protocol', `${what} answered success=false: ${detail}`)
  }
}

export class CloudflareClient {
  readonly http: VendorHttp
  readonly #account: string

  constructor (opts: { baseUrl: string, credential: string, accountId: string, timeoutMs: number, dispatcher: Dispatcher, clock: Clock } & Pick<ConnectorDeps, 'budget' | 'observer'>) {
    this.http = vendorHttp('cloudflare', opts, opts, { headers: { authorization: `Bearer ${opts.credential}`, accept: 'application/json' }, parseError: parseCloudflareError })
    this.#account = vendorPath`/accounts/${opts.accountId}`
  }

  reportsPath (): string { return `${this.#account}/abuse-reports` }
  reportPath (id: string): string { return this.reportsPath() + vendorPath`/${id}` }
  submitPath (act: string): string { return this.reportsPath() + vendorPath`/${act}` }

  async listReports (params: ReportListParams, ctx: ConnectorContext): Promise<{ reports: AbuseReport[], info: ResultInfo | null }> {
    const res = await this.http.call({
      method: 'GET',
      path: this.reportsPath(),
      query: {
        page: params.page,
        per_page: Math.min(params.perPage, MAX_PER_PAGE),
        sort: params.sort ?? 'cdate,desc',
        created_after: params.createdAfter,
        created_before: params.createdBefore,
        domain: params.domain,
        status: params.status,
        mitigation_status: params.mitigationStatus
      }
    }, ctx)
    const body = parse(ReportListEnvelopeSchema, res.body, 'abuse report list')
    assertSuccess(body, 'the abuse report list')
    return { reports: body.result.reports, info: body.result_info ?? null }
  }

  async getReport (id: string, ctx: ConnectorContext): Promise<AbuseReport> {
    const res = await this.http.call({ method: 'GET', path: this.reportPath(id) }, ctx)
    const body = parse(ReportEnvelopeSchema, res.body, 'abuse report')
    assertSuccess(body, 'the abuse report')
    return body.result
  }

  /** Every mitigation of one report (all pages, 100 per page), optionally only those of one status. */
  async listMitigations (id: string, opts: { status?: string }, ctx: ConnectorContext): Promise<Mitigation[]> {
    const out: Mitigation[] = []
    for (let page = 1; page <= MAX_MITIGATION_PAGES; page++) {
      const res = await this.http.call({
        method: 'GET',
        path: `${this.reportPath(id)}/mitigations`,
        query: { page, per_page: MAX_PER_PAGE, status: opts.status }
      }, ctx)
      const body = parse(MitigationListEnvelopeSchema, res.body, 'mitigation list')
      assertSuccess(body, 'the mitigation list')
      out.push(...body.result.mitigations)
      const totalPages = body.result_info?.total_pages
      const more = totalPages === undefined ? body.result.mitigations.length >= MAX_PER_PAGE : page < totalPages
      if (!more) break
    }
    return out
  }

  /** Submit once (never retried): the success body is bare, not the envelope (Cloudflare API schema, SubmitAbuseReport). */
  async submit (path: string, body: Record<string, unknown>, ctx: ConnectorContext): Promise<SubmitSuccess> {
    const res = await this.http.call({ method: 'POST', path, json: body, idempotent: false }, ctx)
    return parse(SubmitSuccessSchema, res.body, 'submit')
  }

  async appeal (id: string, body: unknown, ctx: ConnectorContext): Promise<AppealEnvelope> {
    const res = await this.http.call({ method: 'POST', path: `${this.reportPath(id)}/mitigations/appeal`, json: body, idempotent: false }, ctx)
    const parsed = parse(AppealEnvelopeSchema, res.body, 'appeal')
    assertSuccess(parsed, 'the appeal')
    return parsed
  }
}
