/**
 * Redis stopped (SIGSTOP: connections stay open, nothing answers) and killed (SIGKILL) under a running gateway:
 * reads keep answering because every store user fails open within its own short timeout.
 */
import { once } from 'node:events'
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'
import { spawnRedis } from '../support/redis-server.js'

const headers = { authorization: 'Bearer sandbox' }

describe('Redis outages under a running gateway', () => {
  let redis: ChildProcess
  let store: RedisKvStore
  let app: FastifyInstance

  beforeAll(async () => {
    const spawned = await spawnRedis()
    redis = spawned.process
    store = new RedisKvStore(spawned.url)
    for (let i = 0; i < 50 && (await store.health()) !== null; i++) await new Promise(resolve => setTimeout(resolve, 50))
    app = await buildApp({ config: loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0' }), store, logger: false })
    // warm: reference data cached, connections open
    expect((await app.inject({ url: '/v1/reference/statuses', headers })).statusCode).toBe(200)
    expect((await app.inject({ url: '/v1/cases?limit=5', headers })).statusCode).toBe(200)
  })

  afterAll(async () => {
    redis.kill('SIGKILL')
    await app.close()
    await store.close()
  })

  it('SIGSTOP: lists, reads and reference data still answer 200, each within the store timeouts', async () => {
    redis.kill('SIGSTOP')
    try {
      for (const url of ['/v1/cases?limit=5', '/v1/reference/statuses', '/v1/providers']) {
        const t0 = performance.now()
        const res = await app.inject({ url, headers })
        const ms = performance.now() - t0
        expect(res.statusCode, url).toBe(200)
        expect(ms, url).toBeLessThan(2000) // Redis commands give up after 500 ms; nothing waits for the frozen server
      }
      // a write with an Idempotency-Key cannot be guaranteed without the store: refused, not duplicated
      const write = await app.inject({
        method: 'POST',
        url: '/v1/cases',
        headers: { ...headers, 'idempotency-key': 'frozen-redis-1' },
        payload: { target: { type: 'phone', value: '+14155550177' } }
      })
      expect(write.statusCode).toBe(503)
      expect(write.json().code).toBe('GW_ERR_UNAVAILABLE')
    } finally {
      redis.kill('SIGCONT')
    }
  })

  it('SIGKILL: the same reads answer 200 fast and /readyz reports Redis', async () => {
    const exited = once(redis, 'exit')
    redis.kill('SIGKILL')
    await exited
    for (const url of ['/v1/cases?limit=5', '/v1/reference/statuses']) {
      const t0 = performance.now()
      const res = await app.inject({ url, headers })
      expect(res.statusCode, url).toBe(200)
      expect(performance.now() - t0, url).toBeLessThan(1000)
    }
    let ready = await app.inject('/readyz')
    for (let i = 0; i < 40 && ready.statusCode === 200; i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
      ready = await app.inject('/readyz')
    }
    expect(ready.statusCode).toBe(503)
    expect(ready.json().reason).toMatch(/redis/i)
  })
})
