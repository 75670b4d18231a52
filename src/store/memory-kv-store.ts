import type { Clock } from '../clock.js'
import type { KvStore } from './kv-store.js'

interface Entry { value: string, expiresAt: number }

/** In-process adapter: same contract as Redis, for one process (REDIS_URL unset) and unit tests. */
export class MemoryKvStore implements KvStore {
  readonly kind = 'memory' as const
  readonly #map = new Map<string, Entry>()
  readonly #clock: Clock

  constructor (clock: Clock) {
    this.#clock = clock
  }

  #live (key: string): Entry | undefined {
    const e = this.#map.get(key)
    if (e !== undefined && e.expiresAt <= this.#clock.now()) {
      this.#map.delete(key)
      return undefined
    }
    return e
  }

  async get (key: string): Promise<string | null> {
    return this.#live(key)?.value ?? null
  }

  async mget (keys: string[]): Promise<Array<string | null>> {
    return keys.map(k => this.#live(k)?.value ?? null)
  }

  async set (key: string, value: string, opts: { ttlMs: number, nx?: boolean }): Promise<boolean> {
    if (opts.nx === true && this.#live(key) !== undefined) return false
    this.#map.set(key, { value, expiresAt: this.#clock.now() + opts.ttlMs })
    if (this.#map.size > 100_000) this.#sweep()
    return true
  }

  async del (key: string): Promise<void> {
    this.#map.delete(key)
  }

  async delIfEquals (key: string, value: string): Promise<boolean> {
    if (this.#live(key)?.value !== value) return false
    this.#map.delete(key)
    return true
  }

  async incr (key: string, ttlMs: number): Promise<{ value: number, ttlMs: number }> {
    const e = this.#live(key)
    const now = this.#clock.now()
    if (e === undefined) {
      this.#map.set(key, { value: '1', expiresAt: now + ttlMs })
      return { value: 1, ttlMs }
    }
    e.value = String(Number(e.value) + 1)
    return { value: Number(e.value), ttlMs: e.expiresAt - now }
  }

  async health (): Promise<string | null> { return null }
  async close (): Promise<void> { this.#map.clear() }

  #sweep (): void {
    const now = this.#clock.now()
    for (const [k, e] of this.#map) if (e.expiresAt <= now) this.#map.delete(k)
  }
}
