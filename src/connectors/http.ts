/**
 * Outbound HTTP for every connector: undici `request` on an injected dispatcher (a Pool per vendor in production,
 * a MockAgent in connector tests), one deadline per call, retries for idempotent reads only, and vendor failures
 * sorted into ConnectorError kinds. Vendor credentials travel in `headers` and never reach an error or a log line.
 */
import { request, type Dispatcher, type FormData } from 'undici'
import type { ProviderId } from '../schemas/provider.js'
import type { Clock } from '../clock.js'
import { ConnectorError, type CallBudget, type ConnectorContext, type ConnectorDeps, type ProviderSettings, type ConnectorErrorKind, type UpstreamObserver, type UpstreamOutcome } from './connector.js'
import { deadlineScope, sleep, timedOut, type CancelSignal } from './deadline.js'

export type QueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>

export interface HttpCall {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT'
  /** path below the base URL, already percent-encoded where needed */
  path: string
  query?: Readonly<Record<string, QueryValue>>
  json?: unknown
  form?: FormData
  /** an `application/x-www-form-urlencoded` body (vendors with HTML-form style APIs) */
  urlencoded?: Readonly<Record<string, string>>
  /** GETs are idempotent by default; writes are never retried after the request may have reached the vendor */
  idempotent?: boolean
}

export interface HttpResult<T = unknown> {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: T
}

/** How a vendor words its errors; returns a one-line detail (never the request). */
export type ErrorBodyParser = (status: number, body: unknown) => string | null

export interface VendorHttpOptions {
  provider: ProviderId
  baseUrl: string
  dispatcher: Dispatcher
  /** auth and accept headers; values are secret */
  headers: Readonly<Record<string, string>>
  timeoutMs: number
  parseError: ErrorBodyParser
  clock: Clock
  /** retries for idempotent calls (default 2) */
  maxRetries?: number
  /** base backoff in ms (default 200) */
  backoffMs?: number
  /** the outbound budget of this vendor credential (ConnectorDeps.budget); none = unlimited */
  budget?: CallBudget | undefined
  /** metrics hooks (ConnectorDeps.observer) */
  observer?: UpstreamObserver | undefined
  /** the wait before a retry, ended early by the signal (default: a timer; tests pass one that records the waits) */
  sleep?: (ms: number, signal: CancelSignal) => Promise<void>
}

/** A vendor's HTTP client from its settings and the connector's deps: what differs per vendor is its headers and error parser. */
export function vendorHttp (provider: ProviderId, settings: Pick<ProviderSettings, 'baseUrl' | 'timeoutMs'>,
  deps: Pick<ConnectorDeps, 'dispatcher' | 'budget' | 'observer' | 'clock'>, own: Pick<VendorHttpOptions, 'headers' | 'parseError'>): VendorHttp {
  return new VendorHttp({
    provider, baseUrl: settings.baseUrl, timeoutMs: settings.timeoutMs, dispatcher: deps.dispatcher, budget: deps.budget, observer: deps.observer, clock: deps.clock, ...own
  })
}

/** undici error codes raised before any byte of the request could have been processed by the vendor */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

export class VendorHttp {
  readonly provider: ProviderId
  readonly #origin: string
  readonly #prefix: string
  readonly #opts: VendorHttpOptions
  readonly #budget: CallBudget | null
  readonly #observer: UpstreamObserver | null

  constructor (opts: VendorHttpOptions) {
    const url = new URL(opts.baseUrl)
    this.provider = opts.provider
    this.#origin = url.origin
    this.#prefix = url.pathname.replace(/\/+$/, '')
    this.#opts = opts
    this.#budget = opts.budget ?? null
    this.#observer = opts.observer ?? null
  }

  /** Full URL of a path (for `links.provider`); carries no secret. */
  url (path: string): string {
    return this.#origin + this.#prefix + path
  }

