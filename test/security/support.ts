/** The security suite's gateway: the real app on loopback in front of the simulators, with their request logs. */
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { testGateway, type TestGateway } from '../support/app.js'
import type { RawResponse } from '../support/raw-http.js'
import { expect } from 'vitest'

export const KEY: [string, string] = ['authorization', 'Bearer ops-secret-key']
export const JSON_CT: [string, string] = ['content-type', 'application/json']

export interface SecurityGateway { gw: TestGateway, port: number }

/** Starts one listening gateway for the file; the simulators' logs are cleared before each test. */
export function securityGateway (opts: Parameters<typeof testGateway>[0] = {}): SecurityGateway {
  const state = {} as SecurityGateway
  beforeAll(async () => {
    state.gw = await testGateway(opts)
    await state.gw.app.listen({ port: 0, host: '127.0.0.1' })
    state.port = (state.gw.app.server.address() as { port: number }).port
  })
  afterAll(async () => { await state.gw.close() })
  beforeEach(() => { resetVendorLogs(state.gw) })
  return state
}

export function resetVendorLogs (gw: TestGateway): void {
  for (const p of PROVIDER_IDS) gw.sandbox.running[p].sim.stats.reset()
}

export function vendorCalls (gw: TestGateway): Array<{ provider: ProviderId, method: string, url: string }> {
  return PROVIDER_IDS.flatMap(provider => gw.sandbox.running[provider].sim.stats.log.map(r => ({ provider, method: r.method, url: r.url })))
}

/** An RFC 9457 problem with a request id, of the given status. */
export function expectProblem (res: RawResponse, status: number, what = ''): any {
  expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/)
  const body = res.json()
  expect([res.status, body.status], what).toEqual([status, status])
  expect(body.requestId, what).toMatch(/\S/)
  expect(typeof body.detail, what).toBe('string')
  return body
}
