/**
 * The SSRF guard with WEBHOOK_ALLOW_PRIVATE off. Only 127.0.0.0/8 ever receives traffic here: every other address
 * of the table is refused inside the connector, before a socket exists.
 */
import type { LookupFunction } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { attempt, webhookAgent } from '../../src/features/webhooks/attempt.js'
import { classifyAddress, refusal } from '../../src/connectors/ssrf.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { startReceiver, type Receiver } from '../support/receiver.js'

let rx: Receiver
let gw: TestGateway
const lookups: string[] = []
/** the test resolver: every name answers 127.0.0.1 (a DNS name an attacker points at loopback) */
const loopbackResolver: LookupFunction = (hostname, options, callback) => {
  lookups.push(hostname)
  const all = (options as { all?: boolean }).all === true
  if (all) (callback as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

beforeAll(async () => {
  rx = await startReceiver()
  gw = await testGateway({
    clock: new ManualClock(Date.now()),
    env: { WEBHOOK_ALLOW_PRIVATE: 'false' },
    appOptions: { webhookLookup: loopbackResolver }
  })
})
afterAll(async () => {
  await gw.close()
  await rx.close()
})

describe('address classes', () => {
  it('classifies forbidden ranges, IPv4 inside IPv6 included, and lets public addresses through', () => {
    const table: Array<[string, string | null]> = [
      ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'],
      ['0.0.0.0', 'unspecified'], ['::', 'unspecified'], ['10.0.0.1', 'private'], ['172.16.5.4', 'private'], ['192.168.1.1', 'private'],
      ['fd12::1', 'private'], ['169.254.169.254', 'metadata'], ['::ffff:169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'],
      ['100.100.100.200', 'metadata'], ['169.254.10.1', 'link-local'], ['fe80::1', 'link-local'], ['100.64.0.1', 'cgnat'],
      ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'], ['64:ff9b::a00:1', 'private'], ['240.0.0.1', 'reserved'],
      ['8.8.8.8', null], ['2606:4700::1111', null], ['::ffff:8.8.8.8', null], ['172.32.0.1', null]
    ]
    expect(table.map(([a]) => [a, classifyAddress(a)])).toEqual(table)
  })

  it('WEBHOOK_ALLOW_PRIVATE lets private ranges through, never metadata, multicast or unspecified', () => {
    expect(['127.0.0.1', '10.0.0.1', '169.254.1.1', '100.64.0.1'].map(a => refusal(a, a, true))).toEqual([null, null, null, null])
    expect(['169.254.169.254', '0.0.0.0', '224.0.0.1'].map(a => refusal(a, a, true)?.addressClass)).toEqual(['metadata', 'unspecified', 'multicast'])
  })
})

describe('connect-time guard (WEBHOOK_ALLOW_PRIVATE=false)', () => {
  it('refuses every forbidden literal before a connection is made, each with its reason', async () => {
    const agent = webhookAgent({ allowPrivate: false, timeoutMs: 2000, maxResponseBytes: 64, connectionsPerOrigin: 1 })
    try {
      const table: Array<[string, string]> = [
        [`http://127.0.0.1:${rx.port}/hook`, 'refused: 127.0.0.1 is a loopback address'],
        [`http://[::1]:${rx.port}/hook`, 'refused: ::1 is a loopback address'],
        [`http://[::ffff:127.0.0.1]:${rx.port}/hook`, 'refused: ::ffff:7f00:1 is a loopback address'],
        ['http://169.254.169.254/latest/meta-data/', 'refused: 169.254.169.254 is a metadata address'],
        ['http://10.0.0.1/hook', 'refused: 10.0.0.1 is a private address'],
        [`http://0.0.0.0:${rx.port}/hook`, 'refused: 0.0.0.0 is an unspecified address']
      ]
      const results = []
      for (const [url] of table) {
        const r = await attempt(agent, url, {}, '{}', { timeoutMs: 2000, maxResponseBytes: 64, now: Date.now })
        results.push([url, r.error])
        expect(r.statusCode).toBeNull()
      }
      expect(results).toEqual(table)
      expect(rx.connections()).toBe(0)
    } finally {
      await agent.close()
    }
  })

  it('refuses a host name whose resolver answer is loopback: recorded as a failed attempt, no connection', async () => {
    const url = `http://receiver.test:${rx.port}/hook`
    const created = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url } })
    expect(created.statusCode).toBe(201) // a name passes registration: only the address it resolves to tells
    const res = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${created.json().id as string}/test`, headers: auth() })
    expect(res.json()).toMatchObject({ outcome: 'failed', statusCode: null, error: 'refused: receiver.test resolves to 127.0.0.1, a loopback address' })
    expect(lookups).toContain('receiver.test')
    expect(rx.connections()).toBe(0)
    const log = await gw.app.inject({ url: `/v1/webhook-endpoints/${created.json().id as string}/deliveries`, headers: auth() })
    expect(log.json().items[0].error).toBe('refused: receiver.test resolves to 127.0.0.1, a loopback address')
  })

  it('registration refuses loopback and private literals with 422 while the guard is on', async () => {
    for (const url of [`http://127.0.0.1:${rx.port}/`, 'http://[::ffff:127.0.0.1]/', 'http://10.0.0.1/', 'http://[fd00:ec2::254]/']) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url } })
      expect([url, res.statusCode, res.json().type]).toEqual([url, 422, 'https://takedown-gateway.dev/problems/webhook-url-refused'])
    }
  })
})
