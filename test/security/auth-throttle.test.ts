/**
 * Key guessing is throttled per client address: failed authentications count in the store (so replicas share the
 * count), and an address over AUTH_FAILURE_MAX gets 429 problems with Retry-After for every further failed attempt
 * until its window ends, while a valid key from it is served. Behind a reverse proxy, TRUST_PROXY makes the address
 * the client's (X-Forwarded-For), not the proxy's: one client guessing does not lock out the others.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const opened: TestGateway[] = []
afterAll(async () => { for (const gw of opened.reverse()) await gw.close() })

const vendorTotal = (gw: TestGateway): number => PROVIDER_IDS.reduce((n, p) => n + gw.sandbox.running[p].sim.stats.log.length, 0)

describe('failed-authentication throttle', () => {
  it('60 wrong keys with RATE_LIMIT_MAX=20 and AUTH_FAILURE_MAX=10: 10 x 401 then 429 with Retry-After; a valid key from the address is served', async () => {
    const gw = await testGateway({ env: { RATE_LIMIT_MAX: '20', AUTH_FAILURE_MAX: '10', AUTH_FAILURE_WINDOW_MS: '60000' } })
    opened.push(gw)
    const statuses: number[] = []
    let last: { headers: Record<string, unknown>, body: any } | null = null
    for (let i = 0; i < 60; i++) {
      const res = await gw.app.inject({ url: '/v1/cases?limit=1', headers: auth(`guess-${i}`) })
      statuses.push(res.statusCode)
      last = { headers: res.headers, body: res.json() }
    }
    expect(statuses.filter(s => s === 401)).toHaveLength(10)
    expect(statuses.slice(10).every(s => s === 429)).toBe(true)
    expect(last!.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0)
    expect(last!.body.requestId).toMatch(/\S/)
    expect(last!.body.detail).toMatch(/failed authentications from this address/)

    expect(vendorTotal(gw)).toBe(0)

    // the same address: a valid key is served, a wrong key or none still gets 429, until the window ends
    for (let i = 0; i < 3; i++) {
      expect((await gw.app.inject({ url: '/v1/cases?limit=1', headers: auth() })).statusCode).toBe(200)
      expect((await gw.app.inject({ url: '/v1/cases?limit=1', headers: auth('rotated-out-key') })).statusCode).toBe(429)
      expect((await gw.app.inject({ url: '/v1/cases?limit=1' })).statusCode).toBe(429)
    }
    gw.clock.advance(60_001)
    expect((await gw.app.inject({ url: '/v1/cases?limit=1', headers: auth('rotated-out-key') })).statusCode).toBe(401)
  })

  it('two replicas share the count through Redis', async () => {
    const prefix = `t-${randomUUID()}:`
    const env = { AUTH_FAILURE_MAX: '6', AUTH_FAILURE_WINDOW_MS: '60000' }
    const a = await testGateway({ env, store: 'redis', redisPrefix: prefix })
    opened.push(a)
    const b = await testGateway({ env, store: 'redis', redisPrefix: prefix, sandbox: a.sandbox })
    opened.push(b)
    const seen: number[] = []
    for (let i = 0; i < 8; i++) {
      const replica = i % 2 === 0 ? a : b
      seen.push((await replica.app.inject({ url: '/v1/cases', headers: auth(`wrong-${i}`) })).statusCode)
    }
    expect(seen).toEqual([401, 401, 401, 401, 401, 401, 429, 429])
    expect((await a.app.inject({ url: '/v1/cases?limit=1', headers: auth('wrong-again') })).statusCode).toBe(429)
    expect((await b.app.inject({ url: '/v1/cases?limit=1', headers: auth() })).statusCode).toBe(200)
  })

  it('AUTH_FAILURE_MAX=0 turns the throttle off', async () => {
    const gw = await testGateway({ env: { AUTH_FAILURE_MAX: '0' } })
    opened.push(gw)
    for (let i = 0; i < 30; i++) expect((await gw.app.inject({ url: '/v1/cases', headers: auth('nope') })).statusCode).toBe(401)
  })

  describe('behind a reverse proxy', () => {
    const PROXY = '10.0.0.2'
    const GUESSER = '203.0.113.7'
    const OTHER = '198.51.100.9'

    /** a request as the proxy forwards it: from the proxy's address, the client's in X-Forwarded-For */
    const via = async (gw: TestGateway, forwardedFor: string, key: string): Promise<number> => (await gw.app.inject({
      url: '/v1/cases?limit=1', remoteAddress: PROXY, headers: { ...auth(key), 'x-forwarded-for': forwardedFor }
    })).statusCode

    it('TRUST_PROXY names the proxy: 1,000 wrong keys from one client give not one 429 to another client behind it', async () => {
      const gw = await testGateway({ env: { TRUST_PROXY: PROXY, RATE_LIMIT_MAX: '0' } })
      opened.push(gw)
      const guesser: number[] = []
      const other: number[] = []
      for (let i = 0; i < 1000; i++) {
        guesser.push(await via(gw, GUESSER, `guess-${i}`))
        // the other client: a cron job with a rotated-out key (10 failures, under AUTH_FAILURE_MAX) and a valid key
        if (i % 100 === 0) other.push(await via(gw, OTHER, 'rotated-out-key'))
        if (i % 100 === 50) other.push(await via(gw, OTHER, 'reader-secret-key'))
      }
      expect(guesser.slice(0, 20).every(s => s === 401)).toBe(true)
      expect(guesser.slice(20).every(s => s === 429)).toBe(true)
      expect(other).toEqual(Array.from({ length: 20 }, (_, i) => i % 2 === 0 ? 401 : 200))
    })

    it('TRUST_PROXY=1 (one hop): the address the proxy appended counts, not one a client put in front of it', async () => {
      const gw = await testGateway({ env: { TRUST_PROXY: '1', AUTH_FAILURE_MAX: '5' } })
      opened.push(gw)
      const seen: number[] = []
      for (let i = 0; i < 8; i++) seen.push(await via(gw, `192.0.2.${i}, ${GUESSER}`, `guess-${i}`))
      expect(seen).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
      expect(await via(gw, OTHER, 'wrong')).toBe(401)
    })

    it('without TRUST_PROXY, X-Forwarded-For is ignored: every client behind the proxy is the proxy\'s address', async () => {
      const gw = await testGateway({ env: { AUTH_FAILURE_MAX: '5' } })
      opened.push(gw)
      const seen: number[] = []
      for (let i = 0; i < 6; i++) seen.push(await via(gw, `192.0.2.${i}`, `guess-${i}`))
      expect(seen).toEqual([401, 401, 401, 401, 401, 429])
      expect(await via(gw, OTHER, 'wrong')).toBe(429)
      expect(await via(gw, OTHER, 'reader-secret-key')).toBe(200)
    })
  })
})
