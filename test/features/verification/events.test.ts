/**
 * Verification events in the event log, across two replicas on the suite's Redis (one prefix, one manual clock, one
 * loopback fixture site behind an injected resolver): a takedown confirmed by three spaced down probes, then the page
 * back → `target.verified_down` and `target.reappeared`, each recorded once (both replicas tick every step), in
 * GET /v1/events (also filtered by case and provider), in the case's timeline, and delivered to a webhook endpoint
 * subscribed to the target types. With VERIFY_ON_REAPPEAR=resubmit the re-emergence files exactly one new case through
 * the write path (two in-process replicas tick at once), linked both ways in GET /v1/cases/{id}/checks.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import type { DnsResolver } from '../../../src/features/verification/resolver.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'
import { eventually, startReceiver, type Receiver } from '../../support/receiver.js'

const HOST = 'phish-events.test'
const SECRET_BODY = 'kit-body-marker-e2'
const KEY = Buffer.alloc(32, 7).toString('base64')
let site: Server
let port = 0
let live = true
let rx: Receiver
const replicas: TestGateway[] = []
const clock = new ManualClock(Date.now())

const resolver: DnsResolver = {
  resolve4: async (h) => {
    if (h !== HOST) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
    return ['127.0.0.1']
  },
  resolve6: async () => [],
  resolveCname: async () => { throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' }) }
}

beforeAll(async () => {
  site = createServer((_req, res) => {
    if (live) res.writeHead(200, { 'content-type': 'text/html' }).end(`<title>Acme login</title><form><p>${SECRET_BODY}</p></form>`)
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<title>Not Found</title>')
  })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  port = (site.address() as AddressInfo).port
  const prefix = `t-verify-events-${process.pid}-${Date.now()}:`
  for (let i = 0; i < 2; i++) {
    replicas.push(await testGateway({
      clock,
      store: 'redis',
      redisPrefix: prefix,
      ...(replicas[0] === undefined ? {} : { sandbox: replicas[0].sandbox }),
      env: { VERIFY_ENABLED: 'true', VERIFY_TICK_MS: '3600000', VERIFY_ON_REAPPEAR: 'resubmit', WEBHOOK_ENCRYPTION_KEY: KEY },
      appOptions: { verifyResolver: resolver }
    }))
  }
  rx = await startReceiver()
})
afterAll(async () => {
  for (const gw of replicas.reverse()) await gw.close()
  await rx.close()
  await new Promise(resolve => site.close(resolve))
})

/** both replicas run the monitor's tick at once, as the jobs port would on a busy minute */
async function tickBoth (): Promise<number> {
  const counts = await Promise.all(replicas.map(async gw => await gw.app.verification.monitor.tick()))
  return counts.reduce((a, b) => a + b, 0)
}

