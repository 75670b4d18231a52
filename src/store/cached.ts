/**
 * Shared read-through cache for reference data: fresh TTL, stale-while-revalidate, stale-if-error, single-flight
 * inside the process (one promise per key) and across replicas (a short lock in the store; the others wait for the
 * value to appear). The store is optional at run time: when it fails, the in-process copy and the loader answer,
 * and `Cache-Status` (RFC 9211) says what happened.
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { KvStore } from './kv-store.js'

export interface CacheEntry<T> { value: T, fetchedAt: number, etag: string }

export type CacheOutcome = 'hit' | 'stale-while-revalidate' | 'stale-if-error' | 'miss' | 'collapsed'

export interface CacheResult<T> { entry: CacheEntry<T>, outcome: CacheOutcome }

export interface CacheOptions {
  ttlMs: number
  staleMs: number
  /** how long a replica holds the load lock (and others wait for its result) */
  lockMs?: number
  /** poll interval while waiting for another replica's load */
  pollMs?: number
  /** told the outcome of every `get` that answered (metrics); `labels` are the caller's */
  onOutcome?: (outcome: CacheOutcome, labels: CacheLabels) => void
}

/** What a cached value is, for metrics: e.g. `{ provider: '<id>', kind: 'statuses' }`. */
export interface CacheLabels { provider: string, kind: string }

export class SharedCache {
  readonly #store: KvStore
  readonly #clock: Clock
  readonly #opts: Required<Omit<CacheOptions, 'onOutcome'>>
  readonly #onOutcome: CacheOptions['onOutcome']
  readonly #log: Logger
  readonly #local = new Map<string, CacheEntry<unknown>>()
  readonly #inflight = new Map<string, Promise<CacheResult<unknown>>>()
  /** when a load of a key last failed (clock ms) and when a background refresh was last tried (wall ms) */
  readonly #failures = new Map<string, number>()
  readonly #lastTry = new Map<string, number>()
  /** when the store last failed (ms), for /readyz and to skip it briefly */
  storeError: { at: number, message: string } | null = null

  constructor (store: KvStore, clock: Clock, log: Logger, opts: CacheOptions) {
    this.#store = store
    this.#clock = clock
    this.#log = log
    const { onOutcome, ...rest } = opts
    this.#opts = { lockMs: 5000, pollMs: 25, ...rest }
    this.#onOutcome = onOutcome
  }

  /** Age in ms of the local copy of a key, or null. */
  ageOf (key: string): number | null {
    const e = this.#local.get(key)
    return e === undefined ? null : this.#clock.now() - e.fetchedAt
  }

