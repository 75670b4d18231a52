/**
 * The import graph of src/ against layers.json (ADR 0036): no cycle, no import from a lower layer into a higher one,
 * no vendor folder importing another vendor's. Every relative import counts: type-only, re-exports and `import()`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = resolve(import.meta.dirname, '../../src')
const table = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../layers.json'), 'utf8')) as {
  layers: Array<{ name: string, paths: string[] }>
  vendorFolders: string[]
}

type Graph = Map<string, string[]>

/** Every .ts file under src/ (relative, '/'-separated) with the src files it imports. */
function importGraph (root = SRC): Graph {
  const files: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts')) files.push(relative(root, path).split('\\').join('/'))
    }
  }
  walk(root)
  const graph: Graph = new Map()
  for (const file of files.sort()) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    const targets = importedFiles
      .map(i => i.fileName)
      .filter(spec => spec.startsWith('./') || spec.startsWith('../'))
      .map(spec => relative(root, resolve(root, dirname(file), spec.replace(/\.js$/, '.ts'))).split('\\').join('/'))
    graph.set(file, [...new Set(targets)])
  }
  return graph
}

/** The layer of a file: the longest path in the table that names it or a folder above it; rank 0 is the top. */
function layerOf (file: string): { rank: number, name: string, path: string } {
  let best: { rank: number, name: string, path: string } | undefined
  table.layers.forEach(({ name, paths }, rank) => {
    for (const path of paths) {
      const hit = path.endsWith('/') ? file.startsWith(path) : file === path
      if (hit && (best === undefined || path.length > best.path.length)) best = { rank, name, path }
    }
  })
  if (best === undefined) throw new Error(`src/${file} is in no layer of layers.json: add its folder to ADR 0036 and the table`)
  return best
}

function vendorOf (file: string): string | undefined {
  for (const folder of table.vendorFolders) {
    const rest = file.startsWith(folder) ? file.slice(folder.length).split('/') : []
    if (rest.length > 1) return rest[0]
  }
  return undefined
}

/** Imports against the layering, one line each: `src/<file> imports src/<target> (<layer> → <higher layer>)`. */
function violations (graph: Graph): string[] {
  const found: string[] = []
  for (const [file, targets] of graph) {
    const from = layerOf(file)
    const vendor = vendorOf(file)
    for (const target of targets) {
      const to = layerOf(target)
      const other = vendorOf(target)
      if (to.rank < from.rank) found.push(`src/${file} imports src/${target} (${from.name} → ${to.name}, a higher layer)`)
      else if (vendor !== undefined && other !== undefined && other !== vendor) found.push(`src/${file} imports src/${target} (vendor ${vendor} → vendor ${other})`)
    }
  }
  return found
}

/**
 * The same graph between the folders of src/ (and its top-level files): `a/` imports `b/` when any file under a/
 * imports one under b/. Two folders importing each other through different files make no file cycle, yet they are
 * one tangle (and a file given a layer of its own by layers.json can hide it from the layer check).
 */
function folderGraph (graph: Graph): Graph {
  const folder = (file: string): string => file.includes('/') ? `${file.slice(0, file.indexOf('/'))}/` : file
  const folders: Graph = new Map()
  for (const [file, targets] of graph) {
    const from = folder(file)
    const edges = new Set(folders.get(from) ?? [])
    for (const target of targets) if (folder(target) !== from) edges.add(folder(target))
    folders.set(from, [...edges])
  }
  return folders
}

/** Every import cycle, one per strongly connected component, as `a → b → … → a`. */
function cycles (graph: Graph): string[] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (node: string): void => {
    index.set(node, index.size)
    low.set(node, index.get(node)!)
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue
      if (!index.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!))
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component)
    }
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)
  return components.map(component => cyclePath(graph, new Set(component)))
}

/** One concrete cycle inside a component: the shortest path from its first file back to itself. */
function cyclePath (graph: Graph, members: Set<string>): string {
  const start = [...members].sort()[0]
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()!
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue
      if (next === start) {
        const path = [start]
        for (let at: string | undefined = node; at !== undefined && at !== start; at = previous.get(at)) path.splice(1, 0, at)
        return [...path, start].map(f => `src/${f}`).join(' → ')
      }
      if (!previous.has(next)) { previous.set(next, node); queue.push(next) }
    }
  }
  return [...members].map(f => `src/${f}`).join(', ')
}

describe('the import graph of src/', () => {
  const graph = importGraph()

  it('reads the imports of every file, type-only ones and re-exports included', () => {
    expect(graph.get('build-core.ts')).toContain('providers/build.ts')
    expect(graph.get('app.ts')).toContain('config.ts')
  })

  it('places every file in a layer of layers.json', () => {
    for (const file of graph.keys()) expect(() => layerOf(file)).not.toThrow()
  })

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([])
  })

  it('has no cycle between folders', () => {
    expect(cycles(folderGraph(graph))).toEqual([])
  })

  it('has no import against the layering and no vendor folder importing another', () => {
    expect(violations(graph)).toEqual([])
  })

  it('finds a cycle and an upward import when there is one', () => {
    const bad: Graph = new Map([
      ['domain/a.ts', ['routes/r.ts']],
      ['routes/r.ts', ['services/s.ts']],
      ['services/s.ts', ['domain/a.ts']],
      ['connectors/x/i.ts', ['connectors/y/i.ts']],
      ['connectors/y/i.ts', []]
    ])
    expect(cycles(bad)).toEqual(['src/domain/a.ts → src/routes/r.ts → src/services/s.ts → src/domain/a.ts'])
    // no file cycle, but the two folders import each other
    const tangled: Graph = new Map([
      ['settings/table.ts', ['providers/registry.ts']],
      ['providers/registry.ts', []],
      ['providers/derived.ts', ['settings/table.ts']]
    ])
    expect(cycles(tangled)).toEqual([])
    expect(cycles(folderGraph(tangled))).toEqual(['src/providers/ → src/settings/ → src/providers/'])
    expect(violations(bad)).toEqual([
      'src/domain/a.ts imports src/routes/r.ts (domain → http, a higher layer)',
      'src/connectors/x/i.ts imports src/connectors/y/i.ts (vendor x → vendor y)'
    ])
  })
})
