import { readdirSync } from 'node:fs'
import neostandard from 'neostandard'

/**
 * Layering (ADR 0017): routes → services → connectors → domain, one way; the composition root (src/providers) is
 * imported by nobody below it; a vendor folder never imports another vendor's folder. One block per folder, because
 * a later block replaces (not merges) the rule options of an earlier one.
 */
const vendors = readdirSync('src/connectors', { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name)
const rule = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns: patterns.map(([regex, message]) => ({ regex, message })) }] })
const UP = 'imports go routes → services → connectors → domain; the composition root (src/providers) wires them'
const layers = [
  { files: ['src/domain/**/*.ts'], rules: rule(['^\\.\\./(connectors|services|routes|providers|plugins)/', `domain imports nothing from outer layers: ${UP}`]) },
  { files: ['src/connectors/*.ts'], rules: rule(['^\\.\\./(services|routes|providers|plugins)/', `connectors import no services, routes or composition root: ${UP}`]) },
  { files: ['src/services/**/*.ts'], rules: rule(['^\\.\\./(routes|providers)/', `services import no routes or composition root: ${UP}`]) },
  ...vendors.map(v => {
    const others = vendors.filter(o => o !== v).join('|')
    const own = `a vendor folder imports only its own vendor's code (${v})`
    return [
      { files: [`src/connectors/${v}/**/*.ts`], rules: rule(['^\\.\\./\\.\\./(services|routes|providers|plugins)/', `connectors import no services, routes or composition root: ${UP}`], [`^\\.\\./(${others})/|^\\.\\./\\.\\./(connectors|simulators)/(${others})/`, own]) },
      { files: [`src/simulators/${v}/**/*.ts`], rules: rule([`^\\.\\./(${others})/|^\\.\\./\\.\\./(connectors|simulators)/(${others})/`, own]) }
    ]
  }).flat()
]

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', 'bench/results/**', 'test-artifacts/**', 'openapi/client/schema.d.ts'] }),
  ...layers
]