  /** The local copy of a key while it is fresh (counted as a hit), else null: the hit path without a promise. */
  fresh<T> (key: string, labels?: CacheLabels): CacheEntry<T> | null {
    const entry = this.#local.get(key) as CacheEntry<T> | undefined
    if (entry === undefined || this.#clock.now() - entry.fetchedAt >= this.#opts.ttlMs) return null
    if (this.#onOutcome !== undefined) this.#onOutcome('hit', labels ?? { provider: 'unknown', kind: 'unknown' })
    return entry
  }

  async get<T> (key: string, lockKey: string, load: () => Promise<T>, etagOf: (value: T) => string, labels?: CacheLabels): Promise<CacheResult<T>> {
    const result = await this.#get(key, lockKey, load, etagOf)
    if (this.#onOutcome !== undefined) this.#onOutcome(result.outcome, labels ?? { provider: 'unknown', kind: 'unknown' })
    return result
  }

  async #get<T> (key: string, lockKey: string, load: () => Promise<T>, etagOf: (value: T) => string): Promise<CacheResult<T>> {
    const now = this.#clock.now()
    let entry = this.#local.get(key) as CacheEntry<T> | undefined
    if (entry !== undefined && now - entry.fetchedAt < this.#opts.ttlMs) return { entry, outcome: 'hit' }

    const shared = await this.#read<T>(key)
    if (shared !== null && (entry === undefined || shared.fetchedAt > entry.fetchedAt)) {
      entry = shared
      this.#local.set(key, shared)
    }
    if (entry !== undefined && now - entry.fetchedAt < this.#opts.ttlMs) return { entry, outcome: 'hit' }
    if (entry !== undefined && now - entry.fetchedAt < this.#opts.ttlMs + this.#opts.staleMs) {
      // stale but within the window: answer now, refresh behind the answer (at most every 5 s while the vendor fails)
      const failedAt = this.#failures.get(key)
      const failing = failedAt !== undefined && failedAt > entry.fetchedAt
      if (!failing || Date.now() - (this.#lastTry.get(key) ?? 0) > 5000) {
        this.#lastTry.set(key, Date.now())
        this.#singleFlight(key, lockKey, load, etagOf).catch(err => {
          this.#log.warn({ key, err: (err as Error).message }, 'refresh of reference data failed; serving stale')
        })
      }
      return { entry, outcome: failing ? 'stale-if-error' : 'stale-while-revalidate' }
    }
    // nothing usable: fetch now; past the stale window an old copy is not served
    return await this.#singleFlight(key, lockKey, load, etagOf)
  }

  #singleFlight<T> (key: string, lockKey: string, load: () => Promise<T>, etagOf: (value: T) => string): Promise<CacheResult<T>> {
    const running = this.#inflight.get(key) as Promise<CacheResult<T>> | undefined
    if (running !== undefined) return running.then(r => ({ entry: r.entry, outcome: 'collapsed' as const }))
    const p = this.#load(key, lockKey, load, etagOf).finally(() => this.#inflight.delete(key))
    this.#inflight.set(key, p)
    return p
  }

  async #load<T> (key: string, lockKey: string, load: () => Promise<T>, etagOf: (value: T) => string): Promise<CacheResult<T>> {
    const token = randomUUID()
    const started = this.#clock.now()
    let locked = true
    try {
      locked = await this.#store.set(lockKey, token, { ttlMs: this.#opts.lockMs, nx: true })
    } catch (err) {
      this.#storeFailed(err) // no shared lock: load alone, the in-process single flight still holds
    }
    if (locked) {
      // double-checked: another replica may have stored a fresh value between our read and our lock
      const shared = await this.#read<T>(key)
      if (shared !== null && shared.fetchedAt >= started - 1000 && this.#clock.now() - shared.fetchedAt < this.#opts.ttlMs) {
        this.#local.set(key, shared)
        this.#store.delIfEquals(lockKey, token).catch(() => {})
        return { entry: shared, outcome: 'collapsed' }
      }
    } else {
      // another replica is loading: wait for its value instead of calling the vendor again
      const waitUntil = Date.now() + this.#opts.lockMs
      while (Date.now() < waitUntil) {
        await new Promise(resolve => setTimeout(resolve, this.#opts.pollMs))
        const shared = await this.#read<T>(key)
        if (shared !== null && shared.fetchedAt >= started - 1000 && this.#clock.now() - shared.fetchedAt < this.#opts.ttlMs) {
          this.#local.set(key, shared)
          return { entry: shared, outcome: 'collapsed' }
        }
        let holder: string | null = null
        try { holder = await this.#store.get(lockKey) } catch { holder = null }
        if (holder === null) {
          // released: either its value is there now (it wrote before releasing) or it failed and we load ourselves
          const last = await this.#read<T>(key)
          if (last !== null && last.fetchedAt >= started - 1000) {
            this.#local.set(key, last)
            return { entry: last, outcome: 'collapsed' }
          }
          break
        }
      }
    }
    try {
      let value: T
      try {
        value = await load()
      } catch (err) {
        this.#failures.set(key, this.#clock.now())
        throw err
      }
      this.#failures.delete(key)
      const entry: CacheEntry<T> = { value, fetchedAt: this.#clock.now(), etag: etagOf(value) }
      this.#local.set(key, entry)
      try {
        await this.#store.set(key, JSON.stringify(entry), { ttlMs: this.#opts.ttlMs + this.#opts.staleMs })
      } catch (err) {
        this.#storeFailed(err)
      }
      return { entry, outcome: 'miss' }
    } finally {
      if (locked) this.#store.delIfEquals(lockKey, token).catch(() => {})
    }
  }

  async #read<T> (key: string): Promise<CacheEntry<T> | null> {
    if (this.storeError !== null && Date.now() - this.storeError.at < 250) return null // don't hammer a dead store
    try {
      const raw = await this.#store.get(key)
      this.storeError = null
      return raw === null ? null : JSON.parse(raw) as CacheEntry<T>
    } catch (err) {
      this.#storeFailed(err)
      return null
    }
  }

  #storeFailed (err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    if (this.storeError === null) this.#log.warn({ err: message }, 'shared store unreachable; reference data served from process memory or the vendor')
    this.storeError = { at: Date.now(), message }
  }
}

/** RFC 9211 Cache-Status member for one outcome. */
export function cacheStatus (outcome: CacheOutcome, key: string, ttlLeftMs: number): string {
  const ttl = Math.round(ttlLeftMs / 1000)
  switch (outcome) {
    case 'hit': return `takedown-gateway; hit; ttl=${ttl}; key="${key}"`
    case 'stale-while-revalidate': return `takedown-gateway; hit; ttl=${ttl}; key="${key}"; detail=stale-while-revalidate`
    case 'stale-if-error': return `takedown-gateway; hit; ttl=${ttl}; key="${key}"; detail=stale-if-error`
    case 'collapsed': return `takedown-gateway; fwd=uri-miss; collapsed; stored; key="${key}"`
    case 'miss': return `takedown-gateway; fwd=uri-miss; stored; key="${key}"`
  }
}
