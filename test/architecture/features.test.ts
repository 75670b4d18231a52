/**
 * The feature folders (ADR 0037): each `src/features/<name>/` has a `plugin.ts` exporting `<name>Feature`, app.ts
 * registers every one of them, and no feature imports another's folder (what two features share is in the core).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = resolve(import.meta.dirname, '../../src')
const FEATURES = join(SRC, 'features')

const features = readdirSync(FEATURES, { withFileTypes: true }).filter(e => e.isDirectory()).map(e => e.name).sort()
const pluginName = (folder: string): string => folder.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase()) + 'Feature'

/** the feature folder a path under src/ belongs to, if any */
function featureOf (path: string): string | undefined {
  const m = /^features\/([^/]+)\//.exec(path)
  return m?.[1]
}

/** Imports of one feature (under `root`, a src/ folder) that reach into another feature's folder, as "from → to". */
function crossImports (folder: string, root = SRC): string[] {
  const found: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) { walk(path); continue }
      if (!entry.name.endsWith('.ts')) continue
      const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true)
      for (const { fileName } of importedFiles) {
        if (!fileName.startsWith('.')) continue
        const target = relative(root, resolve(dirname(path), fileName.replace(/\.js$/, '.ts'))).split('\\').join('/')
        const other = featureOf(target)
        if (other !== undefined && other !== folder) found.push(`${relative(root, path).split('\\').join('/')} → ${target}`)
      }
    }
  }
  walk(join(root, 'features', folder))
  return found
}

describe('feature folders', () => {
  it('finds the features', () => {
    expect(features).toEqual(expect.arrayContaining(['batches', 'cases', 'events', 'reporting', 'webhooks']))
  })

  it.each(features)('%s has a plugin.ts exporting its <name>Feature', async (folder) => {
    const mod = await import(join(FEATURES, folder, 'plugin.ts')) as Record<string, unknown>
    expect(typeof mod[pluginName(folder)], `src/features/${folder}/plugin.ts exports ${pluginName(folder)}`).toBe('function')
  })

  it('app.ts registers every feature plugin', () => {
    const app = readFileSync(join(SRC, 'app.ts'), 'utf8')
    const missing = features.filter(f => !new RegExp(`app\\.register\\(${pluginName(f)}\\b`).test(app))
    expect(missing).toEqual([])
  })

  it.each(features)('%s imports no other feature\'s folder', (folder) => {
    expect(crossImports(folder)).toEqual([])
  })

  it('names a cross-feature import when there is one (type-only too), and not an import of the core', () => {
    const root = mkdtempSync(join(tmpdir(), 'features-'))
    try {
      mkdirSync(join(root, 'features', 'a'), { recursive: true })
      mkdirSync(join(root, 'features', 'b'), { recursive: true })
      writeFileSync(join(root, 'features', 'a', 'plugin.ts'), "import type { Core } from '../../core/core.js'\nimport type { B } from '../b/service.js'\n")
      writeFileSync(join(root, 'features', 'b', 'service.ts'), "import { x } from './local.js'\n")
      expect(crossImports('a', root)).toEqual(['features/a/plugin.ts → features/b/service.ts'])
      expect(crossImports('b', root)).toEqual([])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
