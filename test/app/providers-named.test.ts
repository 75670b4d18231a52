/**
 * Every registered provider is named wherever the gateway introduces itself: the package description, the published
 * OpenAPI description, the README's create examples and its default routing (which must be the code's).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULT_ROUTING } from '../../src/config.js'
import { PROVIDERS } from '../../src/providers/registry.js'

const readme = readFileSync('README.md', 'utf8')
const openapi = JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as { info: { title: string, description: string } }
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { description: string }

describe('every registered provider is named', () => {
  it.each(PROVIDERS.map(m => [m.name, m.id]))('%s: in the package description, the OpenAPI description and the README', (name, id) => {
    expect(pkg.description).toContain(name)
    expect(openapi.info.description).toContain(name)
    const examples = readme.split(/^Create a takedown at each vendor:$/m)[1]?.split(/^```/m)[1] ?? ''
    expect(examples, 'README "Create a takedown at each vendor"').toContain(`"provider":"${id}"`)
  })

  it('the README\'s default routing is the code\'s', () => {
    const text = /\(default: ([^)]*?); override with `ROUTING_RULES`\)/.exec(readme.replace(/\n/g, ' '))?.[1]
    expect(text).toBeDefined()
    const documented: Record<string, string[]> = {}
    for (const rule of text!.split(';')) {
      const [types, providers] = rule.split('→').map(s => s.trim())
      for (const t of types!.split(',')) documented[t.trim()] = providers!.split(',').map(p => p.trim())
    }
    const actual = Object.fromEntries(Object.entries(DEFAULT_ROUTING).filter(([, list]) => list.length > 0))
    expect(documented).toEqual(actual)
  })
})
