/**
 * Every refusal says what to change: a table of common mistakes, each answered with an RFC 9457
 * problem that carries the request id and a detail naming the fix — the accepted media types, the limit, the one
 * value a repeated key may have, the first reason of a vendor-side validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InjectOptions } from 'fastify'
import { auth, CLOUDFLARE_REPORT_OPTIONS, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway
beforeAll(async () => { gw = await testGateway() })
afterAll(async () => { await gw.close() })

/** A multipart body with `n` small files in `attachments` and a JSON `payload`. */
function multipart (n: number, fileBytes = 10): { payload: Buffer, headers: Record<string, string> } {
  const boundary = '----gw-test-boundary'
  const parts = [`--${boundary}\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${JSON.stringify({ provider: 'phishfort', target: { type: 'email', value: 'billing@acme-support.example' } })}\r\n`]
  for (let i = 0; i < n; i++) {
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="f${i}.png"\r\nContent-Type: image/png\r\n\r\n${'x'.repeat(fileBytes)}\r\n`)
  }
  parts.push(`--${boundary}--\r\n`)
  return { payload: Buffer.from(parts.join('')), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

const json = { 'content-type': 'application/json' }

const CASES: Array<{ name: string, request: InjectOptions, status: number, detail: RegExp }> = [
  {
    name: 'an empty POST',
    request: { method: 'POST', url: '/v1/cases' },
    status: 400,
    detail: /^The request body is invalid: \/ is missing: send a JSON object$/
  },
  {
    name: 'a JSON body that is not an object',
    request: { method: 'POST', url: '/v1/cases', headers: json, payload: '"https://evil.example"' },
    status: 400,
    detail: /^The request body is invalid: \/ must be a JSON object, not a string$/
  },
  {
    name: 'a text/plain body',
    request: { method: 'POST', url: '/v1/cases', headers: { 'content-type': 'text/plain' }, payload: 'https://evil.example' },
    status: 415,
    detail: /^Content-Type text\/plain is not accepted; send application\/json, or multipart\/form-data/
  },
  {
    name: 'an XML body',
    request: { method: 'POST', url: '/v1/cases', headers: { 'content-type': 'application/xml; charset=utf-8' }, payload: '<case/>' },
    status: 415,
    detail: /^Content-Type application\/xml is not accepted; send application\/json/
  },
  {
    name: 'a broken JSON body',
    request: { method: 'POST', url: '/v1/cases', headers: json, payload: '{"target":' },
    status: 400,
    detail: /^The body is not valid JSON; send a JSON object with Content-Type: application\/json$/
  },
  {
    name: 'a JSON body over the limit',
    request: { method: 'POST', url: '/v1/cases', headers: json, payload: JSON.stringify({ comment: 'x'.repeat(1_100_000) }) },
    status: 413,
    detail: /^The JSON body may be at most 1048576 bytes \(1 MiB\); send evidence as multipart\/form-data attachments \(at most 12 files/
  },
  {
    name: 'thirteen attachments',
    request: { method: 'POST', url: '/v1/cases', ...multipart(13) },
    status: 413,
    detail: /^At most 12 files per request/
  },
  {
    name: 'an attachment over 10 MB',
    request: { method: 'POST', url: '/v1/cases', ...multipart(1, 10 * 1024 * 1024 + 1) },
    status: 413,
    // counted while the parts stream in, so the total check fires before the per-file limit
    detail: /^Attachments may total at most 10485760 bytes/
  },
  {
    name: 'a duplicated query key',
    request: { method: 'GET', url: '/v1/cases?limit=2&limit=3' },
    status: 400,
    detail: /^The query string is invalid: \/limit is given 2 times; send it once$/
  },
  {
    name: 'a duplicated string query key',
    request: { method: 'GET', url: '/v1/cases?q=acme&q=bank' },
    status: 400,
    detail: /^The query string is invalid: \/q is given 2 times; send it once$/
  },
  {
    name: 'a Cloudflare report without its required fields',
    request: { method: 'POST', url: '/v1/cases', headers: json, payload: JSON.stringify({ provider: 'cloudflare', target: { type: 'url', value: 'https://evil.example/x' }, providerOptions: { ...CLOUDFLARE_REPORT_OPTIONS, justification: undefined, reporter: { name: 'Acme SOC' } } }) },
    status: 400,
    detail: /^The Cloudflare abuse report is invalid: \/providerOptions\/\S+ .+/
  }
]

describe('common mistakes get a problem that says what to change', () => {
  it.each(CASES)('$name → $status', async ({ request, status, detail }) => {
    const res = await gw.app.inject({ ...request, headers: { ...auth(), ...request.headers } })
    expect(res.statusCode, res.body).toBe(status)
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
    const body = res.json() as { detail: string, requestId: string, title: string }
    expect(body.requestId).toBe(res.headers['x-request-id'])
    expect(body.detail).toMatch(detail)
    expect(body.detail).not.toBe(body.title)
  })

  it('a path parameter problem speaks of the path, not "params"', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/v1/cases/ab', headers: auth() })
    expect(res.statusCode).toBe(400)
    expect(res.json().detail).toBe('The path is invalid: /id must NOT have fewer than 3 characters')
  })
})
