/**
 * The durability check at start (maxmemory-policy) and the events engine's metric families.
 */
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ManualClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { startSandbox, type Sandbox } from '../../src/simulators/sandbox.js'
import { MemoryKvStore } from '../../src/store/memory-kv-store.js'
import { auth, testGateway } from '../support/app.js'
import { spawnRedis } from '../support/redis-server.js'

describe('event store durability check', () => {
  let redis: ChildProcess
  let url = ''
  let sandbox: Sandbox
  const clock = new ManualClock()

  beforeAll(async () => {
    ;({ process: redis, url } = await spawnRedis(['--maxmemory-policy', 'allkeys-lru']))
    sandbox = await startSandbox(clock)
  })
  afterAll(async () => {
    redis.kill('SIGKILL')
    await sandbox.close()
  })

  it('refuses to start on a dedicated EVENTS_REDIS_URL that may evict, and says what to set', async () => {
    const config = loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent', EVENTS_REDIS_URL: url, WATCH_ENABLED: 'false' })
    await expect(buildApp({ config, clock, sandbox, store: new MemoryKvStore(clock), logger: false }))
      .rejects.toThrow(/EVENTS_REDIS_URL: Redis maxmemory-policy is "allkeys-lru".*noeviction.*appendonly yes/)
  })

  it('only warns on the shared REDIS_URL', async () => {
    const lines: string[] = []
    const config = loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'x'.repeat(32), LOG_LEVEL: 'warn', REDIS_URL: url, WATCH_ENABLED: 'false' })
    const app = await buildApp({
      config, clock, sandbox, store: new MemoryKvStore(clock), logger: { level: 'warn', stream: { write: (l: string) => { lines.push(l) } } }
    })
    await app.ready()
    await app.close()
    expect(lines.some(l => l.includes('maxmemory-policy is \\"allkeys-lru\\"'))).toBe(true)
  })
})

describe('event metrics', () => {
  it('counts events by type and provider, and shows watch lag, snapshots and inbound deliveries', async () => {
    const gw = await testGateway()
    try {
      await gw.app.events.watcher.sync('bforeai')
      const created = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'phishfort', target: { type: 'url', value: 'https://metrics.events.example/x' } } })
      expect(created.statusCode).toBe(201)
      await gw.app.inject({ method: 'POST', url: '/v1/inbound/phishfort', payload: { data: { incidentId: 'x' } } })
      await new Promise(resolve => setTimeout(resolve, 50))
      gw.clock.advance(5000)
      const text = (await gw.app.inject('/metrics')).body
      expect(text).toMatch(/takedown_gateway_events_total\{type="case.created",provider="phishfort"\} 1/)
      expect(text).toMatch(/takedown_gateway_watch_lag_seconds\{provider="bforeai"\} 5/)
      expect(text).toMatch(/takedown_gateway_event_snapshots\{provider="bforeai"\} 36/)
      expect(text).toMatch(/takedown_gateway_watch_sync_duration_seconds_count\{provider="bforeai",outcome="ok"\} 1/)
      expect(text).toMatch(/takedown_gateway_inbound_webhook_deliveries_total\{provider="phishfort",outcome="bad_signature"\} 1/)
    } finally {
      await gw.close()
    }
  })
})
