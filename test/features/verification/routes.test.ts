/**
 * The verification routes on the real gateway (sandbox mode, VERIFY_ENABLED=true): a case created through the API is
 * tracked from its case.created event, POST /v1/cases/{id}/checks probes the loopback fixture through the injected
 * resolver, GET /v1/cases/{id}/checks shows the history newest first without the page.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DnsResolver } from '../../../src/features/verification/resolver.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'

let site: Server
let port = 0
let gw: TestGateway
const SECRET_BODY = 'kit-body-marker-7f3a'

const resolver: DnsResolver = {
  resolve4: async (h) => {
    if (h !== 'phish-route.test') throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
    return ['127.0.0.1']
  },
  resolve6: async () => [],
  resolveCname: async () => { throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' }) }
}

beforeAll(async () => {
  site = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end(`<title>Acme login</title><p>${SECRET_BODY}</p>`) })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  port = (site.address() as AddressInfo).port
  gw = await testGateway({ env: { VERIFY_ENABLED: 'true', VERIFY_TICK_MS: '3600000' }, appOptions: { verifyResolver: resolver } })
})
afterAll(async () => {
  await gw.close()
  await new Promise(resolve => site.close(resolve))
})

describe('GET and POST /v1/cases/{id}/checks', () => {
  it('a created case is tracked, probed on demand, its history served newest first without the page', async () => {
    const created = await gw.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth(),
      payload: { provider: 'bforeai', target: { type: 'url', value: `http://phish-route.test:${port}/login` }, brand: { id: 501 }, comment: 'clone' }
    })
    expect(created.statusCode).toBe(201)
    const id = (created.json<{ id: string }>()).id
    const before = await gw.app.inject({ method: 'GET', url: `/v1/cases/${id}/checks`, headers: auth() })
    expect(before.statusCode).toBe(200)
    expect(before.json()).toMatchObject({ verification: { state: 'not_checked', checks: 0 }, items: [], total: 0, nextOffset: null })

    const probed = await gw.app.inject({ method: 'POST', url: `/v1/cases/${id}/checks`, headers: auth() })
    expect(probed.statusCode).toBe(200)
    expect(probed.json()).toMatchObject({ caseId: id, outcome: 'live', reason: 'http_200', finalStatus: 200, title: 'Acme login' })

    const again = await gw.app.inject({ method: 'POST', url: `/v1/cases/${id}/checks`, headers: auth() })
    expect(again.statusCode).toBe(429)
    expect(again.headers['content-type']).toContain('application/problem+json')

    const after = await gw.app.inject({ method: 'GET', url: `/v1/cases/${id}/checks?limit=1`, headers: auth() })
    expect(after.json()).toMatchObject({ verification: { state: 'live', checks: 1 }, total: 1, nextOffset: null })
    expect(after.body).not.toContain(SECRET_BODY)
    const metrics = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('takedown_gateway_verification_probe_duration_seconds_count{outcome="live"} 1')
  })

  it('the target lookup shows the newest probe of the host\'s cases, and none for a host never probed', async () => {
    const value = `http://phish-route.test:${port}/lookup`
    const created = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'phishfort', target: { type: 'url', value }, allowDuplicate: true } })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ id: string }>().id
    const lookup = async (v: string) => await gw.app.inject({ method: 'GET', url: `/v1/targets/lookup?value=${encodeURIComponent(v)}`, headers: auth() })
    // the host's other case (the first test's) was probed a minute earlier
    gw.clock.advance(60_000)
    const probed = await gw.app.inject({ method: 'POST', url: `/v1/cases/${id}/checks`, headers: auth() })
    expect(probed.statusCode).toBe(200)
    const probe = probed.json<{ at: string }>()
    const res = await lookup(value)
    expect(res.statusCode).toBe(200)
    // the host has two probed cases: the newest probe is this one's
    expect(res.json().openCases.map((c: { id: string }) => c.id)).toContain(id)
    expect(res.json().lastProbe).toEqual({ caseId: id, at: probe.at, outcome: 'live', reason: 'http_200', url: value, finalStatus: 200, title: 'Acme login' })
    expect(res.body).not.toContain(SECRET_BODY)
    expect((await lookup('http://never-probed.test/x')).json().lastProbe).toBeNull()
  })

  it('a case the gateway does not verify is a 404 problem; a read key cannot probe', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/cases/bf_123456/checks', headers: auth() })
    expect(res.statusCode).toBe(404)
    const read = await gw.app.inject({ method: 'POST', url: '/v1/cases/bf_123456/checks', headers: auth('reader-secret-key') })
    expect(read.statusCode).toBe(403)
  })
})
