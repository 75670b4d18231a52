/**
 * What every section of the scale bench shares: a gateway built in this process on the bench's Redis database and key
 * prefix (its KV store, its event log on Redis Streams and its BullMQ jobs, as a replica has them), Redis memory of the
 * bench's own keys (MEMORY USAGE, never INFO: the server is shared), CPU time, percentiles, and the clean-up.
 */
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { buildApp, type AppOptions } from '../../src/app.js'
import type { Clock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { RedisEventStore } from '../../src/events/redis-store.js'
import { BullJobRunner } from '../../src/jobs/bullmq.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'

export const KEY = 'scale-bench-key-0123456789abcdef'
export const AUTH = { authorization: `Bearer ${KEY}` }

export interface Row {
  section: string
  metric: string
  target: string
  measured: string
  /** true met, false missed, null nothing to compare */
  met: boolean | null
}

export interface Gateway {
  app: FastifyInstance
  eventStore: RedisEventStore
  close: () => Promise<void>
}

/**
 * A replica on `redisUrl` under `prefix`. Sandbox mode (the simulators given), the watcher and verification off unless
 * `env` turns them on: each section drives what it measures itself.
 */
export async function gateway (o: {
  redisUrl: string
  prefix: string
  clock: Clock
  sandbox: Sandbox
  env?: Record<string, string>
  app?: Partial<AppOptions>
}): Promise<Gateway> {
  const config = loadConfig({
    SANDBOX: 'true',
    GATEWAY_SECRET: 'scale-bench-gateway-secret-0123456789',
    GATEWAY_API_KEYS: `bench:${KEY}:read+write+admin`,
    LOG_LEVEL: 'silent',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    WATCH_ENABLED: 'false',
    VERIFY_ENABLED: 'false',
    RDAP_ENABLED: 'false',
    ...Object.fromEntries(PROVIDER_IDS.map(id => [`${id.toUpperCase()}_TIMEOUT_MS`, '30000'])),
    ...o.env
  })
  const log = pino({ level: 'silent' })
  const retention = { retentionMs: config.events.retentionMs, timelineRetentionMs: config.events.timelineRetentionMs }
  const store = new RedisKvStore(o.redisUrl, { keyPrefix: o.prefix, commandTimeout: 10_000 })
  const eventStore = new RedisEventStore(o.redisUrl, { keyPrefix: o.prefix, clock: o.clock, log, retention })
  await eventStore.waitReady()
  const jobs = new BullJobRunner(o.redisUrl, { redisKeyPrefix: o.prefix, log })
  const app = await buildApp({ config, clock: o.clock, sandbox: o.sandbox, store, logger: false, eventStore, jobs, ...o.app })
  await app.ready()
  return { app, eventStore, close: async () => { await app.close(); await store.close(); await eventStore.close() } }
}

/** A plain client on the bench's database (no key prefix): memory and clean-up. */
export function rawClient (redisUrl: string): Redis {
  const c = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 })
  c.on('error', () => {})
  return c
}

/** Every key matching `pattern` (SCAN, never KEYS). */
export async function scanKeys (c: Redis, pattern: string): Promise<string[]> {
  const out: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    out.push(...keys)
  } while (cursor !== '0')
  return out
}

/** Sum of MEMORY USAGE (every element counted: SAMPLES 0) over the keys matching `pattern`, and how many keys. */
export async function memoryOf (c: Redis, pattern: string): Promise<{ bytes: number, keys: number }> {
  const keys = await scanKeys(c, pattern)
  let bytes = 0
  for (let i = 0; i < keys.length; i += 500) {
    const p = c.pipeline()
    for (const k of keys.slice(i, i + 500)) p.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')
    for (const [err, n] of await p.exec() ?? []) if (err === null) bytes += Number(n ?? 0)
  }
  return { bytes, keys: keys.length }
}

/** Deletes the bench's keys (SCAN + UNLINK); returns how many. */
export async function deleteKeys (c: Redis, prefix: string): Promise<number> {
  const keys = await scanKeys(c, `${prefix}*`)
  for (let i = 0; i < keys.length; i += 1000) await c.unlink(...keys.slice(i, i + 1000))
  return keys.length
}

export function percentile (values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

/** this process's user + system CPU in ms */
export const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

/** write system calls this process has made (Linux: /proc/self/io; NaN elsewhere): each socket write to Redis is one */
export function writeCalls (): number {
  try {
    return Number(/^syscw: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN)
  } catch {
    return Number.NaN
  }
}

export const rssMb = (): number => process.memoryUsage().rss / 1024 / 1024

export const fmt = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'

/** waits until `check` holds (polling), or throws after `ms` */
export async function until (check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