describe('target.* events', () => {
  it('are recorded once each across two replicas, in the feed, the timeline and webhooks', async () => {
    const [a, b] = replicas as [TestGateway, TestGateway]
    const ep = await a.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: rx.url, eventTypes: ['target.verified_down', 'target.reappeared'] } })
    expect(ep.statusCode).toBe(201)

    const created = await a.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth(),
      payload: { provider: 'bforeai', target: { type: 'url', value: `http://${HOST}:${port}/login` }, brand: { id: 501 }, comment: 'clone' }
    })
    expect(created.statusCode).toBe(201)
    const id = created.json<{ id: string }>().id
    // case.created reaches the monitor of the replica that recorded it
    expect(await eventually(async () => await b.app.verification.store.get(id) !== null)).toBe(true)

    expect(await tickBoth()).toBe(1) // the baseline: live
    // both replicas hear the vendor's claim; the record changes once
    await Promise.all(replicas.map(async gw => await gw.app.verification.monitor.vendorStatus(id, 'taken_down')))
    live = false
    for (let i = 0; i < 3; i++) {
      expect(await tickBoth()).toBe(1)
      clock.advance(10 * 60_000)
    }
    expect(await a.app.verification.store.get(id)).toMatchObject({ state: 'verified_down' })
    live = true
    clock.advance(60 * 60_000)
    expect(await tickBoth()).toBe(1)
    expect(await b.app.verification.store.get(id)).toMatchObject({ state: 'reappeared' })

    // resubmit: one new case for the target at the same provider, linked both ways
    const checks = async (caseId: string): Promise<{ verification: { relatedCaseIds: string[] } }> =>
      (await b.app.inject({ url: `/v1/cases/${encodeURIComponent(caseId)}/checks`, headers: auth() })).json()
    const related = (await checks(id)).verification.relatedCaseIds
    expect(related).toHaveLength(1)
    const again = related[0]!
    expect(again).not.toBe(id)
    expect((await checks(again)).verification.relatedCaseIds).toEqual([id])
    // the simulated BforeAI still holds the target ("already detected"): the next provider of the routing order took it
    const filed = (await a.app.inject({ url: `/v1/cases/${encodeURIComponent(again)}`, headers: auth() })).json<{ provider: string, target: { value: string } }>()
    expect(filed.provider).not.toBe('bforeai')
    expect(filed.target.value).toBe(`http://${HOST}:${port}/login`)

    const types = 'target.verified_down,target.reappeared,target.disputed,target.stayed_down'
    for (const gw of replicas) {
      const res = await gw.app.inject({ url: `/v1/events?types=${types}`, headers: auth() })
      expect(res.statusCode, res.body).toBe(200)
      const feed = res.json<{ items: Array<Record<string, any>> }>()
      expect(feed.items.map(e => e.type)).toEqual(['target.verified_down', 'target.reappeared'])
      const [down, back] = feed.items as [Record<string, any>, Record<string, any>]
      expect(down).toMatchObject({
        case: null,
        observedVia: 'gateway',
        data: { caseId: id, provider: 'bforeai', state: 'verified_down', providerStatus: 'taken_down', target: { type: 'url' }, relatedCaseIds: [] }
      })
      expect(down.data.verifiedDownAt).toBe(down.data.probedAt)
      expect(back).toMatchObject({ data: { caseId: id, state: 'reappeared', verifiedDownAt: down.data.verifiedDownAt } })
      expect(JSON.stringify(feed)).not.toContain(SECRET_BODY)
    }
    const byCase = (await b.app.inject({ url: `/v1/events?caseId=${encodeURIComponent(id)}&provider=bforeai`, headers: auth() })).json<{ items: Array<{ type: string }> }>()
    // the case's own events (case.created; the resubmit's read of the original may record a case.updated) and its two target events
    expect(byCase.items.map(e => e.type).filter(t => t.startsWith('target.') || t === 'case.created')).toEqual(['case.created', 'target.verified_down', 'target.reappeared'])
    const otherProvider = (await b.app.inject({ url: `/v1/events?types=${types}&provider=phishfort`, headers: auth() })).json<{ items: unknown[] }>()
    expect(otherProvider.items).toEqual([])

    const timeline = await a.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}/timeline`, headers: auth() })
    expect(timeline.statusCode).toBe(200)
    expect(timeline.json<{ items: Array<{ type: string }> }>().items.map(e => e.type).filter(t => t.startsWith('target.') || t === 'case.created'))
      .toEqual(['case.created', 'target.verified_down', 'target.reappeared'])

    expect(await eventually(() => rx.received.length >= 2, 20_000)).toBe(true)
    // the standard-webhooks envelope: `data` is the event
    const delivered = rx.received.map(r => JSON.parse(r.body) as { type: string, data: { type: string, data: { caseId: string } } })
    expect(delivered.map(e => e.type).sort()).toEqual(['target.reappeared', 'target.verified_down'])
    expect(delivered.map(e => e.data.data.caseId)).toEqual([id, id])
  })

  it('a webhook endpoint may subscribe to the target types; an unknown type is a 400 problem', async () => {
    const bad = await replicas[0]!.app.inject({ method: 'GET', url: '/v1/events?types=target.nope', headers: auth() })
    expect(bad.statusCode).toBe(400)
    expect(bad.headers['content-type']).toContain('application/problem+json')
  })
})
