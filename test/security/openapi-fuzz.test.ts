/**
 * A seeded fuzz pass generated from openapi/openapi.json: every operation, with path, query, header and body values
 * drawn from the document (enums, examples, formats) and from hostile mutations of them. 2,400 requests; no answer
 * may be a 500, and every error is a problem with a request id. Bounded: inject, one gateway, fixed run count.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { auth } from '../support/app.js'
import { securityGateway } from './support.js'

const s = securityGateway({ env: { RATE_LIMIT_MAX: '0', AUTH_FAILURE_MAX: '0' } })

interface Schema { type?: string | string[], minimum?: number, maximum?: number, enum?: unknown[], format?: string, examples?: unknown[], items?: Schema, properties?: Record<string, Schema>, $ref?: string }
interface Param { name: string, in: 'path' | 'query' | 'header', schema: Schema }
interface Operation { method: string, path: string, params: Param[], body: { contentType: string, example: unknown } | null }

const doc = JSON.parse(readFileSync('openapi/openapi.json', 'utf8'))
const resolve = (x: Schema): Schema => x.$ref === undefined ? x : doc.components.schemas[x.$ref.split('/').pop() as string]

const operations: Operation[] = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
  // a Server-Sent Events stream never ends, so inject() cannot wait for it: the stream has its own tests (test/events)
  Object.entries(ops).filter(([, o]) => typeof o === 'object' && o.responses !== undefined && o.responses['200']?.content?.['text/event-stream'] === undefined).map(([method, o]) => {
    const json = o.requestBody?.content?.['application/json']
    const schema = json === undefined ? null : resolve(json.schema)
    return {
      method: method.toUpperCase(),
      path,
      params: (o.parameters ?? []).map((p: Param) => ({ ...p, schema: resolve(p.schema) })),
      body: json === undefined ? null : { contentType: 'application/json', example: json.example ?? json.examples?.[Object.keys(json.examples ?? {})[0] ?? '']?.value ?? schema?.examples?.[0] ?? {} }
    }
  }))

const HOSTILE = ['', ' ', '..', '%2e%2e', '%252F', '%00', '%0D%0A', '%C3%BC', '%', '%zz', 'Infinity', '-1', '1e400', 'null', '[]', '{}', '__proto__',
  'constructor', "'; DROP TABLE x;--", '<script>', '9'.repeat(30), 'a'.repeat(600), '2026-12-31T23:59:60Z', '0000-00-00T00:00:00Z', 'true', 'ü']
const enc = (v: string): string => /%/.test(v) ? v : encodeURIComponent(v)
const hostile = fc.constantFrom(...HOSTILE).map(enc)
const DATE_HOSTILE = ['2026-12-31T23:59:60Z', '2026-06-30T23:59:60+02:00', '2026-12-31T23:59:60.999Z', '2026-02-30T00:00:00Z', '+275760-09-13T00:00:00Z']
const INT_HOSTILE = ['Infinity', '-Infinity', '1e400', '0x10', '2.0', '1e2', 'NaN', '99999999999999999999']

/** a hostile value aimed at the parameter's type, or a generic one */
function hostileFor (schema: Schema): fc.Arbitrary<string> {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  if (schema.format === 'date-time') return fc.oneof(fc.constantFrom(...DATE_HOSTILE).map(enc), hostile)
  if (type === 'integer' || type === 'number') return fc.oneof(fc.constantFrom(...INT_HOSTILE).map(enc), hostile)
  return hostile
}

/** a query or path value from the schema (enums, examples, formats); one per request is then swapped for a hostile one */
function value (schema: Schema, name: string): fc.Arbitrary<string> {
  const own: Array<fc.Arbitrary<string>> = []
  if (schema.enum !== undefined) own.push(fc.constantFrom(...schema.enum.map(String)))
  if (schema.examples !== undefined && schema.examples.length > 0) own.push(fc.constantFrom(...schema.examples.map(e => encodeURIComponent(String(e)))))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  if (type === 'integer' || type === 'number') own.push(fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 }).map(String))
  if (type === 'boolean') own.push(fc.constantFrom('true', 'false', '1', 'yes'))
  if (schema.format === 'date-time') own.push(fc.date({ min: new Date('1999-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map(d => encodeURIComponent(d.toISOString())))
  if (name === 'id') own.push(fc.constantFrom('phishfort:054zKkjCnR1I3B3U812z', 'bforeai:attack:70000', 'cloudflare:domain-match:101%3Aacme-login.example', 'logo:201', 'domain:101'))
  if (own.length === 0) own.push(fc.string({ maxLength: 12 }).map(encodeURIComponent))
  return fc.oneof(...own)
}

/** a JSON body: the document's example, the example with one field replaced by arbitrary JSON, or arbitrary JSON */
function body (example: unknown): fc.Arbitrary<string> {
  const mutated = fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 4 })).map(([n, v]) => {
    if (typeof example !== 'object' || example === null || Array.isArray(example)) return JSON.stringify(v)
    const keys = Object.keys(example)
    const copy: Record<string, unknown> = { ...example }
    copy[keys.length === 0 ? 'x' : keys[n % keys.length] as string] = v
    return JSON.stringify(copy)
  })
  return fc.oneof({ weight: 2, arbitrary: fc.constant(JSON.stringify(example)) }, { weight: 4, arbitrary: mutated },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(v => JSON.stringify(v)) }, { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '{"a":1}{"b":2}') })
}

