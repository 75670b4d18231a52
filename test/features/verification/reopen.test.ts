/**
 * VERIFY_ON_REAPPEAR=reopen on the real gateway (sandbox mode, a manual clock, a loopback fixture site behind an
 * injected resolver): a re-emergence of a PhishFort case sends PhishFort exactly one comment naming it (read back
 * from the simulator's incident over loopback HTTP), and a re-emergence of a BforeAI case (BforeAI takes no comments)
 * sends BforeAI nothing and does not fail.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import type { DnsResolver } from '../../../src/features/verification/resolver.js'
import { parseCaseId } from '../../../src/domain/case-id.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'
import { eventually } from '../../support/receiver.js'

const HOSTS = ['reopen-pf.test', 'reopen-bf.test']
let site: Server
let port = 0
let live = true
let gw: TestGateway
const clock = new ManualClock(Date.parse('2026-11-02T00:00:00Z'))

const resolver: DnsResolver = {
  resolve4: async (h) => {
    if (!HOSTS.includes(h)) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
    return ['127.0.0.1']
  },
  resolve6: async () => [],
  resolveCname: async () => { throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' }) }
}

beforeAll(async () => {
  site = createServer((_req, res) => {
    if (live) res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Acme login</title><form><p>Sign in to Acme online banking</p></form>')
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<title>Not Found</title>')
  })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  port = (site.address() as AddressInfo).port
  gw = await testGateway({
    clock,
    env: { VERIFY_ENABLED: 'true', VERIFY_TICK_MS: '3600000', VERIFY_ON_REAPPEAR: 'reopen' },
    appOptions: { verifyResolver: resolver }
  })
})
afterAll(async () => {
  await gw.close()
  await new Promise(resolve => site.close(resolve))
})

/** the PhishFort simulator's incident, read over loopback HTTP as a client of its API would */
async function incident (nativeId: string): Promise<{ history: Array<{ message: string }> }> {
  const ep = gw.sandbox.endpoints.phishfort
  const res = await fetch(`${ep.baseUrl}/v1/incident/${encodeURIComponent(nativeId)}`, { headers: { 'x-api-key': ep.credential } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: { history: Array<{ message: string }> } }).data
}

/** POSTs the simulator received so far, by path (its request counters) */
const posts = (provider: 'bforeai' | 'phishfort'): number =>
  [...gw.sandbox.running[provider].sim.stats.counts].filter(([k]) => k.startsWith('POST ')).reduce((n, [, v]) => n + v, 0)

async function create (provider: 'phishfort' | 'bforeai', host: string): Promise<string> {
  const body = provider === 'bforeai'
    ? { provider, target: { type: 'url', value: `http://${host}:${port}/login` }, brand: { id: 501 }, comment: 'clone' }
    : { provider, target: { type: 'url', value: `http://${host}:${port}/login` }, comment: 'clone' }
  const res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: body })
  expect(res.statusCode, res.body).toBe(201)
  const id = res.json<{ id: string }>().id
  expect(await eventually(async () => await gw.app.verification.store.get(id) !== null)).toBe(true)
  return id
}

/** baseline live → the vendor says taken_down → three down probes 10 min apart → verified_down → the page is back an hour later */
async function reemerge (id: string): Promise<void> {
  const { monitor, store } = gw.app.verification
  live = true
  await monitor.probeNow(id)
  await monitor.vendorStatus(id, 'taken_down')
  live = false
  for (let i = 0; i < 3; i++) {
    await monitor.probeNow(id)
    clock.advance(10 * 60_000)
  }
  expect(await store.get(id)).toMatchObject({ state: 'verified_down' })
  live = true
  clock.advance(60 * 60_000)
  // probed directly (not by a tick, which settles its probes): a failing policy would reject here
  await monitor.probeNow(id)
  expect(await store.get(id)).toMatchObject({ state: 'reappeared', reappearances: 1 })
}

describe('VERIFY_ON_REAPPEAR=reopen', () => {
  it('sends a vendor that takes comments exactly one comment naming the re-emergence', async () => {
    const id = await create('phishfort', HOSTS[0]!)
    const native = parseCaseId(id)?.providerCaseId ?? ''
    const commentsOf = async (): Promise<string[]> => (await incident(native)).history.map(h => h.message).filter(m => m.startsWith('Client comment:'))
    expect(await commentsOf()).toEqual([])
    await reemerge(id)
    // still live on the next probes: the same re-emergence, no second comment
    for (let i = 0; i < 2; i++) {
      clock.advance(6 * 3_600_000)
      await gw.app.verification.monitor.probeNow(id)
    }
    const comments = await commentsOf()
    expect(comments).toHaveLength(1)
    expect(comments[0]).toContain(`The target http://${HOSTS[0]}:${port}/login is live again (re-emergence 1)`)
    expect(comments[0]).toContain('Please act on it again')
  })

  it('sends a vendor without comments nothing, and the re-emergence still stands', async () => {
    const id = await create('bforeai', HOSTS[1]!)
    const before = posts('bforeai')
    await reemerge(id)
    expect(posts('bforeai')).toBe(before)
    const checks = await gw.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}/checks`, headers: auth() })
    expect(checks.json<{ verification: { state: string } }>().verification.state).toBe('reappeared')
  })

  it('counts each case\'s first vendor claim once in /metrics, and its verified time to takedown once', async () => {
    const text = (await gw.app.inject({ url: '/metrics' })).body
    for (const provider of ['phishfort', 'bforeai']) {
      expect(text).toContain(`takedown_gateway_verification_vendor_claims_total{provider="${provider}",target_type="url"} 1`)
      expect(text).toContain(`takedown_gateway_verified_time_to_takedown_seconds_count{provider="${provider}",target_type="url"} 1`)
      expect(text).toContain(`takedown_gateway_verification_events_total{type="target.reappeared",provider="${provider}"} 1`)
    }
  })
})
