/**
 * The files derived from the provider registry and the configuration table are as `npm run derive` writes them: the
 * id vocabulary (schemas/provider-ids.ts), the README configuration table, docker/live.env.example and the package
 * description. A provider added to the registry without regenerating them fails here (and the typecheck).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { derivedFiles, GATEWAY_SUMMARY } from '../../src/settings/derived.js'
import { PROVIDERS } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'

describe('files derived from the registry', () => {
  const files = derivedFiles(file => readFileSync(file, 'utf8'))

  it.each(files.map(f => [f.file, f]))('%s is up to date (npm run derive)', (_file, f) => {
    expect(f.current).toBe(f.wanted)
  })

  it('the id vocabulary is the registry\'s, in its order, and imports nothing', () => {
    expect([...PROVIDER_IDS]).toEqual(PROVIDERS.map(m => m.id))
    expect(readFileSync('src/schemas/provider-ids.ts', 'utf8')).not.toMatch(/^import /m)
  })

  it('the package description names every registered provider', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { description: string }
    expect(pkg.description).toBe(GATEWAY_SUMMARY)
    for (const m of PROVIDERS) expect(pkg.description).toContain(m.name)
  })
})