/** `arb` with weight `yes`, undefined with weight `no` */
function sometimes<T> (arb: fc.Arbitrary<T>, yes: number, no: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: yes, arbitrary: arb }, { weight: no, arbitrary: fc.constant(undefined) })
}

function request (op: Operation): fc.Arbitrary<{ url: string, method: string, payload?: string, headers: Record<string, string> }> {
  const query = op.params.filter(p => p.in === 'query')
  const pathParams = op.params.filter(p => p.in === 'path')
  return fc.record({
    path: fc.tuple(...pathParams.map(p => value(p.schema, p.name))),
    query: fc.tuple(...query.map(p => sometimes(value(p.schema, p.name), 1, 1))),
    extra: sometimes(fc.tuple(fc.constantFrom('limit', 'cursor', 'x', 'status', 'provider'), hostile), 1, 4),
    // which parameter (path first, then query) gets a hostile value instead, if any
    swap: sometimes([...pathParams, ...query].length === 0
      ? fc.constant(null)
      : fc.constantFrom(...[...pathParams, ...query].map((p, i) => [i, p] as const)).chain(([i, p]) => fc.tuple(fc.constant(i), hostileFor(p.schema))), 2, 1),
    idem: sometimes(fc.string({ minLength: 1, maxLength: 20 }).filter(k => /^[\x21-\x7e]+$/.test(k)), 1, 2),
    body: op.body === null ? fc.constant(undefined) : body(op.body.example)
  }).map(r => {
    if (r.swap !== undefined && r.swap !== null) {
      const [at, v] = r.swap
      if (at < pathParams.length) r.path[at] = v
      else r.query[at - pathParams.length] = v
    }
    let path = op.path
    pathParams.forEach((p, i) => { path = path.replace(`{${p.name}}`, r.path[i] as string) })
    const qs = query.flatMap((p, i) => r.query[i] === undefined ? [] : [`${p.name}=${r.query[i] as string}`])
    if (r.extra !== undefined) qs.push(`${r.extra[0]}=${r.extra[1]}`)
    const headers: Record<string, string> = { ...auth() }
    if (r.idem !== undefined && op.method === 'POST') headers['idempotency-key'] = r.idem
    if (r.body !== undefined) headers['content-type'] = 'application/json'
    return { url: path + (qs.length > 0 ? '?' + qs.join('&') : ''), method: op.method, headers, ...(r.body === undefined ? {} : { payload: r.body }) }
  })
}

describe('OpenAPI-driven fuzz pass', () => {
  it(`${operations.length} operations x 120 seeded requests: no 500, every error a problem with a request id`, { timeout: 120_000 }, async () => {
    expect(operations.length).toBeGreaterThanOrEqual(20)
    const statuses = new Map<number, number>()
    for (const [i, op] of operations.entries()) {
      await fc.assert(fc.asyncProperty(request(op), async (req) => {
        const res = await s.gw.app.inject({ url: req.url, method: req.method as 'GET', headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) })
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        const what = `${req.method} ${req.url} ${req.payload?.slice(0, 200) ?? ''} → ${res.statusCode} ${res.body.slice(0, 300)}`
        expect(res.statusCode, what).not.toBe(500)
        if (res.statusCode >= 400) {
          expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/)
          expect(res.json().requestId, what).toBe(res.headers['x-request-id'])
        }
      }), { numRuns: 120, seed: 19_000 + i, endOnFailure: true })
    }
    const total = [...statuses.values()].reduce((a, b) => a + b, 0)
    expect(total).toBe(operations.length * 120)
    // the pass reached handlers, not only validation: some requests succeeded
    expect([...statuses.entries()].filter(([code]) => code < 300).reduce((a, [, n]) => a + n, 0)).toBeGreaterThan(100)
  })
})
