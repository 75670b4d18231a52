/**
 * A sandbox restarted on the same Redis starts over: its simulators are new (same ids, new dates) and its random
 * secrets too, so it keeps its keys under a prefix of its own run and reads nothing another run left.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { startReceiver } from '../support/receiver.js'

const auth = { authorization: 'Bearer sandbox' }

describe('sandbox runs on one Redis', () => {
  it('puts each run with random secrets under its own key prefix; given secrets keep REDIS_KEY_PREFIX as it is', () => {
    const base = { SANDBOX: 'true', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: 'tgw:' }
    const a = loadConfig(base)
    const b = loadConfig(base)
    expect(a.redisKeyPrefix).toMatch(/^tgw:sandbox-[0-9a-f]{8}:$/)
    expect(b.redisKeyPrefix).not.toBe(a.redisKeyPrefix)
    expect(a.redisKeyPrefix).toBe(`tgw:sandbox-${a.sandboxRun ?? ''}:`)
    // replicas that share one sandbox state say so with the secrets they share
    const fixed = { ...base, GATEWAY_SECRET: 'fixed-sandbox-secret-0123456789', WEBHOOK_ENCRYPTION_KEY: randomBytes(32).toString('hex') }
    expect(loadConfig(fixed)).toMatchObject({ redisKeyPrefix: 'tgw:', sandboxRun: null })
    // without Redis there is nothing to share or inherit
    expect(loadConfig({ SANDBOX: 'true' })).toMatchObject({ redisKeyPrefix: '', sandboxRun: null })
    // live mode never changes the prefix
    expect(loadConfig({ ...fixed, SANDBOX: 'false', GATEWAY_API_KEYS: 'ops:ops-secret-key-0123456789abcdef' }).redisKeyPrefix).toBe('tgw:')
  })

  it('a restarted sandbox records no event from the last run\'s snapshots and lists none of its webhook endpoints', async () => {
    const env = { SANDBOX: 'true', LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', WATCH_ENABLED: 'false', REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: `t-${randomUUID()}:` }
    const rx = await startReceiver()
    const run = async (): Promise<FastifyInstance> => {
      const app = await buildApp({ config: loadConfig(env), logger: false })
      await app.ready()
      for (const id of PROVIDER_IDS) await app.events.watcher.sync(id)
      return app
    }
    try {
      const first = await run()
      const ep = await first.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: rx.url } })
      expect(ep.statusCode, ep.body).toBe(201)
      await first.close()

      const second = await run()
      try {
        // the first look at each vendor is silent; a second sync finds nothing changed
        for (const id of PROVIDER_IDS) await second.events.watcher.sync(id)
        expect((await second.inject({ url: '/v1/events?limit=100', headers: auth })).json().items).toEqual([])
        expect((await second.inject({ url: '/v1/webhook-endpoints', headers: auth })).json().items).toEqual([])
      } finally {
        await second.close()
      }
    } finally {
      await rx.close()
    }
  })
})
