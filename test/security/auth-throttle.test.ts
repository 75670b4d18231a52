/**
 * Key guessing is throttled per client address: failed authentications count in the store (so replicas share the
 * count), and an address over AUTH_FAILURE_MAX gets 429 problems with Retry-After, whatever key it sends, until its
 * window ends. Unknown keys used to be exempt from the rate limit (401 before it): 60 wrong keys gave 60 x 401.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const opened: TestGateway[] = []
afterAll(async () => { for (const gw of opened.reverse()) await gw.close() })

const vendorTotal = (gw: TestGateway): number => PROVIDER_IDS.reduce((n, p) => n + gw.sandbox.running[p].sim.stats.log.length, 0)

describe('failed-authentication throttle', () => {
  it('60 wrong keys with RATE_LIMIT_MAX=20 and AUTH_FAILURE_MAX=10: 10 x 401 then 429 with Retry-After; the right key waits too, until the window ends', async () => {
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

    // a right key from the blocked address learns nothing either
    expect((await gw.app.inject({ url: '/v1/cases?limit=1', headers: auth() })).statusCode).toBe(429)
    expect(vendorTotal(gw)).toBe(0)

    gw.clock.advance(60_001)
    expect((await gw.app.inject({ url: '/v1/cases?limit=1', headers: auth() })).statusCode).toBe(200)
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
    expect((await b.app.inject({ url: '/v1/cases?limit=1', headers: auth() })).statusCode).toBe(429)
  })

  it('AUTH_FAILURE_MAX=0 turns the throttle off', async () => {
    const gw = await testGateway({ env: { AUTH_FAILURE_MAX: '0' } })
    opened.push(gw)
    for (let i = 0; i < 30; i++) expect((await gw.app.inject({ url: '/v1/cases', headers: auth('nope') })).statusCode).toBe(401)
  })
})
