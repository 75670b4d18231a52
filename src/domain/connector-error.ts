/**
 * How a vendor call failed, in the gateway's own words: every connector throws this, the services and the error
 * handler (domain/problems.ts) read it. It lives in the domain so the domain needs nothing from connectors/.
 */
import type { ProviderId } from '../schemas/provider.js'

export type ConnectorErrorKind =
  | 'auth' // the vendor refused our credential (401/403)
  | 'rejected' // the vendor refused the request (400/409/422)
  | 'not_found' // 404
  | 'rate_limited' // 429
  | 'unavailable' // 5xx, connection refused/reset, circuit open
  | 'timeout' // deadline passed
  | 'protocol' // the vendor answered something we cannot parse

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError'
  readonly kind: ConnectorErrorKind
  readonly provider: ProviderId
  /** HTTP status the vendor answered with, null when it did not answer */
  readonly upstreamStatus: number | null
  /** seconds, when the vendor (or our own budget) said when to come back */
  readonly retryAfter: number | null
  /** the caller went away (client disconnected, shutdown): says nothing about the vendor's health */
  readonly cancelled: boolean

  constructor (provider: ProviderId, kind: ConnectorErrorKind, message: string,
    opts: { upstreamStatus?: number | null, retryAfter?: number | null, cause?: unknown, cancelled?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.provider = provider
    this.kind = kind
    this.upstreamStatus = opts.upstreamStatus ?? null
    this.retryAfter = opts.retryAfter ?? null
    this.cancelled = opts.cancelled ?? false
  }
}

/** A value that cannot be one vendor path segment (empty, `.`, `..`): it names nothing at the vendor (→ 404). */
export class UnsafePathSegment extends Error {
  override readonly name = 'UnsafePathSegment'
}
