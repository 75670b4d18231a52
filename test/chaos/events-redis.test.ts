/**
 * The event store's Redis frozen (SIGSTOP) while the watcher runs: event routes answer 503, the case API 200, the
 * watcher's checkpoint stays where it was; once Redis answers again the changes made meanwhile are all recorded.
 */
import type { ChildProcess } from 'node:child_process'
import { pino } from 'pino'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ManualClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { RedisEventStore } from '../../src/events/redis-store.js'
import { MemoryJobRunner } from '../../src/jobs/memory.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import { MemoryKvStore } from '../../src/store/memory-kv-store.js'
import type { FastifyInstance } from 'fastify'
import { spawnRedis } from '../support/redis-server.js'

const headers = { authorization: 'Bearer sandbox' }
const HOUR = 3_600_000

describe('event store Redis frozen during watching', () => {
  let redis: ChildProcess
  let events: RedisEventStore
  let app: FastifyInstance
  let sandbox: Sandbox
  const clock = new ManualClock()

  beforeAll(async () => {
    const spawned = await spawnRedis()
    redis = spawned.process
    const config = loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', WATCH_ENABLED: 'false' })
    events = new RedisEventStore(spawned.url, {
      keyPrefix: 'chaos:', clock, log: pino({ level: 'silent' }), retention: { retentionMs: config.events.retentionMs, timelineRetentionMs: config.events.timelineRetentionMs }
    })
    for (let i = 0; i < 50 && !(await events.waitReady(100)); i++);
    sandbox = await startSandbox(clock)
    app = await buildApp({ config, clock, sandbox, store: new MemoryKvStore(clock), eventStore: events, jobs: new MemoryJobRunner(pino({ level: 'silent' })), logger: false })
    await app.events.watcher.sync('phishfort')
  })

  afterAll(async () => {
    // the event Redis dies before the app closes: the close must not wait on it
    redis.kill('SIGKILL')
    await app.close()
    await events.close()
    await sandbox.close()
  })

  it('answers 503 on event routes and 200 on cases, keeps the checkpoint, and records everything once Redis is back', async () => {
    const checkpoint = await events.getCheckpoint('phishfort')
    expect(checkpoint?.baselined).toBe(true)
    const cases = (await app.inject({ url: '/v1/cases?provider=phishfort&limit=100', headers })).json().items as Array<{ id: string, terminal: boolean }>
    const moved = cases.filter(c => !c.terminal).slice(0, 3).map(c => c.id)
    expect(moved).toHaveLength(3)

    redis.kill('SIGSTOP')
    try {
      // changes at the vendor while the event store is frozen
      for (const id of moved) {
        const res = await request(`${sandbox.endpoints.phishfort.baseUrl}/v1/incident/${id.slice('phishfort:'.length)}/safe`, { method: 'POST', headers: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort } })
        await res.body.dump()
      }
      clock.advance(2 * HOUR)
      await expect(app.events.watcher.sync('phishfort')).rejects.toThrow()
      for (const url of ['/v1/events', '/v1/events/stream', `/v1/cases/${encodeURIComponent(moved[0] as string)}/timeline`]) {
        const res = await app.inject({ url, headers })
        expect(res.statusCode, url).toBe(503)
        expect(res.json().code, url).toBe('GW_ERR_EVENTS_UNAVAILABLE')
      }
      expect((await app.inject({ url: '/v1/cases?limit=5', headers })).statusCode).toBe(200)
      expect((await app.inject({ url: `/v1/cases/${encodeURIComponent(moved[0] as string)}`, headers })).statusCode).toBe(200)
    } finally {
      redis.kill('SIGCONT')
    }
    expect(await events.getCheckpoint('phishfort')).toEqual(checkpoint)

    await app.events.watcher.sync('phishfort')
    const recorded = (await app.inject({ url: '/v1/events?provider=phishfort&limit=100', headers })).json().items as CaseEvent[]
    for (const id of moved) {
      const mine = recorded.filter(e => e.case.id === id)
      expect(mine, id).toHaveLength(1)
      // changed while nothing could be recorded: flagged, steps in between may be missing
      expect(mine[0]).toMatchObject({ type: 'case.status_changed', case: { status: 'closed' }, sequence: 1, gap: true })
    }
    expect((await events.getCheckpoint('phishfort'))?.lastSyncAt).toBe(clock.now())
  })

  it('flags no gap once the watcher has had time to read every case again', async () => {
    const cases = (await app.inject({ url: '/v1/cases?provider=phishfort&terminal=false&limit=1', headers })).json().items as Array<{ id: string }>
    const id = (cases[0] as { id: string }).id
    await app.events.watcher.sync('phishfort')
    // past the gap window (two of the slowest watch ticks, at least a minute each)
    clock.advance(HOUR)
    const res = await request(`${sandbox.endpoints.phishfort.baseUrl}/v1/incident/${id.slice('phishfort:'.length)}/safe`, { method: 'POST', headers: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort } })
    await res.body.dump()
    clock.advance(2 * HOUR)
    await app.events.watcher.sync('phishfort')
    const mine = ((await app.inject({ url: `/v1/events?caseId=${encodeURIComponent(id)}`, headers })).json().items as CaseEvent[]).at(-1)
    expect(mine).toMatchObject({ type: 'case.status_changed', case: { status: 'closed' } })
    expect(mine?.gap).toBeUndefined()
  })
})
