/**
 * The OpenAPI 3.1 document SOC tooling consumes. Checks the document the gateway serves at /openapi.json:
 * every operation described, every error a Problem, multipart bodies, examples valid against their schemas, and the
 * committed typed client generated from the committed document.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientTarget, generateClientText } from '../../openapi/generate.js'
import { testGateway, type TestGateway } from '../support/app.js'

type Json = Record<string, any>
// ajv-formats is CommonJS: its default export is the plugin function itself
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const
const V1_PROBLEMS = ['400', '401', '403', '429', '500', '503']

let gw: TestGateway
let doc: Json
const operations: Array<{ path: string, method: string, op: Json }> = []

beforeAll(async () => {
  gw = await testGateway()
  const res = await gw.app.inject({ url: '/openapi.json' })
  expect(res.statusCode).toBe(200)
  doc = res.json()
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of METHODS) if (item[method] !== undefined) operations.push({ path, method, op: item[method] })
  }
})
afterAll(async () => { await gw.close() })

/** every [JSON pointer, value] of the document, depth first */
function * walk (value: unknown, pointer = ''): Generator<[string, unknown]> {
  yield [pointer, value]
  if (typeof value !== 'object' || value === null) return
  for (const [k, v] of Object.entries(value)) yield * walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1.0 with null as a type, never `nullable`, and bearer auth', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' })
    const nullable = [...walk(doc)].filter(([p]) => p.endsWith('/nullable')).map(([p]) => p)
    expect(nullable).toEqual([])
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    // a nullable field is a type union
    expect(doc.components.schemas.Case.properties.updatedAt.type).toEqual(['string', 'null'])
  })

  it('describes every operation: unique operationId, summary, description, a declared tag, and security', () => {
    expect(operations.length).toBeGreaterThanOrEqual(21)
    const tags = new Set((doc.tags as Json[]).map(t => t.name))
    const ids = operations.map(o => o.op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`
      expect(op.operationId, where).toMatch(/^[a-zA-Z]+$/)
      expect(op.summary, where).toBeTruthy()
      expect(op.description, where).toBeTruthy()
      expect(op.tags, where).toHaveLength(1)
      expect(tags.has(op.tags[0]), where).toBe(true)
      // vendor webhooks authenticate with the vendor's signature, not a gateway key
      const security = path.startsWith('/v1/inbound/') ? [{ phishfortSignature: [] }] : path.startsWith('/v1/') ? [{ bearerAuth: [] }] : []
      expect(op.security, where).toEqual(security)
      expect(gw.app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), where).toBe(true)
    }
  })

  it('keeps the ops routes under Operations and hides /openapi.json and /docs', () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(doc.paths[path]?.get?.tags, path).toEqual(['Operations'])
    expect(doc.paths['/metrics'].get.responses['200'].content['text/plain']).toBeDefined()
    expect(Object.keys(doc.paths).filter(p => p === '/openapi.json' || p.startsWith('/docs'))).toEqual([])
  })

  it('declares every error as an application/problem+json Problem, incl. 429 (rate limit) and 503 (load shedding) on every /v1 route', () => {
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`
      if (path.startsWith('/v1/')) {
        // no gateway key on vendor webhooks: no 403
        const expected = path.startsWith('/v1/inbound/') ? V1_PROBLEMS.filter(s => s !== '403') : V1_PROBLEMS
        expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(expected))
      }
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        expect(response.description, `${where} ${status}`).toBeTruthy()
        if (Number(status) < 400 || path === '/readyz') continue
        expect(Object.keys(response.content), `${where} ${status}`).toEqual(['application/problem+json'])
        const media = response.content['application/problem+json']
        expect(media.schema, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' })
        const examples = Object.values(media.examples as Record<string, Json>)
        expect(examples.length, `${where} ${status}`).toBeGreaterThan(0)
        for (const e of examples) expect(e.value.status, `${where} ${status}`).toBe(Number(status))
        if (status === '429' || status === '503') expect(response.headers['retry-after'], `${where} ${status}`).toBeDefined()
      }
    }
  })

  it('gives every JSON request and response body a named schema and an example', () => {
    for (const { path, method, op } of operations) {
      const bodies: Array<[string, Json]> = []
      const json = op.requestBody?.content?.['application/json']
      if (json !== undefined) bodies.push(['request', json])
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        const media = response.content?.['application/json']
        if (media !== undefined) bodies.push([status, media])
      }
      for (const [what, media] of bodies) {
        const where = `${method.toUpperCase()} ${path} ${what}`
        expect(media.schema.$ref, where).toMatch(/^#\/components\/schemas\/\w+$/)
        expect(media.example, where).toBeDefined()
      }
    }
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, Json>)) {
      expect(schema.examples?.length, name).toBeGreaterThan(0)
    }
  })

  it('describes the multipart bodies: payload + attachments (12 files, 10 MB), attachments only, and the logo upload', () => {
    const create = doc.paths['/v1/cases'].post.requestBody.content
    expect(Object.keys(create)).toEqual(['application/json', 'multipart/form-data'])
    const form = create['multipart/form-data'].schema
    expect(form.required).toEqual(['payload'])
    expect(form.properties.payload).toMatchObject({ type: 'string', contentMediaType: 'application/json', contentSchema: { $ref: '#/components/schemas/CreateCase' } })
    expect(form.properties.attachments).toMatchObject({
      type: 'array',
      maxItems: 12,
      items: { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' }
    })
    expect(form.properties.attachments.description).toContain('10 MB in all')

    const attach = doc.paths['/v1/cases/{id}/attachments'].post.requestBody.content
    expect(Object.keys(attach)).toEqual(['multipart/form-data'])
    expect(attach['multipart/form-data'].schema.required).toEqual(['attachments'])

    const logo = doc.paths['/v1/brand-monitors'].post.requestBody.content
    expect(Object.keys(logo)).toEqual(['application/json', 'multipart/form-data'])
    expect(logo['multipart/form-data'].schema.properties.image).toMatchObject({ type: 'string', format: 'binary' })
  })

  it('documents a query parameter with a default as optional (Ajv fills it in)', () => {
    const limit = (doc.paths['/v1/cases'].get.parameters as Json[]).find(p => p.name === 'limit')
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { default: 50 } })
  })

  it('has only examples that are valid against their own schemas', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats(ajv)
    ajv.addFormat('binary', true)
    const base = 'https://takedown-gateway.dev/openapi.json'
    ajv.addSchema({ ...doc, $id: base })
    const validate = (schemaPointer: string, value: unknown, where: string): void => {
      const check = ajv.compile({ $ref: `${base}#${schemaPointer}` })
      expect(check(value), `${where}: ${ajv.errorsText(check.errors)}`).toBe(true)
    }

    // the check is not vacuous: a Case without its required fields, or with an unknown status, is refused
    const caseCheck = ajv.compile({ $ref: `${base}#/components/schemas/Case` })
    expect(caseCheck({ id: 'phishfort:x' })).toBe(false)
    expect(caseCheck({ ...doc.components.schemas.Case.examples[0], status: 'done' })).toBe(false)
    expect(caseCheck(doc.components.schemas.Case.examples[0])).toBe(true)

    let checked = 0
    for (const [pointer, node] of walk(doc)) {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) continue
      const n = node as Json
      // schema `examples` (JSON Schema 2020-12): in components and inline schemas
      const isSchema = pointer.startsWith('/components/schemas/') || /\/schema(\/|$)/.test(pointer)
      if (isSchema && Array.isArray(n.examples) && !pointer.endsWith('/properties/examples')) {
        n.examples.forEach((e: unknown, i: number) => { validate(pointer, e, `${pointer}/examples/${i}`); checked++ })
      }
      // media-type, parameter and header examples
      if (!isSchema && n.schema !== undefined) {
        if (n.example !== undefined) { validate(`${pointer}/schema`, n.example, `${pointer}/example`); checked++ }
        for (const [name, e] of Object.entries((n.examples ?? {}) as Record<string, Json>)) {
          validate(`${pointer}/schema`, e.value, `${pointer}/examples/${name}`)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(200)
  })

  it('has a committed typed client that matches the committed document (openapi-typescript)', () => {
    const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')
    expect(readFileSync(clientTarget, 'utf8') === generateClientText(committed), 'openapi/client/schema.d.ts is stale: run `npm run openapi`').toBe(true)
  })
})
