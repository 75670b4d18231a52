/**
 * Redis restarted empty (data lost) under a running gateway, on a redis-server the test owns: the gateway logs one
 * error, counts the loss, says "degraded" on /readyz, gets its job schedulers back (vendor list calls resume), begins
 * a new epoch that the next events carry, and answers a batch and an Idempotency-Key from before the loss with the
 * "lost" problems. Webhook endpoints that went with the data are reported.
 */
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedisEventStore } from '../../src/events/redis-store.js'
import { Queue } from 'bullmq'
import { bullPrefix } from '../../src/jobs/bullmq.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { ownRedisGateway, type OwnRedisGateway } from '../support/own-redis-gateway.js'
import { spawnRedis } from '../support/redis-server.js'
import { waitFor } from '../support/wait.js'

const headers = { authorization: 'Bearer ops-secret-key' }
const WATCH_MS = 1000

describe('Redis restarted empty under a running gateway', () => {
  let gw: OwnRedisGateway
  let app: FastifyInstance
  let sandbox: Sandbox
  let events: RedisEventStore
  const lines: Array<{ level: number, msg: string, [k: string]: unknown }> = []

  beforeAll(async () => {
    const sink = new Writable({ write (chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l)); done() } })
    gw = await ownRedisGateway({
      jobs: 'bullmq',
      logger: pino({ level: 'info' }, sink),
      env: {
        WATCH_PHISHFORT_INTERVAL_MS: String(WATCH_MS),
        WATCH_BFOREAI_INTERVAL_MS: '0',
        WATCH_CLOUDFLARE_INTERVAL_MS: '0',
        WATCH_NETCRAFT_INTERVAL_MS: '0',
        STORE_EPOCH_CHECK_MS: '200',
        STORE_LOSS_DEGRADED_MS: '600000'
      }
    })
    ;({ app, sandbox, events } = gw)
  })
  afterAll(async () => { await gw.close() }, 30_000)

  const lists = (): number => sandbox.running.phishfort.sim.stats.get('GET', '/v1/incidents')
  const losses = (): typeof lines => lines.filter(l => l.level === 50 && /lost its data/.test(l.msg))

  it('notices, heals, begins a new epoch and says what was lost', async () => {
    // before: the watcher has baselined PhishFort, a batch, an idempotent create and a webhook endpoint are recorded
    await waitFor('the first sync', async () => (await events.getCheckpoint('phishfort'))?.baselined)
    const before = app.epoch.current as string
    expect(before).toMatch(/^[a-z0-9]+-[0-9a-f]{6}$/)
    const batch = await app.inject({ method: 'POST', url: '/v1/batches', headers, payload: { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: 'https://lost-batch.example/' } }] } })
    expect(batch.statusCode).toBe(202)
    expect(batch.json().id).toContain(before)
    const create = { method: 'POST' as const, url: '/v1/cases', headers: { ...headers, 'idempotency-key': 'before-the-loss' }, payload: { provider: 'phishfort', target: { type: 'url', value: 'https://lost-key.example/' } } }
    expect((await app.inject(create)).statusCode).toBe(201)
    expect((await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers, payload: { url: 'http://127.0.0.1:9/hook' } })).statusCode).toBe(201)
    // an epoch check finds the epoch in place and counts the endpoints (the loss report compares with it)
    await app.epoch.check()
    expect(losses()).toHaveLength(0)
    expect((await app.inject('/readyz')).json().status).toBe('ready')

    // Redis killed and started again on its port, empty
    gw.redis.kill('SIGKILL')
    gw.redis = (await spawnRedis([], gw.port)).process
    const restarted = Date.now()
    const after = await waitFor('a new epoch', async () => app.epoch.current !== before && app.epoch.current)
    const noticedMs = Date.now() - restarted

    // the job schedulers are back (the restart took them): list calls resume within a watch interval or two
    const queue = new Queue('watch-sync', { connection: { host: '127.0.0.1', port: gw.port }, prefix: bullPrefix('', false) })
    try {
      await waitFor('the PhishFort sync scheduler', async () => await queue.getJobScheduler('watch-phishfort'), { timeoutMs: 4 * WATCH_MS })
    } finally {
      await queue.close()
    }
    const scheduledMs = Date.now() - restarted
    const listed = lists()
    await waitFor('vendor list calls', async () => lists() > listed, { timeoutMs: 4 * WATCH_MS })
    console.log(`[redis data loss] after the empty restart: new epoch in ${noticedMs} ms, sync scheduler back in ${scheduledMs} ms, ` +
      `list calls resumed in ${Date.now() - restarted} ms (watch interval ${WATCH_MS} ms, epoch check every 200 ms)`)
    await waitFor('the watcher baselined again', async () => (await events.getCheckpoint('phishfort'))?.baselined)

    // one error, one count, /readyz degraded (200) until STORE_LOSS_DEGRADED_MS has passed
    expect(losses()).toHaveLength(1)
    expect(losses()[0]).toMatchObject({ previousEpoch: before, epoch: after })
    const ready = await app.inject('/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/lost its data/) })
    const scrape = (await app.inject('/metrics')).body
    expect(scrape).toMatch(/^takedown_gateway_store_data_losses_total 1$/m)
    expect(scrape).toMatch(/^takedown_gateway_store_lost_records_total\{kind="webhook_endpoint"\} 1$/m)
    expect(lines.filter(l => l.level === 50 && /webhook endpoints were lost/.test(l.msg))).toEqual([expect.objectContaining({ endpoints: 1 })])

    // the next change of a case is an event of the new epoch (sequences start again: (epoch, case, sequence) stays unique)
    const open = ((await app.inject({ url: '/v1/cases?provider=phishfort&terminal=false&limit=1', headers })).json().items[0] as { id: string }).id
    const res = await request(`${sandbox.endpoints.phishfort.baseUrl}/v1/incident/${open.slice('phishfort:'.length)}/safe`, { method: 'POST', headers: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort } })
    await res.body.dump()
    // the simulator moves cases by its clock (the same manual one)
    gw.clock.advance(2 * 3_600_000)
    const event = await waitFor('the event of the change', async () => {
      const items = (await app.inject({ url: `/v1/events?caseId=${encodeURIComponent(open)}`, headers })).json().items as CaseEvent[] | undefined
      return items?.find(e => e.case?.id === open)
    }, { timeoutMs: 4 * WATCH_MS })
    expect(event).toMatchObject({ type: 'case.status_changed', epoch: after, sequence: 1 })

    // what the store lost is said so: the batch, and a replay of the key
    const lostBatch = await app.inject({ url: `/v1/batches/${batch.json().id as string}`, headers })
    expect(lostBatch.statusCode).toBe(410)
    expect(lostBatch.json()).toMatchObject({ code: 'GW_ERR_STORE_LOST', detail: expect.stringMatching(/lost its data.*check the case list/) })
    const replay = await app.inject(create)
    expect(replay.statusCode).toBe(409)
    expect(replay.json()).toMatchObject({ code: 'GW_ERR_IDEMPOTENCY_LOST', detail: expect.stringMatching(/was lost.*check the case list before retrying/) })

    // the degraded mark has ended (the clock moved past STORE_LOSS_DEGRADED_MS)
    expect((await app.inject('/readyz')).json().status).toBe('ready')
  })
})
