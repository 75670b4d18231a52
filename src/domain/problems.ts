/**
 * The error catalogue: every problem the gateway answers with is one row here (data, not ad-hoc strings).
 * Each code maps to one RFC 9457 `type`, `title` and HTTP status. openapi/README.md documents the same table;
 * test/domain/problems.test.ts keeps both in step.
 */
import type { Problem } from '../schemas/problem.js'
import type { ProviderId } from '../schemas/provider.js'
import { ConnectorError, UnsafePathSegment, type ConnectorErrorKind } from './connector-error.js'

export const PROBLEMS = {
  GW_ERR_VALIDATION: { status: 400, slug: 'validation', title: 'Invalid request' },
  GW_ERR_BAD_CURSOR: { status: 400, slug: 'bad-cursor', title: 'Invalid cursor' },
  GW_ERR_UNAUTHENTICATED: { status: 401, slug: 'unauthenticated', title: 'Missing or unknown API key' },
  GW_ERR_BAD_SIGNATURE: { status: 401, slug: 'bad-signature', title: 'Missing, stale or wrong webhook signature' },
  GW_ERR_FORBIDDEN: { status: 403, slug: 'forbidden', title: 'API key lacks the scope' },
  GW_ERR_NOT_FOUND: { status: 404, slug: 'not-found', title: 'Not found' },
  GW_ERR_CASE_NOT_FOUND: { status: 404, slug: 'case-not-found', title: 'No such case' },
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, slug: 'method-not-allowed', title: 'Method not allowed' },
  GW_ERR_REQUEST_TIMEOUT: { status: 408, slug: 'request-timeout', title: 'Request not received in time' },
  GW_ERR_DUPLICATE_CASE: { status: 409, slug: 'duplicate-case', title: 'An open case for this target exists' },
  GW_ERR_IDEMPOTENCY_IN_FLIGHT: { status: 409, slug: 'idempotency-in-flight', title: 'A request with this Idempotency-Key is still in flight' },
  GW_ERR_IDEMPOTENCY_LOST: { status: 409, slug: 'idempotency-lost', title: 'The record of this Idempotency-Key was lost with the store' },
  GW_ERR_EVENTS_GONE: { status: 410, slug: 'events-gone', title: 'The event is past the retention window' },
  GW_ERR_STORE_LOST: { status: 410, slug: 'store-lost', title: 'The gateway\'s store lost this record' },
  GW_ERR_PAYLOAD_TOO_LARGE: { status: 413, slug: 'payload-too-large', title: 'Request too large' },
  GW_ERR_URI_TOO_LONG: { status: 414, slug: 'uri-too-long', title: 'URI too long' },
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, slug: 'unsupported-media-type', title: 'Unsupported media type' },
  GW_ERR_UNSUPPORTED: { status: 422, slug: 'unsupported', title: 'The provider cannot do this' },
  GW_ERR_PROVIDER_OFF: { status: 422, slug: 'provider-off', title: 'Provider not configured' },
  GW_ERR_PROVIDER_REJECTED: { status: 422, slug: 'provider-rejected', title: 'The provider rejected the request' },
  GW_ERR_IDEMPOTENCY_MISMATCH: { status: 422, slug: 'idempotency-mismatch', title: 'Idempotency-Key reused with a different request' },
  GW_ERR_WEBHOOK_URL_REFUSED: { status: 422, slug: 'webhook-url-refused', title: 'The webhook URL is not allowed' },
  GW_ERR_RATE_LIMITED: { status: 429, slug: 'rate-limited', title: 'Too many requests' },
  GW_ERR_HEADERS_TOO_LARGE: { status: 431, slug: 'headers-too-large', title: 'Request headers too large' },
  GW_ERR_INTERNAL: { status: 500, slug: 'internal', title: 'Internal server error' },
  GW_ERR_PROVIDER_ERROR: { status: 502, slug: 'provider-error', title: 'The provider failed' },
  GW_ERR_PROVIDER_UNAVAILABLE: { status: 503, slug: 'provider-unavailable', title: 'The provider is unavailable' },
  GW_ERR_UNAVAILABLE: { status: 503, slug: 'unavailable', title: 'Service unavailable' },
  GW_ERR_EVENTS_UNAVAILABLE: { status: 503, slug: 'events-unavailable', title: 'The event store is unavailable' },
  GW_ERR_PROVIDER_TIMEOUT: { status: 504, slug: 'provider-timeout', title: 'The provider did not answer in time' }
} as const satisfies Record<string, { status: number, slug: string, title: string }>

export type ProblemCode = keyof typeof PROBLEMS

export const PROBLEM_TYPE_BASE = 'https://takedown-gateway.dev/problems/'
export function problemType (code: ProblemCode): string {
  return PROBLEM_TYPE_BASE + PROBLEMS[code].slug
}

export interface GatewayErrorExtras {
  errors?: Array<{ path: string, message: string }>
  provider?: ProviderId
  providerStatus?: number | null
  allowed?: string[]
  /** id of the existing case a duplicate points at */
  existing?: string
  /** every open case a duplicate points at (the create looks at every live provider) */
  existingCases?: Array<{ id: string, provider: string, status: string }>
  /** seconds; sent as Retry-After */
  retryAfter?: number | null
  /** a listing whose remaining providers all failed: the cursor that repeats the page */
  retryCursor?: string
  /** overrides the catalogue status (e.g. 503 vs 504 chosen at run time) */
  cause?: unknown
}

