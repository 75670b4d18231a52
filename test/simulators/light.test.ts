/** Light mode answers the vendor reads with exactly the bytes normal mode produces, before and after writes and clock moves. */
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { Simulator } from '../../src/simulators/harness.js'
import { createSimulator, SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import { enableLightMode, type LightCache } from '../../src/simulators/light.js'
import type { ProviderId } from '../../src/schemas/provider.js'

const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353'
const DAY = 86_400_000

interface Vendor {
  headers: Record<string, string>
  /** the list page the gateway's connector asks for */
  list: string
  /** the read routes of the first listed case, from the list body */
  reads: (list: any) => string[]
  /** one write that changes what a read answers */
  write?: (list: any) => { method: 'POST', url: string, payload: string, headers: Record<string, string> }
}

/** the simulators with a light mode (src/simulators/light.ts) */
const VENDORS: Partial<Record<ProviderId, Vendor>> = {
  bforeai: {
    headers: { 'x-authorization': SANDBOX_CREDENTIALS.bforeai },
    list: '/v2/takedown/list?page=1&size=50&sort=created&order=descending',
    reads: list => [`/v2/takedown/${String(list.items[0].id)}`, '/v2/takedown/statuses']
  },
  phishfort: {
    headers: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort },
    list: '/v1/incidents?limit=50',
    reads: list => [`/v1/incident/${String(list.data[0].id)}`],
    write: list => ({
      method: 'POST',
      url: `/v1/incident/${String(list.data[0].id)}/comment`,
      payload: JSON.stringify({ comment: 'still up' }),
      headers: { 'content-type': 'application/json' }
    })
  },
  cloudflare: {
    headers: { authorization: `Bearer ${SANDBOX_CREDENTIALS.cloudflare}` },
    list: `/accounts/${ACCOUNT}/abuse-reports?page=1&per_page=50&sort=cdate%2Cdesc`,
    reads: list => {
      const id = String(list.result.reports[0].id)
      return [`/accounts/${ACCOUNT}/abuse-reports/${id}`, `/accounts/${ACCOUNT}/abuse-reports/${id}/mitigations?page=1&per_page=100`]
    }
  },
  netcraft: {
    headers: { authorization: `Bearer ${SANDBOX_CREDENTIALS.netcraft}` },
    list: '/attacks/?region=sandbox-region&sort=id&dir=desc&max_results=52',
    reads: list => [`/attacks/?id=${String(list[0].id)}`, `/notes/?takedown_id=${String(list[0].id)}`],
    write: list => ({
      method: 'POST',
      url: '/notes/',
      payload: new URLSearchParams({ takedown_id: String(list[0].id), text: 'still up' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
  }
}

async function pair (id: ProviderId): Promise<{ clock: ManualClock, normal: Simulator, light: Simulator, cache: LightCache }> {
  const clock = new ManualClock()
  const normal = await createSimulator(id, { clock, seed: 5, count: 80 })
  const light = await createSimulator(id, { clock, seed: 5, count: 80 })
  const cache = enableLightMode(light, { clock })
  return { clock, normal, light, cache }
}

async function get (sim: Simulator, url: string, headers: Record<string, string>): Promise<{ status: number, type: string, body: string }> {
  const res = await sim.app.inject({ method: 'GET', url: sim.basePath + url, headers })
  return { status: res.statusCode, type: String(res.headers['content-type']), body: res.body }
}

/** every route twice on the light simulator (the first rendered, the second from its cache) against once on the normal one */
async function expectSameBytes (s: { normal: Simulator, light: Simulator, cache: LightCache }, urls: string[], headers: Record<string, string>): Promise<void> {
  for (const url of urls) {
    const want = await get(s.normal, url, headers)
    expect(want.status, url).toBe(200)
    const hits = s.cache.hits
    const first = await get(s.light, url, headers)
    expect(s.cache.hits, `${url} rendered, not answered from the cache`).toBe(hits)
    const second = await get(s.light, url, headers)
    expect(s.cache.hits, `${url} answered from the cache`).toBe(hits + 1)
    expect(first, url).toEqual(want)
    expect(second, url).toEqual(want)
  }
}

describe.each(Object.keys(VENDORS) as ProviderId[])('%s simulator in light mode', id => {
  const v = VENDORS[id] as Vendor

  it('answers the list page and the case reads with normal mode\'s bytes, also after the clock moves lifecycles on', async () => {
    const s = await pair(id)
    const list = JSON.parse((await get(s.normal, v.list, v.headers)).body)
    const urls = [v.list, ...v.reads(list)]
    await expectSameBytes(s, urls, v.headers)
    // cases move through their lifecycles with the clock: an entry a second old is rendered anew
    s.clock.advance(999)
    const hits = s.cache.hits
    expect(await get(s.light, v.list, v.headers)).toEqual(await get(s.normal, v.list, v.headers))
    expect(s.cache.hits).toBe(hits + 1)
    s.clock.advance(40 * DAY)
    await expectSameBytes(s, urls, v.headers)
  })

  it('counts every request, still asks for the credential and never caches a refusal', async () => {
    const s = await pair(id)
    await get(s.light, v.list, v.headers)
    const counted = s.light.stats.total()
    expect((await get(s.light, v.list, {})).status).toBe(401)
    expect((await get(s.light, v.list, v.headers)).status).toBe(200)
    expect(s.light.stats.total()).toBe(counted + 2)
  })

  it('does not keep an injected malformed answer once the fault is cleared', async () => {
    const s = await pair(id)
    s.light.faults.add({ malformed: true, times: 1 })
    const bad = await get(s.light, v.list, v.headers)
    expect(() => JSON.parse(bad.body)).toThrow()
    expect(await get(s.light, v.list, v.headers)).toEqual(await get(s.normal, v.list, v.headers))
  })

  if (v.write !== undefined) {
    it('answers a read after a write with the bytes normal mode answers after the same write', async () => {
      const s = await pair(id)
      const list = JSON.parse((await get(s.normal, v.list, v.headers)).body)
      const urls = [v.list, ...v.reads(list)]
      await expectSameBytes(s, urls, v.headers)
      const w = v.write!(list)
      for (const sim of [s.normal, s.light]) {
        const res = await sim.app.inject({ ...w, url: sim.basePath + w.url, headers: { ...v.headers, ...w.headers } })
        expect(res.statusCode).toBe(200)
      }
      const after = await get(s.normal, v.reads(list).at(-1)!, v.headers)
      expect(after.body).toContain('still up')
      await expectSameBytes(s, urls, v.headers)
    })
  }
})
