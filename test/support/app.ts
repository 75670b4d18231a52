/**
 * Builds the real gateway in sandbox mode against simulators this test controls (seed, clock, faults),
 * with the memory store by default or the suite's Redis.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { inject } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ManualClock } from '../../src/clock.js'
import { loadConfig, type Config } from '../../src/config.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { RedisEventStore } from '../../src/events/redis-store.js'
import { BullJobRunner } from '../../src/jobs/bullmq.js'
import { pino } from 'pino'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import type { KvStore } from '../../src/store/kv-store.js'
import { MemoryKvStore } from '../../src/store/memory-kv-store.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'

export const TEST_SECRET = 'test-gateway-secret-0123456789'
export const KEYS = 'ops:ops-secret-key:read+write+admin,reader:reader-secret-key:read,writer:writer-secret-key:write'

export interface TestGateway {
  app: FastifyInstance
  sandbox: Sandbox
  clock: ManualClock
  store: KvStore
  close (): Promise<void>
}

export async function testGateway (opts: {
  env?: Record<string, string>
  seed?: number
  count?: number
  store?: 'memory' | 'redis'
  /** Redis key prefix; two gateways sharing one prefix behave like two replicas */
  redisPrefix?: string
  /** simulators already running (a second replica against the same vendors) */
  sandbox?: Sandbox
  clock?: ManualClock
  logger?: Parameters<typeof buildApp>[0]['logger']
  /** more buildApp options (event log, job runner, webhook resolver) */
  appOptions?: Partial<Parameters<typeof buildApp>[0]>
} = {}): Promise<TestGateway> {
  const clock = opts.clock ?? new ManualClock()
  const ownSandbox = opts.sandbox === undefined
  const sandbox = opts.sandbox ?? await startSandbox(clock, { ...(opts.seed === undefined ? {} : { seed: opts.seed }), ...(opts.count === undefined ? {} : { count: opts.count }) })
  const config = loadConfig({
    SANDBOX: 'true',
    GATEWAY_SECRET: TEST_SECRET,
    GATEWAY_API_KEYS: KEYS,
    LOG_LEVEL: 'silent',
    ...Object.fromEntries(PROVIDER_IDS.map(id => [`${id.toUpperCase()}_TIMEOUT_MS`, '3000'])),
    // load shedding reacts to the event loop of the whole test worker, not to this gateway: off unless a test sets it
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // no scheduled vendor syncs (their calls would count in the simulators' stats) unless a test turns them on
    WATCH_ENABLED: 'false',
    // no probes of the seeded targets (their checks would run beside every test) unless a test turns them on
    VERIFY_ENABLED: 'false',
    // no service levels (their timers would act on the seeded cases when a test moves the clock) unless a test sets them
    SLA_POLICY_FILE: 'none',
    ...opts.env
  })
  const prefix = opts.redisPrefix ?? `t-${randomUUID()}:`
  const store: KvStore = opts.store === 'redis' ? new RedisKvStore(inject('redisUrl'), { keyPrefix: prefix }) : new MemoryKvStore(clock)
  // with Redis, the events engine too: its log and its jobs under the same prefix (replicas share both)
  const events: { eventStore?: RedisEventStore, jobs?: BullJobRunner } = opts.store === 'redis' ? await redisEvents(prefix, config, clock, opts.appOptions?.jobs === undefined) : {}
  const app = await buildApp({ config, clock, sandbox, store, logger: opts.logger ?? false, ...events, ...opts.appOptions })
  await app.ready()
  return {
    app,
    sandbox,
    clock,
    store,
    close: async () => {
      await app.close()
      if (ownSandbox) await sandbox.close()
      await store.close()
      // the app closed the jobs runner it was given (it stops taking work before its connections close)
      await events.eventStore?.close()
    }
  }
}

async function redisEvents (prefix: string, config: Config, clock: ManualClock, withJobs: boolean): Promise<{ eventStore: RedisEventStore, jobs?: BullJobRunner }> {
  const eventStore = new RedisEventStore(inject('redisUrl'), {
    keyPrefix: prefix, clock, log: pino({ level: 'silent' }), retention: { retentionMs: config.events.retentionMs, timelineRetentionMs: config.events.timelineRetentionMs }
  })
  await eventStore.waitReady()
  return withJobs ? { eventStore, jobs: new BullJobRunner(inject('redisUrl'), { redisKeyPrefix: prefix, log: pino({ level: 'silent' }) }) } : { eventStore }
}

export const auth = (key = 'ops-secret-key'): Record<string, string> => ({ authorization: `Bearer ${key}` })

/** Valid Cloudflare providerOptions for a phishing report: the ones of the Cloudflare module's example create. */
export const CLOUDFLARE_REPORT_OPTIONS = PROVIDER_MODULES.cloudflare.exampleCreate({ type: 'url', value: 'https://example.net/' }).providerOptions as Record<string, unknown>
