import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { closeRedisClient, type Abandoned } from './closing.js'
import type { KvStore } from './kv-store.js'

export interface HostPort { host: string, port: number }

/** How to reach Redis: one URL, a Sentinel group, or a Cluster (ioredis supports all three). */
export type RedisTarget =
  | { kind: 'url', url: string }
  | { kind: 'sentinel', sentinels: HostPort[], name: string }
  | { kind: 'cluster', nodes: HostPort[] }

/** An ioredis client for a URL, a Sentinel group or a Cluster (`keyPrefix` applies to every node of a Cluster). */
export function createRedisClient (target: string | RedisTarget, options: RedisOptions): Redis | Cluster {
  const t: RedisTarget = typeof target === 'string' ? { kind: 'url', url: target } : target
  if (t.kind === 'cluster') {
    const { keyPrefix, ...nodeOptions } = options
    return new Cluster(t.nodes, {
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
      ...(keyPrefix === undefined ? {} : { keyPrefix }),
      redisOptions: nodeOptions
    })
  }
  if (t.kind === 'sentinel') return new Redis({ ...options, sentinels: t.sentinels, name: t.name })
  return new Redis(t.url, options)
}

/** Resolves true when the client is connected, or false after `ms`. */
export async function waitForReady (client: Redis | Cluster, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true
  return await new Promise<boolean>(resolve => {
    const timer = setTimeout(() => { client.off('ready', onReady); resolve(false) }, ms)
    const onReady = (): void => { clearTimeout(timer); resolve(true) }
    client.once('ready', onReady)
  })
}

/**
 * ioredis adapter with fail-fast options: no offline queue (a command while disconnected fails at once instead of
 * waiting), a short command timeout, one retry per request. Reconnects in the background.
 */
export class RedisKvStore implements KvStore {
  readonly kind = 'redis' as const
  readonly client: Redis | Cluster
  #lastError: string | null = null

  /** `target`: a redis:// URL, or a RedisTarget from the configuration (URL, Sentinel group or Cluster). */
  constructor (target: string | RedisTarget, opts: RedisOptions = {}) {
    const options: RedisOptions = {
      enableOfflineQueue: false,
      commandTimeout: 500,
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...opts
    }
    this.client = createRedisClient(target, options)
    this.client.on('error', (err: Error) => { this.#lastError = err.message })
    this.client.on('ready', () => { this.#lastError = null })
    this.client.defineCommand('delIfEquals', {
      numberOfKeys: 1,
      lua: "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"
    })
    this.client.defineCommand('incrExpire', {
      numberOfKeys: 1,
      // INCR and set the expiry on first use, atomically; returns [value, pttl]
      lua: "local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return {v, redis.call('PTTL', KEYS[1])}"
    })
  }

  /** Resolves when connected, or after `ms` (the gateway starts degraded rather than not at all). */
  async waitReady (ms = 2000): Promise<boolean> {
    return await waitForReady(this.client, ms)
  }

  async get (key: string): Promise<string | null> {
    return await this.client.get(key)
  }

  async mget (keys: string[]): Promise<Array<string | null>> {
    return keys.length === 0 ? [] : await this.client.mget(keys)
  }

  async set (key: string, value: string, opts: { ttlMs: number, nx?: boolean }): Promise<boolean> {
    const ttl = Math.max(1, Math.round(opts.ttlMs))
    const res = opts.nx === true
      ? await this.client.set(key, value, 'PX', ttl, 'NX')
      : await this.client.set(key, value, 'PX', ttl)
    return res === 'OK'
  }

  async del (key: string): Promise<void> {
    await this.client.del(key)
  }

  async delIfEquals (key: string, value: string): Promise<boolean> {
    const n = await (this.client as unknown as { delIfEquals: (k: string, v: string) => Promise<number> }).delIfEquals(key, value)
    return n === 1
  }

  async incr (key: string, ttlMs: number): Promise<{ value: number, ttlMs: number }> {
    const [value, pttl] = await (this.client as unknown as { incrExpire: (k: string, t: number) => Promise<[number, number]> }).incrExpire(key, Math.round(ttlMs))
    return { value, ttlMs: pttl }
  }

  async health (): Promise<string | null> {
    if (this.client.status !== 'ready') return `redis ${this.client.status}${this.#lastError === null ? '' : `: ${this.#lastError}`}`
    return null
  }

  /** QUIT within the close deadline, else the connection is dropped (a dead Redis never holds a shutdown). */
  async close (abandoned?: Abandoned): Promise<void> {
    if (!(await closeRedisClient(this.client))) abandoned?.('store: Redis did not answer QUIT; the connection was dropped with its pending commands')
  }
}