/** A problem the gateway decided on. The one error handler renders it; nothing else builds error bodies. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  readonly code: ProblemCode
  readonly extras: GatewayErrorExtras

  constructor (code: ProblemCode, detail: string, extras: GatewayErrorExtras = {}) {
    super(detail, extras.cause === undefined ? undefined : { cause: extras.cause })
    this.code = code
    this.extras = extras
  }

  get statusCode (): number { return PROBLEMS[this.code].status }
}

const KIND_TO_CODE: Record<ConnectorErrorKind, ProblemCode> = {
  auth: 'GW_ERR_PROVIDER_ERROR',
  rejected: 'GW_ERR_PROVIDER_REJECTED',
  not_found: 'GW_ERR_CASE_NOT_FOUND',
  rate_limited: 'GW_ERR_PROVIDER_UNAVAILABLE',
  unavailable: 'GW_ERR_PROVIDER_UNAVAILABLE',
  timeout: 'GW_ERR_PROVIDER_TIMEOUT',
  protocol: 'GW_ERR_PROVIDER_ERROR'
}

/**
 * ConnectorError → problem. A vendor 5xx is a provider *error* (502); refused connections, 429s and open circuits
 * mean *unavailable* (503, with Retry-After when known); a passed deadline is 504.
 */
export function fromConnectorError (err: ConnectorError): GatewayError {
  let code = KIND_TO_CODE[err.kind]
  if (err.kind === 'unavailable' && err.upstreamStatus !== null && err.upstreamStatus >= 500 && err.upstreamStatus !== 503) {
    code = 'GW_ERR_PROVIDER_ERROR'
  }
  const detail = err.kind === 'auth'
    ? `${err.provider} refused the gateway's credential (HTTP ${err.upstreamStatus ?? '?'}); check the provider key`
    : `${err.provider}: ${err.message}`
  return new GatewayError(code, detail, {
    provider: err.provider,
    providerStatus: err.upstreamStatus,
    retryAfter: err.retryAfter,
    cause: err
  })
}

/**
 * The messages and codes ioredis (and BullMQ through it) fails commands with while Redis cannot be reached: no
 * connection, the command timed out, the retries per request ran out, the socket refused or reset.
 */
const STORE_DOWN_MESSAGE = /^(Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries per request limit|Connection in subscriber mode)/
const STORE_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN'])

/** true when `err` says the gateway's store (Redis) could not be reached, not that a command was wrong */
export function isStoreUnreachable (err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof ConnectorError) return false
  return err.name === 'MaxRetriesPerRequestError' || STORE_DOWN_MESSAGE.test(err.message) || STORE_DOWN_CODES.has((err as Error & { code?: string }).code ?? '')
}

/** An error no problem names: a bug, a 500 that tells the caller what to quote when reporting it. */
export function internalError (reference: string): GatewayError {
  return new GatewayError('GW_ERR_INTERNAL', `Unexpected error; quote request id ${reference} when reporting it`)
}

export function toGatewayError (err: unknown): GatewayError | null {
  if (err instanceof GatewayError) return err
  if (err instanceof ConnectorError) return fromConnectorError(err)
  // any store user that lets a Redis failure through: the store is down, so 503 and a retry, never a 500
  if (isStoreUnreachable(err)) return new GatewayError('GW_ERR_UNAVAILABLE', 'The gateway\'s store (Redis) is unreachable; retry shortly', { retryAfter: 1, cause: err })
  // a value that cannot be one vendor path segment names nothing at the vendor (connectors/vendor-path.ts)
  if (err instanceof UnsafePathSegment) return new GatewayError('GW_ERR_NOT_FOUND', 'No such object: the id cannot name anything at the provider', { cause: err })
  return null
}

/** field-level reasons listed in a problem (the OpenAPI maxItems), detail length */
const MAX_ERRORS = 50
const MAX_DETAIL = 1000

/** The RFC 9457 problem of a gateway error and its headers; `at` is the request (or batch item) it answers. */
export function problemOf (gw: GatewayError, at: { url: string, id: unknown }): { problem: Problem, headers: Record<string, string> } {
  const entry = PROBLEMS[gw.code]
  const problem: Problem = {
    type: problemType(gw.code),
    title: entry.title,
    status: entry.status,
    // a detail assembled from many reasons stays readable; the reasons themselves are in `errors`
    detail: gw.message.length > MAX_DETAIL ? gw.message.slice(0, MAX_DETAIL - 1) + '…' : gw.message,
    instance: at.url.split('?')[0] ?? at.url,
    requestId: String(at.id),
    code: gw.code
  }
  const x = gw.extras
  if (x.errors !== undefined) {
    // the answer is bounded by the request's meaning, not its size: 50,000 unknown keys do not make a 4 MB problem
    problem.errors = x.errors.length > MAX_ERRORS ? x.errors.slice(0, MAX_ERRORS) : x.errors
    if (x.errors.length > MAX_ERRORS) problem.errorsOmitted = x.errors.length - MAX_ERRORS
  }
  if (x.provider !== undefined) problem.provider = x.provider
  if (x.providerStatus !== undefined) problem.providerStatus = x.providerStatus
  if (x.allowed !== undefined) problem.allowed = x.allowed
  if (x.existing !== undefined) problem.existing = x.existing
  if (x.existingCases !== undefined) problem.existingCases = x.existingCases
  if (x.retryCursor !== undefined) problem.retryCursor = x.retryCursor
  const headers: Record<string, string> = { 'content-type': 'application/problem+json; charset=utf-8' }
  if (x.retryAfter !== undefined && x.retryAfter !== null) headers['retry-after'] = String(x.retryAfter)
  return { problem, headers }
}
