/**
 * The PhishFort endpoints the gateway calls, all through VendorHttp (retries, deadlines, error kinds).
 * Auth is `x-api-key` (PhishFort Client API docs); the key travels in headers only.
 */
import { FormData } from 'undici'
import { parseOrFail } from '../validate.js'
import type { TSchema } from 'typebox'
import { ConnectorError, type Attachment, type ConnectorContext, type ConnectorDeps, type ProviderSettings } from '../connector.js'
import { VendorHttp, vendorHttp, type ErrorBodyParser } from '../http.js'
import {
  DetailedIncidentSchema, IncidentListSchema, WebhookSubscriptionSchema, WriteAnswerSchema,
  type DetailedIncident, type IncidentList, type WebhookSubscription, type WriteAnswer
} from './wire.js'
import { UnsafePathSegment, vendorPath } from '../vendor-path.js'

const PROVIDER = 'phishfort'

/**
 * Boom-style `{statusCode, error, message}` (PhishFort Client API docs, 'Limits' page: only the 413 body is documented), parsed defensively:
 * `message`, else `error`, else the raw text (trimmed), else null so VendorHttp says `HTTP <status>`.
 */
export const parsePhishfortError: ErrorBodyParser = (_status, body) => {
  if (typeof body === 'string') {
    const text = body.trim()
    return text === '' ? null : text.slice(0, 300)
  }
  if (body !== null && typeof body === 'object') {
    const b = body as Record<string, unknown>
    if (typeof b.message === 'string' && b.message !== '') return b.message
    if (typeof b.error === 'string' && b.error !== '') return b.error
  }
  return null
}

export interface ListParams {
  limit: number
  cursor?: string | undefined
  status?: string | undefined
  fromDate?: string | undefined
  toDate?: string | undefined
}

export interface ReportAnswer { id: string, url: string | null, message: string | null }
export type IncidentAction = 'tkd' | 'monitor' | 'safe'

/** A multipart body: text fields then repeated `attachments` file parts (PhishFort Client API docs, 'Report Incident' page and 'Add Attachments' page). */
export function buildForm (fields: Record<string, unknown>, files: readonly Attachment[]): FormData {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue
    form.append(name, typeof value === 'string' ? value : JSON.stringify(value))
  }
  for (const file of files) {
    form.append('attachments', new Blob([new Uint8Array(file.data)], { type: file.contentType }), file.filename)
  }
  return form
}

function checked<T> (schema: TSchema, body: unknown, what: string): T {
  return parseOrFail(PROVIDER, schema, body, what) as T
}

/** `{ data: DetailedIncident }`, or the bare incident (PhishFort Client API docs: unwrap `data` when present). */
function unwrapIncident (body: unknown, what: string): DetailedIncident {
  const inner = body !== null && typeof body === 'object' && 'data' in body ? (body as { data: unknown }).data : body
  return checked<DetailedIncident>(DetailedIncidentSchema, inner, what)
}

export class PhishfortClient {
  readonly http: VendorHttp

  constructor (settings: ProviderSettings, deps: ConnectorDeps) {
    this.http = vendorHttp(PROVIDER, settings, deps, { headers: { 'x-api-key': settings.credential, accept: 'application/json' }, parseError: parsePhishfortError })
  }

  /** GET /v1/incidents: `limit` is always sent (the vendor default is 5000). */
  async listIncidents (params: ListParams, ctx: ConnectorContext): Promise<IncidentList> {
    const res = await this.http.call({
      method: 'GET',
      path: '/v1/incidents',
      query: { limit: params.limit, cursor: params.cursor, status: params.status, fromDate: params.fromDate, toDate: params.toDate }
    }, ctx)
    return checked<IncidentList>(IncidentListSchema, res.body, 'GET /v1/incidents')
  }

  async getIncident (id: string, ctx: ConnectorContext): Promise<DetailedIncident> {
    const res = await this.http.call({ method: 'GET', path: vendorPath`/v1/incident/${id}` }, ctx)
    return unwrapIncident(res.body, 'GET /v1/incident/{id}')
  }

