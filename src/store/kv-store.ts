/**
 * The key-value port behind the reference cache, idempotency records and rate limits. Two adapters:
 * Redis (shared by every replica) and memory (one process, used when REDIS_URL is unset).
 * Every method may reject when the backing store is unreachable; callers decide whether to fail open.
 */
import type { Cluster, Redis } from 'ioredis'

export interface KvStore {
  readonly kind: 'redis' | 'memory'
  /** the ioredis client of a Redis store (the inbound rate limit counts in it too) */
  readonly client?: Redis | Cluster
  get (key: string): Promise<string | null>
  /** several keys in one round trip (on a Cluster they must share a hash slot: put a `{tag}` in them) */
  mget (keys: string[]): Promise<Array<string | null>>
  /** false when `nx` is set and the key already exists */
  set (key: string, value: string, opts: { ttlMs: number, nx?: boolean }): Promise<boolean>
  del (key: string): Promise<void>
  /** deletes the key only while it still holds `value` (releasing a lock we own); true when deleted */
  delIfEquals (key: string, value: string): Promise<boolean>
  /** increments a counter, setting its expiry on first use; returns the new value and the ms left */
  incr (key: string, ttlMs: number): Promise<{ value: number, ttlMs: number }>
  /** resolves when the store can take commands, or false after `ms` */
  waitReady? (ms?: number): Promise<boolean>
  /** null when healthy, else why not */
  health (): Promise<string | null>
  /** bounded (a dead Redis never holds it): `abandoned` is told what it gave up on */
  close (abandoned?: (what: string) => void): Promise<void>
}
