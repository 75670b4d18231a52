/**
 * Shutdown with the gateway's Redis frozen (SIGSTOP: connections stay open, nothing answers): the store, the event
 * store and the BullMQ job queues are all on that Redis, built by the app itself. `app.close()` must still finish,
 * and the log names what the close abandoned at its deadlines.
 */
import type { ChildProcess } from 'node:child_process'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ManualClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { spawnRedis } from '../support/redis-server.js'

const headers = { authorization: 'Bearer sandbox' }

describe('closing with the Redis frozen', () => {
  let redis: ChildProcess | undefined

  afterAll(() => { redis?.kill('SIGKILL') })

  it('app.close() resolves and logs what it abandoned', async () => {
    const spawned = await spawnRedis()
    redis = spawned.process
    const lines: Array<{ msg?: string, abandoned?: string[] }> = []
    const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as { msg?: string }); done() } })
    const config = loadConfig({
      SANDBOX: 'true', GATEWAY_SECRET: 'x'.repeat(32), MAX_EVENT_LOOP_DELAY_MS: '0', REDIS_URL: spawned.url, REDIS_KEY_PREFIX: 'close-frozen:'
    })
    const app = await buildApp({ config, clock: new ManualClock(), loggerInstance: pino({ level: 'warn' }, sink) })
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200)
    expect((await app.inject({ url: '/v1/cases?limit=5', headers })).statusCode).toBe(200)

    redis.kill('SIGSTOP')
    // work in flight on the frozen Redis when the close begins: a watcher pass and a read of the event log
    const sync = app.events.watcher.sync('phishfort').catch(() => 'failed')
    const read = app.inject({ url: '/v1/events', headers })
    const closed = app.close().then(() => 'closed')
    const bound = new Promise(resolve => { setTimeout(resolve, 60_000, 'still closing').unref() })
    expect(await Promise.race([closed, bound])).toBe('closed')
    await Promise.all([sync, read])

    const report = lines.find(l => l.abandoned !== undefined)
    expect(report?.msg).toMatch(/abandoned/)
    // the clients on the frozen Redis were dropped, not waited on
    expect(report?.abandoned?.some(what => what.includes('QUIT'))).toBe(true)
  }, 90_000)
})
