import { readdirSync, readFileSync } from 'node:fs'
import { dirname, relative } from 'node:path'
import neostandard from 'neostandard'

/**
 * Layering (ADR 0036, the table in layers.json): a file imports its own layer and the layers below it; a vendor folder
 * under connectors/ or simulators/ never imports another vendor's. test/architecture/imports.test.ts checks the same
 * table on the whole import graph (and cycles); this rule names the bad import in the editor. One block per group of
 * files with the same restrictions, because a later block replaces (not merges) the rule options of an earlier one.
 */
const { layers, vendorFolders } = JSON.parse(readFileSync('layers.json', 'utf8'))
const files = readdirSync('src', { recursive: true }).map(f => f.split('\\').join('/')).filter(f => f.endsWith('.ts'))
const entries = layers.flatMap(({ name, paths }, rank) => paths.map(path => ({ name, path, rank })))
const layerOf = file => entries.filter(e => e.path.endsWith('/') ? file.startsWith(e.path) : file === e.path).sort((a, b) => b.path.length - a.path.length)[0]
const vendorOf = file => vendorFolders.map(folder => file.startsWith(folder) ? file.slice(folder.length).split('/') : []).find(rest => rest.length > 1)?.[0]
const escape = s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** the specifier prefix that reaches src/<path> from src/<file> */
const specifier = (file, path) => {
  const rel = relative(dirname(`src/${file}`), `src/${path}`).split('\\').join('/').replace(/\.ts$/, '.js')
  return (rel.startsWith('.') ? rel : `./${rel}`) + (path.endsWith('/') ? '/' : '')
}
const groups = new Map()
for (const file of files) {
  const own = layerOf(file)
  if (own === undefined) continue
  const patterns = entries.filter(e => e.rank < own.rank)
    .map(e => [`^${escape(specifier(file, e.path))}${e.path.endsWith('/') ? '' : '$'}`, `${own.name} imports no ${e.name} (${e.path}): layers run one way (ADR 0036, layers.json)`])
  const vendor = vendorOf(file)
  if (vendor !== undefined) {
    const others = [...new Set(files.map(vendorOf))].filter(v => v !== undefined && v !== vendor)
    for (const folder of vendorFolders) {
      for (const other of others) patterns.push([`^${escape(specifier(file, `${folder}${other}/`))}`, `a vendor folder imports only its own vendor's code (${vendor})`])
    }
  }
  if (patterns.length === 0) continue
  const key = JSON.stringify(patterns)
  groups.set(key, [...(groups.get(key) ?? []), `src/${file}`])
}
const rule = patterns => ({ 'no-restricted-imports': ['error', { patterns: patterns.map(([regex, message]) => ({ regex, message })) }] })
const layered = [...groups].map(([key, members]) => ({ files: members, rules: rule(JSON.parse(key)) }))

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', 'bench/results/**', 'test-artifacts/**', 'openapi/client/schema.d.ts'] }),
  ...layered
]
