/**
 * The Web Risk REST calls the gateway makes (hand-written: the current discovery document has no `uris.submit`, and
 * the gRPC client answered UNIMPLEMENTED to one user), through VendorHttp (deadlines, read retries, error kinds) with
 * a bearer token from TokenSource. A 401 refreshes the token once and repeats the call: Google refused it before
 * acting on it. Every name segment the gateway fills in is percent-encoded.
 */
import { ConnectorError, type ConnectorContext, type ConnectorDeps, type ProviderSettings } from '../connector.js'
import { VendorHttp, type ErrorBodyParser, type HttpCall } from '../http.js'
import { parseOrFail } from '../validate.js'
import { TokenSource } from './auth.js'
import { OperationListSchema, OperationSchema, SubmitAnswerSchema, type Operation } from './wire.js'

const PROVIDER = 'webrisk'

/**
 * `google.rpc.Status` in Google's envelope, `{"error": {"code", "message", "status", "details"}}` (Google API design
 * guide, "Errors"): `STATUS: message`. Anything else (plain text, an HTML proxy page) is kept short.
 */
export const parseWebriskError: ErrorBodyParser = (_status, body) => {
  if (typeof body === 'string') return body.trim() === '' ? null : body.trim().slice(0, 300)
  const e = (body as { error?: unknown } | null)?.error
  if (e !== null && typeof e === 'object') {
    const { status, message } = e as { status?: unknown, message?: unknown }
    const parts = [status, message].filter((p): p is string => typeof p === 'string' && p !== '')
    if (parts.length > 0) return parts.join(': ').slice(0, 300)
  }
  return null
}

function segment (value: string): string {
  return encodeURIComponent(value)
}

export class WebriskClient {
  readonly #base: ProviderSettings
  readonly #deps: ConnectorDeps
  readonly #tokens: TokenSource
  #http: { token: string, http: VendorHttp } | null = null

  constructor (settings: ProviderSettings, deps: ConnectorDeps) {
    this.#base = settings
    this.#deps = deps
    this.#tokens = new TokenSource({ credential: settings.credential, tokenUrl: settings.options?.tokenUrl, apiBaseUrl: settings.baseUrl, timeoutMs: settings.timeoutMs }, deps)
  }

  #client (token: string): VendorHttp {
    if (this.#http?.token !== token) {
      this.#http = {
        token,
        http: new VendorHttp({
          provider: PROVIDER,
          baseUrl: this.#base.baseUrl,
          dispatcher: this.#deps.dispatcher,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          timeoutMs: this.#base.timeoutMs,
          parseError: parseWebriskError,
          clock: this.#deps.clock
        })
      }
    }
    return this.#http.http
  }

  async #call (call: HttpCall, ctx: ConnectorContext): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#tokens.get(ctx)
      try {
        return (await this.#client(token).call(call, ctx)).body
      } catch (err) {
        if (attempt === 0 && err instanceof ConnectorError && err.upstreamStatus === 401) {
          this.#tokens.invalidate(token)
          continue
        }
        throw err
      }
    }
  }

  /** POST /v1/projects/{project}/uris:submit, once (Google's own client marks SubmitUri non-idempotent). */
  async submit (project: string, body: Record<string, unknown>, ctx: ConnectorContext): Promise<string> {
    let answer: unknown
    try {
      answer = await this.#call({ method: 'POST', path: `/v1/projects/${segment(project)}/uris:submit`, json: body, idempotent: false }, ctx)
    } catch (err) {
      // a project that is not allowlisted (or has the API off) may get any of these: the provider is not enabled
      if (err instanceof ConnectorError && [403, 404, 501].includes(err.upstreamStatus ?? 0)) {
        throw new ConnectorError(PROVIDER, 'auth', `Web Risk refused the submission (${err.message}): the project is probably not allowlisted for the Submission API, or the API is not enabled`, { upstreamStatus: err.upstreamStatus })
      }
      throw err
    }
    return parseOrFail(PROVIDER, SubmitAnswerSchema, answer, 'uris:submit').name
  }

  /** GET /v1/projects/{p}/operations/{id} */
  async operation (project: string, operation: string, ctx: ConnectorContext): Promise<Operation> {
    const body = await this.#call({ method: 'GET', path: `/v1/projects/${segment(project)}/operations/${segment(operation)}` }, ctx)
    return parseOrFail(PROVIDER, OperationSchema, body, 'operation')
  }

  /** GET /v1/projects/{p}/operations (documented, unconfirmed: used only with WEBRISK_LIST_OPERATIONS=true) */
  async listOperations (project: string, pageSize: number, pageToken: string | null, ctx: ConnectorContext): Promise<{ operations: Operation[], next: string | null }> {
    const body = await this.#call({ method: 'GET', path: `/v1/projects/${segment(project)}/operations`, query: { pageSize, pageToken } }, ctx)
    const page = parseOrFail(PROVIDER, OperationListSchema, body ?? {}, 'operations list')
    return { operations: page.operations ?? [], next: page.nextPageToken === undefined || page.nextPageToken === '' ? null : page.nextPageToken }
  }
}
