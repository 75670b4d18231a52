/**
 * The gateway's one in-process cache: at most `max` entries, each fresh for a time counted from when its value was
 * read, on the injected clock. Setting a key again moves it to the back; past `max` the least recently set entry goes.
 * An entry past its time is gone for `get` and `take` (and removed then); `size` counts it until then.
 */
import type { Clock } from '../clock.js'

export interface TtlCacheOptions {
  /** entries held at most; 0 holds nothing */
  max: number
  /** how long an entry is fresh unless `set` says otherwise */
  ttlMs: number
  clock: Clock
}

interface Entry<V> { value: V, expiresAt: number }

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #opts: TtlCacheOptions

  constructor (opts: TtlCacheOptions) {
    this.#opts = opts
  }

  get size (): number { return this.#entries.size }

  /** the fresh value under `key`, or undefined */
  get (key: string): V | undefined {
    const e = this.#entries.get(key)
    if (e === undefined) return undefined
    if (e.expiresAt > this.#opts.clock.now()) return e.value
    this.#entries.delete(key)
    return undefined
  }

  /** the fresh value under `key`, removed; undefined when none */
  take (key: string): V | undefined {
    const value = this.get(key)
    this.#entries.delete(key)
    return value
  }

  /**
   * Holds `value` until `at + ttlMs` (`at`: when the value was read, default now; `ttlMs`: default the cache's). A
   * value already past its time is not held.
   */
  set (key: string, value: V, opts: { at?: number, ttlMs?: number } = {}): void {
    const expiresAt = (opts.at ?? this.#opts.clock.now()) + (opts.ttlMs ?? this.#opts.ttlMs)
    this.#entries.delete(key)
    if (this.#opts.max <= 0 || expiresAt <= this.#opts.clock.now()) return
    this.#entries.set(key, { value, expiresAt })
    // Map order is insertion order: the front holds the least recently set entries
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.#opts.max) break
      this.#entries.delete(k)
    }
  }

  delete (key: string): void {
    this.#entries.delete(key)
  }

  clear (): void {
    this.#entries.clear()
  }
}
