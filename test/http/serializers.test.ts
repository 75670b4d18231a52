import fastJsonStringify from 'fast-json-stringify'
import { describe, expect, it } from 'vitest'
import { compiledOnFirstUse } from '../../src/http/server.js'
import { CasePageSchema, CaseSchema } from '../../src/schemas/case.js'
import { CASE_EXAMPLE } from '../../src/schemas/examples.js'
import { NOT_CHECKED, VERIFICATION_EXAMPLE } from '../../src/schemas/verification.js'

describe('response serializers compiled on first use', () => {
  const schema: Parameters<typeof fastJsonStringify>[0] = {
    type: 'object',
    properties: { id: { type: 'string' }, n: { type: 'integer' }, at: { type: 'string', format: 'date-time' } },
    required: ['id']
  }

  it('write what the eagerly compiled serializer writes, every call', () => {
    const eager = fastJsonStringify(schema)
    const lazy = compiledOnFirstUse(schema)
    const values = [{ id: 'a', n: 1, extra: 'dropped' }, { id: 'b', n: 2.7, at: '2026-01-02T03:04:05.000Z' }, { id: 'c' }]
    for (const v of values) expect(lazy(v)).toBe(eager(v))
  })

  it('do not compile when declared: a schema that cannot compile fails on the first response, not before', () => {
    const broken = { $ref: '#/definitions/missing' }
    expect(() => fastJsonStringify(broken)).toThrow()
    const lazy = compiledOnFirstUse(broken)
    expect(() => lazy({})).toThrow()
  })
})

describe('the listed case as the listing serialises it', () => {
  /** paths of the schema where fast-json-stringify would run a validator per value to pick a branch */
  const branching = (schema: unknown, path = ''): string[] => {
    if (schema === null || typeof schema !== 'object') return []
    const s = schema as Record<string, unknown>
    const here = s.anyOf !== undefined || s.oneOf !== undefined ? [path] : []
    const props = (s.properties ?? {}) as Record<string, unknown>
    return [...here, ...Object.entries(props).flatMap(([k, v]) => branching(v, `${path}/${k}`)), ...branching(s.items, `${path}/items`)]
  }

  it('picks no branch by validation on the blocks every case carries (only the optional sla block does)', () => {
    expect(branching(CaseSchema)).toEqual(['/sla'])
  })

  it('writes the verification block as it is, null timestamps and set ones', () => {
    const serialise = fastJsonStringify(CasePageSchema as Parameters<typeof fastJsonStringify>[0])
    const items = [{ ...CASE_EXAMPLE, verification: NOT_CHECKED }, { ...CASE_EXAMPLE, id: 'phishfort:other', verification: VERIFICATION_EXAMPLE }]
    const page = { items, nextCursor: null, partial: false, errors: [] }
    expect(JSON.parse(serialise(page))).toEqual(JSON.parse(JSON.stringify(page)))
  })
})
