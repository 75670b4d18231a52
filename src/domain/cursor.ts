/**
 * The listing cursor: which providers a walk covers, where each one stands, and the last case handed out.
 * It is opaque to clients (base64url JSON + HMAC-SHA256 with GATEWAY_SECRET), bound to the filters it was made
 * for, and versioned. A tampered, foreign (other secret) or mismatched cursor is a 400.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { GatewayError } from './problems.js'

export interface ProviderPosition {
  /** vendor page token of the page holding this provider's first unconsumed case (null = first page) */
  t: string | null
  /** vendor page size used for this walk */
  s: number
  /** true when every case of this provider has been handed out */
  d: boolean
}

export interface CursorState {
  v: 1
  /** fingerprint of the filters the walk was started with */
  f: string
  /** last case handed out: [createdAt epoch ms, case id] */
  k: [number, string] | null
  p: Record<string, ProviderPosition>
}

export class CursorCodec {
  readonly #key: Buffer

  constructor (secret: string) {
    this.#key = Buffer.from(secret, 'utf8')
  }

  /** Where a walk starts: the cursor's positions (checked against the filters), or every provider at its first page. */
  start (cursor: string | undefined, fingerprint: string, providers: readonly string[], limit: number): CursorState {
    if (cursor !== undefined) return this.decode(cursor, fingerprint)
    const size = Math.min(100, Math.max(limit, 10))
    return { v: 1, f: fingerprint, k: null, p: Object.fromEntries(providers.map(p => [p, { t: null, s: size, d: false }])) }
  }

  /** The cursor for the page after a walk from `state`: null when the walk left nothing behind. */
  after (state: CursorState, walk: { next: CursorState['p'] | null, last: readonly [number, string] | null }): string | null {
    if (walk.next === null) return null
    return this.encode({ v: 1, f: state.f, k: walk.last === null ? null : [walk.last[0], walk.last[1]], p: Object.assign({}, state.p, walk.next) })
  }

  encode (state: CursorState): string {
    const body = Buffer.from(JSON.stringify(state)).toString('base64url')
    return `${body}.${this.#sign(body)}`
  }

  decode (cursor: string, filterFingerprint: string): CursorState {
    const dot = cursor.indexOf('.')
    const body = cursor.slice(0, dot)
    const sig = Buffer.from(cursor.slice(dot + 1))
    const expected = Buffer.from(this.#sign(body))
    // lengths in bytes, not characters: timingSafeEqual throws on buffers of different length
    if (dot <= 0 || sig.length !== expected.length || !timingSafeEqual(sig, expected)) {
      throw new GatewayError('GW_ERR_BAD_CURSOR', 'The cursor is not one this gateway issued (it was changed, truncated, or signed with another GATEWAY_SECRET)')
    }
    // a valid signature is not a valid state (a leaked or rotated secret, a bug in an older version): check the shape
    let state: unknown
    try {
      state = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    } catch {
      state = null
    }
    if (typeof state === 'object' && state !== null && (state as { v?: unknown }).v !== 1 && 'v' in state) {
      throw new GatewayError('GW_ERR_BAD_CURSOR', `Cursor version ${String((state as { v: unknown }).v)} is not supported; start again without a cursor`)
    }
    if (!isCursorState(state)) throw new GatewayError('GW_ERR_BAD_CURSOR', 'The cursor does not hold a listing position; start again without a cursor')
    if (state.f !== filterFingerprint) {
      throw new GatewayError('GW_ERR_BAD_CURSOR', 'The cursor belongs to a listing with other filters; repeat the original filters or start again without a cursor')
    }
    return state
  }

  #sign (body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url')
  }
}

function isPosition (p: unknown): p is ProviderPosition {
  if (typeof p !== 'object' || p === null) return false
  const { t, s, d } = p as Record<string, unknown>
  return (t === null || typeof t === 'string') && Number.isSafeInteger(s) && (s as number) >= 1 && (s as number) <= 1000 && typeof d === 'boolean'
}

function isCursorState (x: unknown): x is CursorState {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  const { v, f, k, p } = x as Record<string, unknown>
  if (v !== 1 || typeof f !== 'string') return false
  if (k !== null && !(Array.isArray(k) && k.length === 2 && Number.isFinite(k[0]) && typeof k[1] === 'string')) return false
  return typeof p === 'object' && p !== null && !Array.isArray(p) && Object.values(p).every(isPosition)
}
