/**
 * Case and detection ids cannot reach vendor paths other than the one their route means: each provider declares the
 * shape of its native ids (anything else is a 404 before any vendor call), and vendor paths are built by one helper
 * that makes every value exactly one path segment. Requests go over real loopback HTTP, byte for byte as written.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { pathSegment, UnsafePathSegment, vendorPath } from '../../src/connectors/vendor-path.js'
import { rawRequest, type RawResponse } from '../support/raw-http.js'
import { JSON_CT, KEY, resetVendorLogs, securityGateway, vendorCalls as logged } from './support.js'

/** native parts as they are written into the URL */
const HOSTILE = [
  '..', '.', '%2e%2e', '%2E%2E', '%2e', '.%2e', '%252e%252e', '%252E%252E', '%25252e%25252e', '..%2F..', '%2F', '%252F', '..%252F..',
  'x%2F..%2F..%2Fcancel', 'a%3Fb=1', 'a%253Fb=1', 'a%23frag', 'a%2523frag', '%0D%0AX-Injected:%201', '%250D%250A', '%0A', '%00',
  '%C3%BC', '%E2%80%AE', 'caf\u00e9', '%20', '+', 'a b', '%', '%zz', '%E0%A4%A', '..;', 'x%5C..%5C..', '~', 'a.b',
  'a'.repeat(129), 'a'.repeat(600), '%2F'.repeat(300), '%252e'.repeat(500), '',
  // fixed vendor routes beside the id's own
  'tkd', 'monitor', 'subject', 'statuses', 'attacks', 'cancellation_reasons', 'abuse_phishing'
]

interface IdRoute { method: string, path: (id: string) => string, body?: string, prefixes: string[] }

const CASE_PREFIXES = PROVIDER_IDS.map(p => `${p}:`)
const ROUTES: IdRoute[] = [
  { method: 'GET', path: id => `/v1/cases/${id}`, prefixes: CASE_PREFIXES },
  { method: 'GET', path: id => `/v1/cases/${id}?include=raw`, prefixes: CASE_PREFIXES },
  { method: 'POST', path: id => `/v1/cases/${id}/cancel`, body: '{"reasonId":1,"description":"x"}', prefixes: CASE_PREFIXES },
  { method: 'POST', path: id => `/v1/cases/${id}/comments`, body: '{"comment":"x"}', prefixes: CASE_PREFIXES },
  { method: 'POST', path: id => `/v1/cases/${id}/appeal`, body: '{"type":"content_removed"}', prefixes: CASE_PREFIXES },
  { method: 'POST', path: id => `/v1/cases/${id}/attachments`, body: '{}', prefixes: CASE_PREFIXES },
  { method: 'POST', path: id => `/v1/cases/${id}/actions/takedown`, prefixes: CASE_PREFIXES },
  { method: 'GET', path: id => `/v1/detections/${id}`, prefixes: ['bforeai:attack:', 'cloudflare:domain-match:', 'cloudflare:logo-match:'] },
  { method: 'POST', path: id => `/v1/detections/${id}/takedown`, body: '{}', prefixes: ['bforeai:attack:', 'cloudflare:domain-match:', 'cloudflare:logo-match:'] },
  { method: 'DELETE', path: id => `/v1/brand-monitors/${id}`, prefixes: ['domain:', 'logo:'] }
]

const s = securityGateway()
const vendorCalls = (): ReturnType<typeof logged> => logged(s.gw)

async function send (route: IdRoute, id: string): Promise<RawResponse> {
  const headers: Array<[string, string]> = [KEY]
  if (route.body !== undefined) headers.push(JSON_CT)
  return await rawRequest(s.port, { method: route.method, path: route.path(id), headers, ...(route.body === undefined ? {} : { body: route.body }) })
}

function expectProblem (res: RawResponse, what: string): void {
  expect(res.status, what).toBeLessThan(500)
  expect(res.status, what).toBeGreaterThanOrEqual(400)
  expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/)
  const body = res.json()
  expect(typeof body.requestId, what).toBe('string')
  expect(body.status, what).toBe(res.status)
}

