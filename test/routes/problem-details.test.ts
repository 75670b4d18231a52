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

describe('validation problems name what is allowed, once', () => {
  const problem = async (url: string, init: { method?: 'GET' | 'POST', payload?: unknown } = {}): Promise<{ detail: string, errors: Array<{ path: string, message: string }> }> => {
    const res = await gw.app.inject({ method: init.method ?? 'GET', url, headers: { ...auth(), ...(init.payload === undefined ? {} : json) }, ...(init.payload === undefined ? {} : { payload: JSON.stringify(init.payload) }) })
    expect(res.statusCode, res.body).toBe(400)
    return res.json()
  }

  // every enum and anyOf parameter the OpenAPI document declares, refused with one error that names each allowed value
  it('every enumerated parameter of every route', async () => {
    const doc = gw.app.swagger() as { paths: Record<string, Record<string, { parameters?: Array<{ name: string, in: string, schema: { enum?: string[], anyOf?: Array<{ enum?: string[], const?: string }> } }> }>> }
    const sample: Record<string, string> = { id: 'phishfort:abc123', kind: 'statuses', action: 'takedown' }
    let checked = 0
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const param of op.parameters ?? []) {
          const allowed = param.schema.enum ?? param.schema.anyOf?.flatMap(b => b.enum ?? [b.const ?? ''])
          if (allowed === undefined || (param.in !== 'query' && param.in !== 'path')) continue
          const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => name === param.name ? 'xlsx' : path.startsWith('/v1/batches') && name === 'id' ? 'b_aaaaaaaaaaaa' : sample[name] ?? 'x')
          const url = param.in === 'query' ? `${filled}?${param.name}=xlsx` : filled
          const res = await gw.app.inject({ method: method.toUpperCase() as 'GET', url, headers: auth() })
          expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(400)
          const body = res.json() as { detail: string, errors: Array<{ path: string, message: string }> }
          expect(body.errors, url).toHaveLength(1)
          expect(body.errors[0]?.path).toBe(`/${param.name}`)
          for (const value of allowed) expect(body.errors[0]?.message, url).toContain(value)
          expect(body.detail).not.toMatch(/constant|anyOf/)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10)
  })

  it('an export format names csv and ndjson', async () => {
    for (const url of ['/v1/cases/export?format=xlsx', '/v1/events/export?format=xlsx']) {
      const body = await problem(url)
      expect(body.errors).toEqual([{ path: '/format', message: 'must be equal to one of the allowed values: csv, ndjson' }])
      expect(body.detail).toBe('The query string is invalid: /format must be equal to one of the allowed values: csv, ndjson')
    }
  })

  it('a union of objects names its shapes and the reasons of the closest one', async () => {
    const { items } = (await gw.app.inject({ method: 'GET', url: '/v1/cases?provider=cloudflare&limit=1', headers: auth() })).json() as { items: Array<{ id: string }> }
    const body = await problem(`/v1/cases/${items[0]!.id}/appeal`, { method: 'POST', payload: { type: 'counter_notice' } })
    expect(body.errors).toEqual([
      { path: '/data', message: 'must have required property \'data\'' },
      { path: '/', message: 'must be one of these shapes: {appeals} or {type: "content_removed"} or {type: "counter_notice", data}' }
    ])
  })

  it('a union of scalars keeps the reason of the type the value has', async () => {
    const body = await problem('/v1/cases', { method: 'POST', payload: { target: { type: 'url', value: 'https://evil.example/x' }, brand: { id: '' } } })
    expect(body.errors).toEqual([
      { path: '/brand/id', message: 'must NOT have fewer than 1 characters' },
      { path: '/brand/id', message: 'must be one of: integer, string' }
    ])
  })

  it('a date without a time shows an example', async () => {
    const body = await problem('/v1/cases?since=2026-01-01')
    expect(body.errors).toEqual([{ path: '/since', message: 'has no time: send a date, a time and an offset, e.g. 2026-01-01T00:00:00Z' }])
    const other = await problem('/v1/analytics/takedowns?from=yesterday')
    expect(other.detail).toMatch(/e\.g\. 2026-01-01T00:00:00Z/)
  })

  it('status=open points to terminal=false', async () => {
    const body = await problem('/v1/cases?status=open')
    expect(body.detail).toMatch(/for open cases use terminal=false$/)
    expect(body.errors[0]?.message).toMatch(/terminal=false/)
  })
})

describe('a body the operation does not take is a 400', () => {
  const BAD_BODIES = ['1', '"str"', 'true', 'null']
  // path parameters that pass their own schema, so the body is what is judged
  const sample = (name: string, path: string): string => {
    if (name === 'action') return 'takedown'
    if (name !== 'id') return 'x1'
    if (path.startsWith('/v1/batches')) return 'b_aaaaaaaaaaaa'
    if (path.startsWith('/v1/webhook-endpoints')) return 'we_abc123'
    // a case of a provider that can do the write (one that cannot says so before the body is looked at)
    return path.endsWith('/cancel') ? 'bforeai:abc123' : path.endsWith('/appeal') ? 'cloudflare:abc123' : 'phishfort:abc123'
  }

  it('1, "str", true and null on every write route, whatever its body schema', async () => {
    const doc = gw.app.swagger() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> }
    let checked = 0
    for (const [path, ops] of Object.entries(doc.paths)) {
      // PhishFort's deliveries are any JSON, checked by their signature
      if (path === '/v1/inbound/phishfort') continue
      for (const [method, op] of Object.entries(ops)) {
        if (method === 'get') continue
        const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => sample(name, path))
        // attachments only: the refusal names the missing files
        const multipartOnly = op.requestBody !== undefined && op.requestBody.content['application/json'] === undefined
        for (const payload of BAD_BODIES) {
          const res = await gw.app.inject({ method: method.toUpperCase() as 'POST', url, headers: { ...auth(), ...json }, payload })
          expect(res.statusCode, `${method} ${url} ${payload}: ${res.body}`).toBe(400)
          if (!multipartOnly) expect((res.json() as { errors: Array<{ path: string }> }).errors.map(e => e.path), `${method} ${url} ${payload}`).toEqual(['/'])
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4 * 18)
  })

  it('the analytics backfill takes nothing, or {}', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/analytics/backfill', headers: { ...auth(), ...json }, payload: '1' })
    expect(res.json().detail).toBe('POST /v1/analytics/backfill takes no body; send none (or {})')
    for (const payload of [undefined, '', '{}']) {
      const ok = await gw.app.inject({ method: 'POST', url: '/v1/analytics/backfill', headers: { ...auth(), ...(payload === undefined ? {} : json) }, ...(payload === undefined ? {} : { payload }) })
      expect(ok.statusCode, ok.body).toBe(200)
    }
  })

  it('a body of optional fields may be left out: rotate-secret with no body', async () => {
    const created = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: 'https://hooks.example.com/in' } })
    expect(created.statusCode, created.body).toBe(201)
    const doc = gw.app.swagger() as unknown as { paths: Record<string, Record<string, { requestBody: { required: boolean } }>> }
    expect(doc.paths['/v1/webhook-endpoints/{id}/rotate-secret']?.post?.requestBody.required).toBe(false)
    const { id, secret } = created.json() as { id: string, secret: string }
    let previous = secret
    for (const headers of [auth(), { ...auth(), ...json }]) {
      const res = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${id}/rotate-secret`, headers })
      expect(res.statusCode, res.body).toBe(200)
      const rotated = (res.json() as { secret: string }).secret
      expect(rotated).not.toBe(previous)
      previous = rotated
    }
  })
})
