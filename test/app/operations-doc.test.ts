/**
 * docs/operations.md against the running gateway: its metric-family table names exactly the families GET /metrics
 * exports (type included), and what it says of the operational routes matches the published OpenAPI document.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testGateway, type TestGateway } from '../support/app.js'

const doc = readFileSync('docs/operations.md', 'utf8')
const PREFIX = 'takedown_gateway_'
let gw: TestGateway
let exported: Map<string, string>

beforeAll(async () => {
  gw = await testGateway()
  const text = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
  exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(m => [m[1]!, m[2]!]))
})
afterAll(async () => { await gw?.close() })

describe('docs/operations.md', () => {
  const section = doc.split(/^### Metric families$/m)[1]?.split(/^#{2,3} /m)[0] ?? ''
  const rows = [...section.matchAll(/^\| `([^`]+)`(?:, `([^`]+)`)? \| (\w+) \|/gm)].map(m => ({ names: [m[1]!, m[2]].filter((n): n is string => n !== undefined), type: m[3]! }))

  it('documents every metric family the gateway exports, with its type, and none it does not', () => {
    expect(rows.length).toBeGreaterThan(10)
    const covers = (pattern: string, name: string): boolean => pattern.endsWith('*') ? name.startsWith(PREFIX + pattern.slice(0, -1)) : name === PREFIX + pattern
    for (const [name, type] of exported) {
      const row = rows.find(r => r.names.some(p => covers(p, name)))
      expect(row, `${name} is in the table`).toBeDefined()
      if (row!.type !== 'various') expect(row!.type, name).toBe(type)
    }
    for (const r of rows) for (const p of r.names) expect([...exported.keys()].some(n => covers(p, n)), `${p} is exported`).toBe(true)
  })

  it('says which operational routes the OpenAPI document holds as the document does', async () => {
    const paths = Object.keys((await gw.app.inject('/openapi.json')).json().paths as Record<string, unknown>)
    for (const route of ['/healthz', '/readyz', '/metrics']) {
      if (paths.includes(route)) expect(doc).not.toMatch(new RegExp(`\`${route}\` is not in the OpenAPI document`))
    }
  })
})