describe('hostile native ids', () => {
  it('every route that takes an id answers a problem and calls no vendor for ids outside the provider\'s shape', async () => {
    for (const route of ROUTES) {
      for (const prefix of route.prefixes) {
        for (const native of HOSTILE) {
          if (!hostileFor(prefix, native)) continue
          const what = `${route.method} ${route.path(prefix + native)}`
          const res = await send(route, prefix + native)
          expectProblem(res, what)
          expect([400, 404, 414], what).toContain(res.status)
          expect(vendorCalls(), what).toEqual([])
        }
      }
    }
  })

  it('the reported reproducers are 404 problems naming the id form, with no vendor call', async () => {
    const cases: Array<[string, string]> = [
      ['GET', '/v1/cases/bforeai:..'], ['POST', '/v1/cases/bforeai:../cancel'], ['GET', '/v1/cases/bforeai:.'],
      ['GET', '/v1/cases/bforeai:%2e%2e'], ['GET', '/v1/cases/bforeai:%252e%252e'],
      ['POST', '/v1/cases/phishfort:%252e%252e/actions/takedown'], ['GET', '/v1/cases/cloudflare:..'], ['POST', '/v1/cases/cloudflare:../appeal']
    ]
    for (const [method, path] of cases) {
      const res = await rawRequest(s.port, { method, path, headers: [KEY, JSON_CT], ...(method === 'POST' ? { body: path.endsWith('cancel') ? '{"reasonId":1}' : path.endsWith('appeal') ? '{"type":"content_removed"}' : '{}' } : {}) })
      expect(res.status, path).toBe(404)
      expect(res.json().code, path).toBe('GW_ERR_CASE_NOT_FOUND')
      expect(res.json().detail, path).toMatch(/<provider>:<id>/)
    }
    expect(vendorCalls()).toEqual([])
  })

  it('ids of the declared shape still reach exactly their own vendor path', async () => {
    const listed = await s.gw.app.inject({ method: 'GET', url: '/v1/cases?limit=50', headers: { authorization: KEY[1] } })
    const items = listed.json().items as Array<{ id: string, provider: ProviderId, providerCaseId: string }>
    for (const provider of PROVIDER_IDS) {
      const c = items.find(i => i.provider === provider)
      expect(c, provider).toBeDefined()
      const res = await rawRequest(s.port, { path: `/v1/cases/${c!.id}`, headers: [KEY] })
      expect(res.status, c!.id).toBe(200)
      expect(res.json().id).toBe(c!.id)
    }
    const paths = vendorCalls().map(c => c.url.split('?')[0])
    expect(paths).toEqual(expect.arrayContaining(items.filter(i => i.provider === 'phishfort').slice(0, 1).map(i => `/v1/incident/${i.providerCaseId}`)))
  })

  it('property: generated native ids through every id route give no 5xx and no off-route vendor call', async () => {
    const piece = fc.constantFrom('.', '..', '%2e', '%2E', '%252e', '/', '%2F', '%252F', '?', '%3F', '#', '%23', '%0D%0A', '%00', '%C3%BC',
      '%25', '%', ';', '\\', 'a', 'Z', '0', '7', '_', '-', 'abc', '4711', 'x'.repeat(200))
    const native = fc.array(piece, { minLength: 1, maxLength: 8 }).map(a => a.join(''))
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), native, fc.nat(), async (route, raw, n) => {
      resetVendorLogs(s.gw)
      const prefix = route.prefixes[n % route.prefixes.length] as string
      const res = await send(route, prefix + raw)
      expectProblemOrSuccess(res)
      for (const call of vendorCalls()) expect(intended(call.provider, call.url, raw), `${route.method} ${route.path(prefix + raw)} → ${call.provider} ${call.method} ${call.url}`).toBe(true)
    }), { numRuns: 300, seed: 1919 })
  })
})

/** the fixed-route words are hostile for the provider whose paths hold them (and are merely unknown elsewhere) */
function hostileFor (prefix: string, native: string): boolean {
  const words: Record<string, string[]> = { 'phishfort:': ['tkd', 'monitor', 'subject'], 'bforeai:': ['statuses', 'attacks', 'cancellation_reasons'], 'cloudflare:': ['abuse_phishing'] }
  const all = Object.values(words).flat()
  return !all.includes(native) || (words[prefix] ?? []).includes(native)
}

function expectProblemOrSuccess (res: RawResponse): void {
  expect(res.status).toBeLessThan(500)
  if (res.status >= 400) expectProblem(res, String(res.status))
}

/**
 * The vendor paths an id route may reach: the object the id names (and its sub-resources), or the fixed lists a
 * connector reads around it. The id segment must be the native id as the URL gave it, decoded once, then encoded.
 */
function intended (provider: ProviderId, url: string, raw: string): boolean {
  const path = url.split('?')[0] ?? ''
  let native: string
  try { native = decodeURIComponent(decodeURIComponent(raw)) } catch { native = '' }
  const seg = native === '' ? null : encodeURIComponent(native)
  const id = seg === null ? '(none)' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const acct = `/client/v4/accounts/${PROVIDER_MODULES.cloudflare.sandbox.options.accountId}`
  const allowed: Partial<Record<ProviderId, RegExp>> = {
    bforeai: new RegExp(`^/api/v2/takedown/(?:${id}(?:/cancel)?|statuses|cancellation_reasons|attacks|accept)$`),
    phishfort: new RegExp(`^/v1/incident/${id}(?:/(?:comment|attach|tkd|monitor|safe))?$`),
    cloudflare: new RegExp(`^${acct}/(?:abuse-reports/${id}(?:/mitigations(?:/appeal)?)?|cloudforce-one/v2/brand-protection/(?:domain|logo)/(?:queries|matches)(?:/\\d+)?)$`),
    // Netcraft names a takedown in the query (takedown_id, id), never in the path
    netcraft: /^\/api\/v1\/(?:attacks|notes|escalate|attack-types)\/$/
  }
  const rule = allowed[provider]
  if (rule === undefined) throw new Error(`no vendor path rule for ${provider}: add one here`)
  return rule.test(path)
}

describe('the vendor path helper', () => {
  it('makes every value exactly one segment and refuses dot segments and empty values', () => {
    expect(vendorPath`/v2/takedown/${'a/b?c#d%2e'}/cancel`).toBe('/v2/takedown/a%2Fb%3Fc%23d%252e/cancel')
    expect(pathSegment(4711)).toBe('4711')
    for (const bad of ['.', '..', '']) expect(() => vendorPath`/v2/takedown/${bad}`, JSON.stringify(bad)).toThrow(UnsafePathSegment)
    expect(vendorPath`/x/${'...'}`).toBe('/x/...')
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), s => {
      let out: string
      try { out = pathSegment(s) } catch (err) { return err instanceof UnsafePathSegment && (s === '' || s === '.' || s === '..') }
      const url = new URL(`http://vendor.example/base/${out}/tail`)
      return url.pathname === `/base/${out}/tail` && url.search === '' && url.hash === '' && decodeURIComponent(out) === s
    }), { seed: 19, numRuns: 2000 })
  })
})
