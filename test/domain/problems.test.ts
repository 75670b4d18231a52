import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConnectorError } from '../../src/connectors/connector.js'
import { fromConnectorError, PROBLEMS, problemType } from '../../src/domain/problems.js'

describe('the problem catalogue', () => {
  it('is documented in openapi/README.md row for row, and nothing else is', () => {
    const doc = readFileSync(new URL('../../openapi/README.md', import.meta.url), 'utf8')
    const rows = [...doc.matchAll(/^\| `(GW_ERR_\w+)` \| (\d+) \| `([\w-]+)` \| (.+) \|$/gm)].map(m => [m[1], Number(m[2]), m[3], m[4]])
    expect(rows).toEqual(Object.entries(PROBLEMS).map(([code, p]) => [code, p.status, p.slug, p.title]))
  })

  it('has one type URI per code', () => {
    const types = Object.keys(PROBLEMS).map(c => problemType(c as keyof typeof PROBLEMS))
    expect(new Set(types).size).toBe(types.length)
  })

  it('maps vendor failures to 502/503/504 with the vendor named', () => {
    const cases: Array<[ConnectorError, number]> = [
      [new ConnectorError('phishfort', 'unavailable', 'HTTP 500', { upstreamStatus: 500 }), 502],
      [new ConnectorError('phishfort', 'unavailable', 'HTTP 503', { upstreamStatus: 503 }), 503],
      [new ConnectorError('phishfort', 'unavailable', 'connection refused'), 503],
      [new ConnectorError('bforeai', 'rate_limited', 'HTTP 429', { upstreamStatus: 429, retryAfter: 30 }), 503],
      [new ConnectorError('cloudflare', 'timeout', 'no answer'), 504],
      [new ConnectorError('cloudflare', 'protocol', 'bad JSON', { upstreamStatus: 200 }), 502],
      [new ConnectorError('cloudflare', 'auth', 'Authentication error', { upstreamStatus: 401 }), 502],
      [new ConnectorError('bforeai', 'rejected', 'invalid', { upstreamStatus: 422 }), 422],
      [new ConnectorError('bforeai', 'not_found', 'gone', { upstreamStatus: 404 }), 404]
    ]
    for (const [err, status] of cases) {
      const gw = fromConnectorError(err)
      expect([err.kind, gw.statusCode]).toEqual([err.kind, status])
      expect(gw.extras.provider).toBe(err.provider)
      expect(gw.message).toContain(err.provider)
    }
    expect(fromConnectorError(cases[3]![0]).extras.retryAfter).toBe(30)
  })
})
