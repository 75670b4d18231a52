/**
 * Every answer is an RFC 9457 problem with a request id, including the router's own refusals (bad percent-encoding,
 * an over-long parameter) and requests Node's HTTP parser refuses before Fastify sees them (raw bytes outside the
 * URL grammar, oversized headers, unknown methods). The router's parameter limit agrees with the OpenAPI maxLength.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { rawRequest } from '../support/raw-http.js'
import { expectProblem, JSON_CT, KEY, securityGateway, vendorCalls } from './support.js'

const s = securityGateway()

describe('framework and client errors', () => {
  it('a table of malformed requests: each answer is a problem with a request id and a detail that says what to change', async () => {
    const table: Array<{ what: string, method?: string, path: string, headers?: Array<[string, string]>, body?: string | Buffer, status: number, detail: RegExp }> = [
      { what: 'raw UTF-8 in the query', path: '/v1/cases?q=\u00fc', status: 400, detail: /percent-encode/ },
      { what: 'raw UTF-8 in the path', path: '/v1/cases/phishfort:\u00fc', status: 400, detail: /percent-encode/ },
      { what: 'broken percent-encoding in the path', path: '/v1/cases/%E0%A4%A', status: 400, detail: /%XX/ },
      { what: 'a 20 KB header', path: '/v1/cases', headers: [['x-padding', 'a'.repeat(20_000)]], status: 431, detail: /headers/ },
      { what: 'an unknown method token', method: 'FROB', path: '/v1/cases', status: 400, detail: /HTTP\/1\.1/ },
      { what: 'DELETE on a case', method: 'DELETE', path: '/v1/cases/phishfort:054zKkjCnR1I3B3U812z', status: 405, detail: /use GET/ },
      { what: 'PUT on the case list', method: 'PUT', path: '/v1/cases', body: '{}', headers: [JSON_CT], status: 405, detail: /use GET, HEAD, POST/ },
      { what: 'an id over the router limit', path: `/v1/detections/cloudflare:domain-match:${'a'.repeat(3100)}`, status: 414, detail: /at most 1024/ },
      { what: 'an unknown path', path: '/v2/cases', status: 404, detail: /under \/v1/ },
      { what: 'an empty JSON body', method: 'POST', path: '/v1/cases', headers: [JSON_CT], body: '', status: 400, detail: /./ },
      { what: 'a text/plain body', method: 'POST', path: '/v1/cases', headers: [['content-type', 'text/plain']], body: 'hello', status: 415, detail: /send application\/json/ },
      { what: 'an unknown media type', method: 'POST', path: '/v1/cases', headers: [['content-type', 'application/x-frob']], body: 'hello', status: 415, detail: /./ },
      { what: 'duplicated query keys', path: '/v1/cases?limit=2&limit=3', status: 400, detail: /limit/ }
    ]
    for (const t of table) {
      const res = await rawRequest(s.port, { method: t.method ?? 'GET', path: t.path, headers: [KEY, ...(t.headers ?? [])], ...(t.body === undefined ? {} : { body: t.body }) })
      const body = expectProblem(res, t.status, t.what)
      expect(body.detail, t.what).toMatch(t.detail)
      expect(res.headers['x-request-id'], t.what).toBe(body.requestId)
      expect(body.type, t.what).toMatch(/^https:\/\/takedown-gateway\.dev\/problems\//)
      if (t.status === 405) expect(res.headers.allow, t.what).toMatch(/GET/)
    }
    expect(vendorCalls(s.gw)).toEqual([])
  })

  it('the router reaches every id the OpenAPI document allows, even fully percent-encoded', async () => {
    const doc = JSON.parse(readFileSync('openapi/openapi.json', 'utf8'))
    const param = doc.paths['/v1/detections/{id}'].get.parameters.find((p: { name: string }) => p.name === 'id')
    const max = param.schema.maxLength as number
    const encodeAll = (v: string): string => [...v].map(c => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')).join('')

    // the longest Cloudflare domain-match id (15-digit query id, 253-character host name), every character encoded
    const host = Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.') + '.e'
    const longest = `123456789012345:${host}`
    const res = await rawRequest(s.port, { path: `/v1/detections/cloudflare:domain-match:${encodeAll(longest)}`, headers: [KEY] })
    // it reached the connector (the simulator has no such query: a 404 problem after a vendor call), not a 414
    expect(expectProblem(res, 404).code).toBe('GW_ERR_NOT_FOUND')
    expect(vendorCalls(s.gw).length).toBeGreaterThan(0)

    // any id within the document's maxLength passes the router; beyond it the schema answers, never Fastify
    const atMax = await rawRequest(s.port, { path: `/v1/detections/${encodeAll('cloudflare:x:'.padEnd(max, 'y'))}`, headers: [KEY] })
    expect(expectProblem(atMax, 404).code).toBe('GW_ERR_NOT_FOUND')
    const overMax = await rawRequest(s.port, { path: `/v1/detections/${'cloudflare:x:'.padEnd(max + 1, 'y')}`, headers: [KEY] })
    expect(expectProblem(overMax, 400).errors[0].path).toBe('/id')
  })
})
