import fastJsonStringify from 'fast-json-stringify'
import { describe, expect, it } from 'vitest'
import { compiledOnFirstUse } from '../../src/http/server.js'

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
