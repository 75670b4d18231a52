/**
 * What each provider module declares for direct vendor calls (`direct`: the bench's baselines call the vendors with it)
 * is what its simulator answers: the auth headers authenticate, the detail path reads the case the connector listed,
 * and the list answer's items and creation field are where the module says.
 */
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { ProviderModule } from '../../src/connectors/provider-module.js'
import { PROVIDERS } from '../../src/providers/registry.js'
import { connectorHarness, testCtx, type ConnectorHarness } from '../support/connectors.js'

const declaring = PROVIDERS.filter((m): m is ProviderModule & { id: typeof m.id, direct: NonNullable<ProviderModule['direct']> } => m.direct !== undefined)
let h: ConnectorHarness | null = null
afterEach(async () => { await h?.close(); h = null })

describe('direct vendor calls declared by the provider modules', () => {
  it('at least the providers with a vendor listing declare them', () => {
    expect(declaring.length).toBeGreaterThan(0)
  })

  it.each(declaring.map(m => [m.id, m] as const))('%s: list items, creation field, detail path and auth headers', async (_id, m) => {
    h = await connectorHarness(m.id, { count: 5 })
    const page = await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())
    expect(page.items.length).toBeGreaterThan(0)
    // the connector's own list request, replayed with the declared headers
    const logged = await (await request(`${h.running.origin}/__sim/requests`)).body.json() as Array<{ method: string, url: string, route: string }>
    const list = logged.filter(r => r.method === 'GET').sort((a, b) => a.route.split(':').length - b.route.split(':').length)[0]!
    const credential = m.direct.accessToken === undefined ? m.sandbox.credential : await m.direct.accessToken(m.sandbox.credential, h.running.baseUrl, m.sandbox.options)
    const listed = await request(h.running.origin + list.url, { headers: m.direct.authHeaders(credential) })
    expect(listed.statusCode).toBe(200)
    const items = m.direct.listItems(await listed.body.json())
    expect(items.map(i => `${m.id}:${String(i.id)}`)).toEqual(expect.arrayContaining(page.items.map(c => c.id)))
    for (const i of items) expect(Number.isNaN(Date.parse(String(i[m.direct.createdField]).replace(' UTC', 'Z'))), m.direct.createdField).toBe(false)

    const unauthenticated = await request(h.running.origin + list.url)
    expect(unauthenticated.statusCode).toBeGreaterThanOrEqual(400)
    await unauthenticated.body.dump()

    if (m.direct.detailPath !== undefined) {
      const nativeId = page.items[0]!.id.slice(m.id.length + 1)
      const detail = await request(h.running.baseUrl + m.direct.detailPath(nativeId, m.sandbox.options), { headers: m.direct.authHeaders(credential) })
      expect(detail.statusCode).toBe(200)
      // the case object of the answer is the listed case, with its creation time where the module says
      const item = (m.direct.detailItem ?? (b => b as Record<string, unknown>))(await detail.body.json())
      expect(String(item.id)).toBe(nativeId)
      expect(Number.isNaN(Date.parse(String(item[m.direct.createdField]).replace(' UTC', 'Z')))).toBe(false)
    }
  })
})