  /** GET /v1/incident/subject/{subject}, fully percent-encoded (PhishFort Client API docs, incident by subject); null on 404. */
  async findBySubject (subject: string, ctx: ConnectorContext): Promise<DetailedIncident | null> {
    try {
      const res = await this.http.call({ method: 'GET', path: vendorPath`/v1/incident/subject/${subject}` }, ctx)
      return unwrapIncident(res.body, 'GET /v1/incident/subject/{subject}')
    } catch (err) {
      // a subject that cannot be one path segment (`.`, `..`) names no incident
      if ((err instanceof ConnectorError && err.kind === 'not_found') || err instanceof UnsafePathSegment) return null
      throw err
    }
  }

  /** POST /v1/incident/tkd|monitor, once (no idempotency key exists: PhishFort Client API docs, 'Limits' page). */
  async report (path: string, body: Record<string, unknown>, files: readonly Attachment[], ctx: ConnectorContext): Promise<ReportAnswer> {
    const res = await this.http.call(files.length === 0
      ? { method: 'POST', path, json: body, idempotent: false }
      : { method: 'POST', path, form: buildForm(body, files), idempotent: false }, ctx)
    const answer = checked<WriteAnswer>(WriteAnswerSchema, res.body, `POST ${path}`)
    // PhishFort Client API docs, 'Report Incident' page [?]: read `id` from the top level or from `data.id`
    const id = answer.id ?? answer.data?.id ?? null
    if (id === null || id === '') throw new ConnectorError(PROVIDER, 'protocol', `POST ${path}: the answer carries no incident id`, { upstreamStatus: res.status })
    return { id, url: answer.url ?? answer.data?.url ?? null, message: answer.message ?? null }
  }

  /** POST /v1/incident/{id}/{tkd|monitor|safe} with no body (PhishFort Client API docs, 'Request Incident Review' page). */
  async action (id: string, action: IncidentAction, ctx: ConnectorContext): Promise<void> {
    await this.http.call({ method: 'POST', path: vendorPath`/v1/incident/${id}/${action}`, idempotent: false }, ctx)
  }

  async attach (id: string, files: readonly Attachment[], ctx: ConnectorContext): Promise<void> {
    await this.http.call({ method: 'POST', path: vendorPath`/v1/incident/${id}/attach`, form: buildForm({}, files), idempotent: false }, ctx)
  }

  async comment (id: string, comment: string, ctx: ConnectorContext): Promise<void> {
    await this.http.call({ method: 'POST', path: vendorPath`/v1/incident/${id}/comment`, json: { comment }, idempotent: false }, ctx)
  }

  /** POST /v1/webhooks (PhishFort Client API docs, 'Webhooks' page): 201 `{data: {id, secret, ...}}`; the secret is shown this once. */
  async createWebhook (body: { url: string, events: string[], description?: string }, ctx: ConnectorContext): Promise<WebhookSubscription> {
    const res = await this.http.call({ method: 'POST', path: '/v1/webhooks', json: body, idempotent: false }, ctx)
    return unwrapData<WebhookSubscription>(WebhookSubscriptionSchema, res.body, 'POST /v1/webhooks')
  }

  /** POST /v1/webhooks/{id}/rotate-secret: the old secret stops working at once (PhishFort Client API docs, 'Webhooks' page [S]). */
  async rotateWebhookSecret (id: string, ctx: ConnectorContext): Promise<WebhookSubscription> {
    const res = await this.http.call({ method: 'POST', path: `/v1/webhooks/${encodeURIComponent(id)}/rotate-secret`, idempotent: false }, ctx)
    return unwrapData<WebhookSubscription>(WebhookSubscriptionSchema, res.body, 'POST /v1/webhooks/{id}/rotate-secret')
  }
}

function unwrapData<T> (schema: TSchema, body: unknown, what: string): T {
  const inner = body !== null && typeof body === 'object' && 'data' in body ? (body as { data: unknown }).data : body
  return checked<T>(schema, inner, what)
}