  async call<T = unknown> (call: HttpCall, ctx: ConnectorContext): Promise<HttpResult<T>> {
    const idempotent = call.idempotent ?? call.method === 'GET'
    const maxRetries = this.#opts.maxRetries ?? 2
    const deadline = Math.min(ctx.deadline, Date.now() + this.#opts.timeoutMs)
    for (let attempt = 0; ; attempt++) {
      // every attempt spends budget; a refusal is final (reads fail fast, writes already waited inside acquire)
      if (ctx.budget !== undefined) await ctx.budget.acquire({ write: true, deadline: ctx.deadline, signal: ctx.signal })
      if (this.#budget !== null) await this.#budget.acquire({ write: !idempotent, deadline, signal: ctx.signal })
      try {
        return await this.#observed<T>(call, ctx, deadline)
      } catch (err) {
        if (!(err instanceof ConnectorError)) throw err
        const retryable = idempotent
          ? (err.kind === 'rate_limited' || err.kind === 'unavailable')
          : (err.cause as { notSent?: boolean } | undefined)?.notSent === true
        if (!retryable || attempt >= maxRetries) throw err
        const base = this.#opts.backoffMs ?? 200
        const wait = err.retryAfter !== null ? err.retryAfter * 1000 : base * 2 ** attempt * (0.75 + Math.random() * 0.5)
        if (Date.now() + wait >= deadline) {
          // waiting would overrun the caller's deadline: fail fast and tell the client when to come back
          throw new ConnectorError(this.provider, err.kind, err.message, {
            upstreamStatus: err.upstreamStatus, retryAfter: Math.max(1, Math.ceil(wait / 1000)), cause: err
          })
        }
        ctx.log.debug({ provider: this.provider, attempt: attempt + 1, waitMs: Math.round(wait), kind: err.kind }, 'retrying vendor call')
        this.#observer?.retry({ provider: this.provider, method: call.method, kind: err.kind })
        try {
          await (this.#opts.sleep ?? sleep)(wait, ctx.signal)
        } catch (cause) {
          // the caller's deadline (or the client) ended the wait: a timeout, never a raw AbortError
          throw new ConnectorError(this.provider, 'timeout', 'the request deadline passed while waiting to retry', { upstreamStatus: err.upstreamStatus, cause })
        }
      }
    }
  }

  async #observed<T> (call: HttpCall, ctx: ConnectorContext, deadline: number): Promise<HttpResult<T>> {
    const observer = this.#observer
    if (observer === null) return await this.#once<T>(call, ctx, deadline)
    const started = performance.now()
    let outcome: UpstreamOutcome = 'ok'
    try {
      return await this.#once<T>(call, ctx, deadline)
    } catch (err) {
      outcome = err instanceof ConnectorError ? err.kind : 'unavailable'
      throw err
    } finally {
      observer.request({ provider: this.provider, method: call.method, outcome, seconds: (performance.now() - started) / 1000 })
    }
  }

  async #once<T> (call: HttpCall, ctx: ConnectorContext, deadline: number): Promise<HttpResult<T>> {
    const remaining = deadline - Date.now()
    if (remaining <= 0) throw new ConnectorError(this.provider, 'timeout', `no answer within ${this.#opts.timeoutMs} ms`)
    // the context's signal already ends at its deadline; a tighter per-vendor timeout gets a scope of its own
    const scope = deadline < ctx.deadline ? deadlineScope(ctx.signal, remaining) : null
    try {
      return await this.#send<T>(call, scope?.signal ?? ctx.signal)
    } finally {
      scope?.end()
    }
  }

  async #send<T> (call: HttpCall, signal: CancelSignal): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...this.#opts.headers }
    let body: string | FormData | undefined
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(call.json)
    } else if (call.form !== undefined) {
      body = call.form
    } else if (call.urlencoded !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(call.urlencoded).toString()
    }
    let res: Dispatcher.ResponseData
    try {
      res = await request(this.#origin + this.#prefix + call.path + queryString(call.query), {
        method: call.method,
        headers,
        body,
        dispatcher: this.#opts.dispatcher,
        // the deadline is the signal's: a per-request headersTimeout/bodyTimeout differing by a few ms on every call
        // makes undici arm a new timer per request instead of refreshing the connection's one (and its timer list
        // keeps each finished request reachable for a second or two), while the Agent's own timeouts stay as a backstop
        signal
      })
    } catch (err) {
      throw this.#transportError(err, signal)
    }
    let text: string
    try {
      text = await res.body.text()
    } catch (err) {
      throw this.#transportError(err, signal)
    }
    const parsed = parseBody(text, res.headers['content-type'])
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (parsed.ok === false) {
        throw new ConnectorError(this.provider, 'protocol', `answered HTTP ${res.statusCode} with a body that is not valid JSON`, { upstreamStatus: res.statusCode })
      }
      return { status: res.statusCode, headers: res.headers, body: parsed.value as T }
    }
    const detail = (parsed.ok ? this.#opts.parseError(res.statusCode, parsed.value) : null) ?? `HTTP ${res.statusCode}`
    throw new ConnectorError(this.provider, kindOf(res.statusCode), detail, {
      upstreamStatus: res.statusCode,
      retryAfter: retryAfterSeconds(res.headers, this.#opts.clock)
    })
  }

  #transportError (err: unknown, signal: CancelSignal): ConnectorError {
    const code = (err as { code?: string }).code ?? ''
    if (timedOut(signal) || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new ConnectorError(this.provider, 'timeout', `no answer within ${this.#opts.timeoutMs} ms`, { cause: err })
    }
    if (signal.aborted) {
      // aborted by anything but a deadline: the caller went away (client disconnect, shutdown), the vendor is not slow
      return new ConnectorError(this.provider, 'timeout', 'the caller cancelled the request', { cause: err, cancelled: true })
    }
    const notSent = NOT_SENT_CODES.has(code)
    const cause = Object.assign(new Error(`${code || 'transport'}: ${(err as Error).message}`), { notSent })
    return new ConnectorError(this.provider, 'unavailable', `connection failed (${code || (err as Error).message})`, { cause })
  }
}

