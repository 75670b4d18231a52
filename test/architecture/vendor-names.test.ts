/**
 * Vendor facts live in the vendor's folders (ADR 0039): no file of src/ outside `connectors/<id>/`, `simulators/<id>/`
 * and the registry names a registered provider, by id or by name, in code or in comments, except the files of the
 * allow-list below, each with the reason it still does. The list is a ratchet: a file that stops naming a vendor must
 * leave it (the test fails on a stale entry), and a file not on it that starts naming one fails.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ProviderModule } from '../../src/connectors/provider-module.js'
import { PROVIDERS as REGISTERED } from '../../src/providers/registry.js'

const PROVIDERS: readonly ProviderModule[] = REGISTERED
const SRC = 'src'

/** what the published OpenAPI document says about particular vendors (descriptions, examples) */
const OPENAPI_TEXT = 'OpenAPI descriptions and examples of the published contract, which documents vendor-specific fields and behaviour'

const ALLOWED: Record<string, string> = {
  // the published contract's words (regenerated into openapi/openapi.json)
  'schemas/case.ts': OPENAPI_TEXT,
  'schemas/create.ts': OPENAPI_TEXT,
  'schemas/sla.ts': OPENAPI_TEXT,
  'schemas/examples.ts': OPENAPI_TEXT,
  'features/brand-protection/routes.ts': OPENAPI_TEXT,
  'features/cases/write-routes.ts': OPENAPI_TEXT,
  'features/cases/read-routes.ts': OPENAPI_TEXT,
  'features/detections/routes.ts': OPENAPI_TEXT,
  'features/reporting/routes.ts': OPENAPI_TEXT,
  'plugins/swagger.ts': OPENAPI_TEXT,
  'plugins/swagger-transform.ts': OPENAPI_TEXT,
  // not yet moved into the vendor's module
  'schemas/detection.ts': 'detection kinds and their id shapes are still vocabulary of the contract, not declared by the modules',
  'features/detections/service.ts': `${OPENAPI_TEXT} (the body schema of turning a detection into a case)`,
  // the sandbox processes
  'simulators/activity.ts': 'sandbox activity: new cases arrive at the simulators of the two vendors that take plain URL reports',
  'simulators/serve.ts': 'the simulator process documents its flags and its ready line by example',
  'simulators/targets/pages.ts': 'the small internet shows the real interstitials a taken-down site hides behind, Cloudflare\'s suspected-phishing page among them (a page, not a provider)'
}

function files (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

const vendorFolder = new RegExp(`^(connectors|simulators)/(${PROVIDERS.map(m => m.id).join('|')})/`)
const exempt = (path: string): boolean => vendorFolder.test(path) || path === 'providers/registry.ts' || path === 'schemas/provider-ids.ts'
const names = new RegExp(`\\b(${PROVIDERS.flatMap(m => [m.id, m.name]).map(n => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'i')

describe('no shared file names a vendor', () => {
  const naming = files(SRC).map(f => relative(SRC, f).replaceAll('\\', '/')).filter(f => !exempt(f) && names.test(readFileSync(join(SRC, f), 'utf8')))

  it('only the files of the allow-list name a registered provider outside its folders and the registry', () => {
    expect(naming.filter(f => ALLOWED[f] === undefined)).toEqual([])
  })

  it('every allow-list entry still names one (a file that stopped leaves the list)', () => {
    expect(Object.keys(ALLOWED).filter(f => !naming.includes(f))).toEqual([])
  })

  it('the check sees a vendor name where one is written', () => {
    expect(names.test(`a comment about ${PROVIDERS[0]!.name}`)).toBe(true)
    expect(names.test(`'${PROVIDERS.at(-1)!.id}:123'`)).toBe(true)
    expect(names.test('a provider-neutral sentence')).toBe(false)
  })

  it('no two providers declare the same store key namespace', () => {
    const all = PROVIDERS.flatMap(m => m.storeNamespaces ?? [])
    expect(new Set(all).size).toBe(all.length)
  })
})
