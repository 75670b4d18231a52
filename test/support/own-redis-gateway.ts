/**
 * The gateway in sandbox mode on a redis-server of the test's own (to kill, restart empty, freeze): its shared store,
 * event log and (with `jobs: 'bullmq'`) job queues all on that Redis, the simulators on the test's manual clock.
 */
import type { ChildProcess } from 'node:child_process'
import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import { buildApp } from '../../src/app.js'
import { ManualClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { RedisEventStore } from '../../src/events/redis-store.js'
import { BullJobRunner } from '../../src/jobs/bullmq.js'
import { MemoryJobRunner } from '../../src/jobs/memory.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'
import { KEYS } from './app.js'
import { spawnRedis } from './redis-server.js'

export interface OwnRedisGateway {
  app: FastifyInstance
  /** the redis-server process now running (replace it after a restart) */
  redis: ChildProcess
  port: number
  store: RedisKvStore
  events: RedisEventStore
  sandbox: Sandbox
  clock: ManualClock
  close: () => Promise<void>
}

export async function ownRedisGateway (opts: { env?: Record<string, string>, jobs: 'bullmq' | 'memory', logger?: Logger }): Promise<OwnRedisGateway> {
  const clock = new ManualClock()
  const spawned = await spawnRedis()
  const config = loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'x'.repeat(32), GATEWAY_API_KEYS: KEYS, LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', ...opts.env })
  const store = new RedisKvStore(spawned.url)
  const events = new RedisEventStore(spawned.url, {
    keyPrefix: '', clock, log: pino({ level: 'silent' }), retention: { retentionMs: config.events.retentionMs, timelineRetentionMs: config.events.timelineRetentionMs }
  })
  for (let i = 0; i < 50 && !(await events.waitReady(100) && await store.waitReady(100)); i++);
  const sandbox = await startSandbox(clock)
  const silent = pino({ level: 'silent' })
  const app = await buildApp({
    config,
    clock,
    sandbox,
    store,
    eventStore: events,
    ...(opts.logger === undefined ? { logger: false } : { loggerInstance: opts.logger }),
    jobs: opts.jobs === 'bullmq' ? new BullJobRunner(spawned.url, { redisKeyPrefix: '', log: silent }) : new MemoryJobRunner(silent)
  })
  await app.ready()
  const gw: OwnRedisGateway = {
    app,
    redis: spawned.process,
    port: spawned.port,
    store,
    events,
    sandbox,
    clock,
    close: async () => {
      await app.close()
      await events.close()
      await store.close()
      await sandbox.close()
      gw.redis.kill('SIGKILL')
    }
  }
  return gw
}
