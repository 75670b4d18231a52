/**
 * Crafted input that used to end in 500s or slip past bounds: leap seconds, deep JSON, broken multipart, cursors
 * with multi-byte signatures or a valid signature over a malformed state, non-decimal limits. Each is a 400 problem
 * and nothing reaches a vendor.
 */
import { describe, expect, it } from 'vitest'
import { CursorCodec } from '../../src/domain/cursor.js'
import { CLOUDFLARE_REPORT_OPTIONS, TEST_SECRET } from '../support/app.js'
import { rawRequest } from '../support/raw-http.js'
import { expectProblem, JSON_CT, KEY, securityGateway, vendorCalls } from './support.js'

const s = securityGateway()

const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

describe('crafted input', () => {
  it('leap-second and other unrepresentable timestamps in since/until are 400 problems', async () => {
    for (const path of ['/v1/cases?until=2026-12-31T23:59:60Z', '/v1/cases?since=2026-12-31T23:59:60Z', '/v1/cases?since=2026-06-30T23:59:60%2B02:00',
      '/v1/detections?until=2026-12-31T23:59:60Z', '/v1/detections?since=2026-12-31T23:59:60.5Z']) {
      const body = expectProblem(await rawRequest(s.port, { path, headers: [KEY] }), 400, path)
      expect(body.errors[0].path, path).toMatch(/^\/(since|until)$/)
    }
    expect(vendorCalls(s.gw)).toEqual([])
  })

  it('JSON nested deeper than the limit is a 400 at parse time on every JSON route, with or without Idempotency-Key', async () => {
    const deep = nested(10_000)
    const create = `{"provider":"cloudflare","target":{"type":"url","value":"https://deep.example/"},"providerOptions":${deep}}`
    const requests: Array<[string, string, Array<[string, string]>]> = [
      ['/v1/cases', create, []],
      ['/v1/cases', create, [['idempotency-key', 'deep-1']]],
      ['/v1/cases/cloudflare:abc123/appeal', `{"type":"counter_notice","data":${deep}}`, [['idempotency-key', 'deep-2']]],
      ['/v1/detections/bforeai:attack:70000/takedown', `{"providerOptions":${deep}}`, []],
      ['/v1/cases', `[${'['.repeat(50_000)}`, []]
    ]
    for (const [path, body, extra] of requests) {
      const problem = expectProblem(await rawRequest(s.port, { method: 'POST', path, headers: [KEY, JSON_CT, ...extra], body }), 400, path)
      expect(problem.detail, path).toMatch(/more than 32 levels/)
    }
    // at the limit it parses (and fails on its content instead)
    const ok = await rawRequest(s.port, { method: 'POST', path: '/v1/cases', headers: [KEY, JSON_CT], body: `{"provider":"cloudflare","target":{"type":"url","value":"https://deep.example/"},"providerOptions":${nested(30)}}` })
    expect(ok.json().detail).not.toMatch(/levels/)
    expect(vendorCalls(s.gw).filter(c => c.method !== 'GET')).toEqual([])
  })

  it('malformed multipart bodies are 400 problems and create nothing', async () => {
    const b = 'XyZb0undary'
    const payload = JSON.stringify({ provider: 'phishfort', target: { type: 'url', value: 'https://multipart.example/' } })
    const part = `--${b}\r\ncontent-disposition: form-data; name="payload"\r\n\r\n${payload}\r\n`
    const bodies: Array<[string, string, string]> = [
      ['no boundary', 'multipart/form-data', part + `--${b}--\r\n`],
      ['truncated part', `multipart/form-data; boundary=${b}`, `--${b}\r\ncontent-disposition: form-data; name="payload"\r\n\r\n{"provid`],
      ['garbage', `multipart/form-data; boundary=${b}`, '\u0000\u0001garbage\r\n\r\n--nope'],
      ['no closing boundary', `multipart/form-data; boundary=${b}`, part],
      ['truncated file', `multipart/form-data; boundary=${b}`, part + `--${b}\r\ncontent-disposition: form-data; name="attachments"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n\u0089PNG`]
    ]
    for (const path of ['/v1/cases', '/v1/cases/phishfort:054zKkjCnR1I3B3U812z/attachments']) {
      for (const [what, ct, body] of bodies) {
        const res = await rawRequest(s.port, { method: 'POST', path, headers: [KEY, ['content-type', ct]], body })
        expectProblem(res, 400, `${path} ${what}`)
      }
    }
    expect(vendorCalls(s.gw).filter(c => c.method !== 'GET')).toEqual([])
  })

  it('cursors with a multi-byte signature or a validly signed malformed state are 400 problems', async () => {
    const codec = new CursorCodec(TEST_SECRET)
    const signed = (state: unknown): string => codec.encode(state as never)
    const cursors = [
      'eyJ2IjoxfQ.' + 'é'.repeat(43),
      'x.' + '\u{1F600}'.repeat(22),
      signed(null), signed(42), signed([]), signed({ v: 1 }), signed({ v: 1, f: 7, k: null, p: {} }),
      signed({ v: 1, f: 'x', k: 'last', p: {} }), signed({ v: 1, f: 'x', k: null, p: { bforeai: null } }),
      signed({ v: 1, f: 'x', k: null, p: { bforeai: { t: 5, s: 'big', d: 'no' } } }), signed({ v: 2 })
    ]
    for (const cursor of cursors) {
      for (const route of ['/v1/cases', '/v1/detections']) {
        const path = `${route}?cursor=${encodeURIComponent(cursor)}`
        const body = expectProblem(await rawRequest(s.port, { path, headers: [KEY] }), 400, path)
        expect(body.code, path).toBe('GW_ERR_BAD_CURSOR')
      }
    }
    expect(vendorCalls(s.gw)).toEqual([])
  })

  it('limit takes decimal integers within bounds only, on every route that takes one', async () => {
    for (const route of ['/v1/cases', '/v1/detections']) {
      for (const limit of ['Infinity', '-Infinity', '1e400', '1e2', '0x10', '2.0', '9'.repeat(40), '101', '0', '-1', '', ' 5', 'NaN']) {
        const path = `${route}?limit=${encodeURIComponent(limit)}`
        const body = expectProblem(await rawRequest(s.port, { path, headers: [KEY] }), 400, path)
        expect(body.errors.map((e: { path: string }) => e.path), path).toEqual(['/limit'])
      }
      const ok = await rawRequest(s.port, { path: `${route}?limit=100`, headers: [KEY] })
      expect(ok.status).toBe(200)
      expect(ok.json().items.length).toBeLessThanOrEqual(100)
    }
  })

  it('a well-formed create still works through the same parsers', async () => {
    const body = JSON.stringify({ provider: 'cloudflare', target: { type: 'url', value: 'https://crafted-ok.example/login' }, providerOptions: CLOUDFLARE_REPORT_OPTIONS })
    const res = await rawRequest(s.port, { method: 'POST', path: '/v1/cases', headers: [KEY, JSON_CT, ['idempotency-key', 'ok-1']], body })
    expect(res.status).toBe(201)
    expect(vendorCalls(s.gw).filter(c => c.method === 'POST').map(c => c.url)).toEqual(['/client/v4/accounts/023e105f4ecef8ad9ca31a8372d0c353/abuse-reports/abuse_phishing'])
  })
})
