/**
 * Two gateway processes on one Redis deliver to a slow receiver; one is SIGKILLed with deliveries in flight. The other
 * delivers everything (BullMQ takes the dead replica's jobs over once their lock runs out): no event lost, duplicates
 * (the same webhook-id twice) possible and counted.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { RedisEventStore } from '../../src/events/redis-store.js'
import { EventService } from '../../src/events/service.js'
import { recordEvents } from '../support/case-events.js'
import { httpRequest, killAll, listening, spawnGateway } from '../support/gateway-process.js'
import { eventually, startReceiver } from '../support/receiver.js'

const EVENTS = 200
const prefix = `whkill-${randomUUID()}:`
const retention = { retentionMs: 86_400_000, timelineRetentionMs: 86_400_000 }
const log = pino({ level: 'silent' })
const eventStore = new RedisEventStore(inject('redisUrl'), { keyPrefix: prefix, clock: systemClock, log, retention })

afterAll(async () => {
  await killAll()
  await eventStore.close()
})

describe('a replica SIGKILLed mid-delivery', () => {
  it('the other delivers every event; duplicates are counted, none lost', async () => {
    const rx = await startReceiver()
    // slow enough that each replica has deliveries in flight at any moment
    rx.answer(() => ({ status: 200, delayMs: 150 }))
    const env = {
      SANDBOX: 'true',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: prefix,
      GATEWAY_API_KEYS: 'ops:ops-secret-key:read+write+admin',
      GATEWAY_SECRET: 'replica-kill-test-secret-0123456789',
      WEBHOOK_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      WEBHOOK_JOB_LOCK_MS: '2000',
      WEBHOOK_ENDPOINT_CONCURRENCY: '4',
      WATCH_ENABLED: 'false',
      MAX_EVENT_LOOP_DELAY_MS: '0'
    }
    const [a, b] = await Promise.all([listening(spawnGateway(env)), listening(spawnGateway(env))])
    try {
      const created = await httpRequest(a.origin, '/v1/webhook-endpoints', { method: 'POST', headers: { authorization: 'Bearer ops-secret-key' }, body: { url: rx.url } })
      expect(created.status, created.body).toBe(201)
      const { secret } = JSON.parse(created.body) as { secret: string }

      // the events engine of a third party (this test) records into the shared log; both replicas fan out from it
      const events = await recordEvents(new EventService(eventStore, { clock: systemClock, retention, metrics: null, log }), EVENTS)
      expect(await eventually(() => rx.received.length >= 40, 30_000)).toBe(true)
      a.child.kill('SIGKILL')
      expect(await a.exited).toBe('SIGKILL')
      const receivedAtKill = rx.received.length

      const ids = (): Set<string> => new Set(rx.received.map(r => String(r.headers['webhook-id'])))
      // sandbox replicas record case events of their own too (the simulators move cases along; the start-up backfill
      // reads cases): every event this test recorded must arrive, the others may
      const ours = (): number => events.filter(e => ids().has(e.id)).length
      expect(await eventually(() => ours() === EVENTS, 60_000, 100)).toBe(true)
      const wh = new Webhook(secret)
      for (const r of rx.received) wh.verify(r.body, r.headers as Record<string, string>)
      const duplicates = rx.received.length - ids().size
      console.log(`[webhooks] replica SIGKILLed after ${receivedAtKill} of ${EVENTS} deliveries: all ${EVENTS} delivered by the other, ${duplicates} duplicate(s)`)
      expect(duplicates).toBeGreaterThanOrEqual(0)
      expect(b.stdout.join('\n')).not.toContain('"level":50')
    } finally {
      b.child.kill('SIGTERM')
      await b.exited
      await rx.close()
    }
  }, 120_000)
})
