/**
 * Idempotency-Key (IETF httpapi draft semantics) over the shared store: the first request with a key claims it
 * atomically; a retry with the same key and body replays the recorded answer; the same key while the first is still
 * running is 409; the same key with a different body is 422. Records live 24 h. An answer is recorded when the
 * vendor may have acted on the request (success, or a failure after the request was sent); when nothing reached the
 * vendor (validation, refusal before sending) the key is released so the client can fix and retry.
 */
import { createHash } from 'node:crypto'
import { systemClock, type Clock } from '../clock.js'
import { GatewayError } from '../domain/problems.js'
import type { KvStore } from '../store/kv-store.js'
import { keys } from '../store/keys.js'

export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: unknown
}

interface Record_ {
  /** lost: a tombstone written after the store lost its data, for a key this replica had recorded (ADR 0032) */
  state: 'in_flight' | 'done' | 'lost'
  fingerprint: string
  response?: StoredResponse
}

export interface IdempotencyOptions {
  /** how long a finished answer is replayed (default 24 h) */
  ttlMs?: number
  /** how long an unfinished claim blocks the key if this process dies mid-request (default 2 min) */
  inFlightMs?: number
  clock?: Clock
}

/** keys this replica remembers having recorded, to refuse their replay after a store data loss (about 150 bytes each) */
export const REMEMBERED_KEYS = 100_000

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

export class Idempotency {
  readonly #store: KvStore
  readonly #ttlMs: number
  readonly #inFlightMs: number
  readonly #clock: Clock
  /** store key → when its record expires: the keys this replica recorded, oldest first */
  readonly #recorded = new Map<string, number>()
  replays = 0

  constructor (store: KvStore, opts: IdempotencyOptions = {}) {
    this.#store = store
    this.#ttlMs = opts.ttlMs ?? 86_400_000
    this.#inFlightMs = opts.inFlightMs ?? 120_000
    this.#clock = opts.clock ?? systemClock
  }

  /**
   * After the store lost its data: writes a tombstone for every key this replica recorded whose record would still
   * live, so a replay on any replica is refused rather than run a second time. Returns how many were written.
   */
  async markLost (): Promise<number> {
    const now = this.#clock.now()
    const lost: Record_ = { state: 'lost', fingerprint: '' }
    let n = 0
    for (const [storeKey, until] of this.#recorded) {
      if (until <= now) { this.#recorded.delete(storeKey); continue }
      // NX: a record made since the loss stays as it is
      if (await this.#store.set(storeKey, JSON.stringify(lost), { ttlMs: until - now, nx: true })) n++
    }
    return n
  }

  #remember (storeKey: string): void {
    this.#recorded.delete(storeKey)
    this.#recorded.set(storeKey, this.#clock.now() + this.#ttlMs)
    if (this.#recorded.size > REMEMBERED_KEYS) this.#recorded.delete(this.#recorded.keys().next().value as string)
  }

  /**
   * Runs `exec` once per (client, key). `exec` returns the answer and whether to record it. `inFlightMs` overrides
   * how long the claim blocks the key if this process dies (a caller with a lease of its own ends both together).
   * Returns the answer and whether it was replayed.
   */
  async run (client: string, key: string, fingerprint: string,
    exec: () => Promise<{ response: StoredResponse, record: boolean }>,
    opts: { inFlightMs?: number } = {}): Promise<{ response: StoredResponse, replayed: boolean }> {
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw new GatewayError('GW_ERR_VALIDATION', 'Idempotency-Key must be 1 to 255 visible ASCII characters', { errors: [{ path: '/headers/idempotency-key', message: 'invalid' }] })
    }
    const storeKey = keys.idempotency(client, key)
    const claim: Record_ = { state: 'in_flight', fingerprint }
    let claimed: boolean
    try {
      claimed = await this.#store.set(storeKey, JSON.stringify(claim), { ttlMs: opts.inFlightMs ?? this.#inFlightMs, nx: true })
    } catch (err) {
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'The idempotency store is unreachable, so this write cannot be guaranteed to happen once; retry shortly', { retryAfter: 1, cause: err })
    }
    if (!claimed) return { response: await this.#existing(storeKey, fingerprint), replayed: true }

    let outcome: { response: StoredResponse, record: boolean }
    try {
      outcome = await exec()
    } catch (err) {
      await this.#store.del(storeKey).catch(() => {})
      throw err
    }
    try {
      if (outcome.record) {
        const done: Record_ = { state: 'done', fingerprint, response: outcome.response }
        await this.#store.set(storeKey, JSON.stringify(done), { ttlMs: this.#ttlMs })
        this.#remember(storeKey)
      } else {
        await this.#store.del(storeKey)
      }
    } catch {
      // the answer still goes out; the claim expires after inFlightMs
    }
    return { response: outcome.response, replayed: false }
  }

  async #existing (storeKey: string, fingerprint: string): Promise<StoredResponse> {
    let raw: string | null
    try {
      raw = await this.#store.get(storeKey)
    } catch (err) {
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'The idempotency store is unreachable; retry shortly', { retryAfter: 1, cause: err })
    }
    if (raw === null) {
      // released between our claim attempt and this read: the first request failed before reaching the vendor
      throw new GatewayError('GW_ERR_IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key just finished without a result; retry it', { retryAfter: 1 })
    }
    const rec = JSON.parse(raw) as Record_
    if (rec.state === 'lost') {
      throw new GatewayError('GW_ERR_IDEMPOTENCY_LOST', 'The record of this Idempotency-Key was lost when the gateway\'s store (Redis) lost its data, ' +
        'so whether the first request created something is unknown: check the case list before retrying (with a new key)')
    }
    if (rec.fingerprint !== fingerprint) {
      throw new GatewayError('GW_ERR_IDEMPOTENCY_MISMATCH', 'This Idempotency-Key was used with a different request; use a new key for a new request')
    }
    if (rec.state === 'in_flight' || rec.response === undefined) {
      throw new GatewayError('GW_ERR_IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed', { retryAfter: 1 })
    }
    this.replays++
    return rec.response
  }
}

/** A stable fingerprint of a request: route, path parameters, body with sorted keys, and attachment digests. */
export function fingerprint (parts: unknown): string {
  return createHash('sha256').update(canonical(parts)).digest('base64url')
}

function canonical (value: unknown): string {
  if (Buffer.isBuffer(value)) return JSON.stringify(createHash('sha256').update(value).digest('hex'))
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map(k => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