function kindOf (status: number): ConnectorErrorKind {
  if (status === 401 || status === 403) return 'auth'
  if (status === 404) return 'not_found'
  if (status === 429) return 'rate_limited'
  if (status === 408 || status >= 500) return 'unavailable'
  return 'rejected'
}

export function queryString (query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (query === undefined) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v))
    else params.append(key, String(value))
  }
  const s = params.toString()
  return s === '' ? '' : '?' + s
}

function parseBody (text: string, contentType: string | string[] | undefined): { ok: true, value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: null }
  const ct = String(contentType ?? '')
  const looksJson = ct.includes('json') || /^\s*[[{"]/.test(text)
  if (!looksJson) return { ok: true, value: text }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** Retry-After (seconds or HTTP date), or the IETF `Ratelimit: "default";r=0;t=30` field when nothing remains. */
export function retryAfterSeconds (headers: Record<string, string | string[] | undefined>, clock: Clock): number | null {
  const ra = headers['retry-after']
  const value = Array.isArray(ra) ? ra[0] : ra
  if (value !== undefined && value !== '') {
    if (/^\d+$/.test(value.trim())) return Number(value.trim())
    const at = Date.parse(value)
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - clock.now()) / 1000))
  }
  const rl = headers.ratelimit
  const rlValue = Array.isArray(rl) ? rl[0] : rl
  if (rlValue !== undefined) {
    const r = /;\s*r=(\d+)/.exec(rlValue)
    const t = /;\s*t=(\d+)/.exec(rlValue)
    if (r?.[1] === '0' && t?.[1] !== undefined) return Number(t[1])
  }
  return null
}
