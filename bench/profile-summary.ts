/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, top functions by total
 * (inclusive) time, and self time grouped by where the code lives (gateway source, a package, Node internals, GC).
 *
 *   tsx bench/profile-summary.ts <file.cpuprofile> [--top N]
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface Entry { name: string, where: string, ms: number, pct: number }
export interface ProfileSummary {
  file: string
  totalMs: number
  /** total minus (idle) */
  busyMs: number
  self: Entry[]
  total: Entry[]
  byModule: Entry[]
  /** time with the module anywhere on the stack (what it costs including what it calls), packages and gateway files only */
  byModuleTotal: Entry[]
}

/** where a function lives: a package name, a gateway file, a Node internal, or a V8 pseudo-frame */
function moduleOf (url: string, root: string): string {
  if (url === '') return '(v8)'
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0]
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? path
  }
  return path.startsWith(root) ? path.slice(root.length + 1) : path
}

export function summariseProfile (file: string, root: string): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>(prof.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  const keyOf = (n: ProfileNode): string => {
    const f = n.callFrame
    const where = f.url === '' ? '' : `${moduleOf(f.url, root)}:${f.lineNumber + 1}`
    return `${f.functionName === '' ? '(anonymous)' : f.functionName}\u0000${where}`
  }
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const modules = new Map<string, number>()
  const modulesTotal = new Map<string, number>()
  let totalUs = 0
  let idleUs = 0
  // timeDeltas[i] is the time before sample i; attribute it to sample i (what V8's own tools do)
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0
    const node = byId.get(prof.samples[i]!)
    if (node === undefined || dt <= 0) continue
    totalUs += dt
    if (node.callFrame.functionName === '(idle)') { idleUs += dt; continue }
    const k = keyOf(node)
    self.set(k, (self.get(k) ?? 0) + dt)
    const mod = moduleOf(node.callFrame.url, root)
    const modKey = mod === '(v8)' ? node.callFrame.functionName : mod
    modules.set(modKey, (modules.get(modKey) ?? 0) + dt)
    const seen = new Set<string>()
    const seenModules = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!
      const m = moduleOf(n.callFrame.url, root)
      if (m !== '(v8)' && !m.startsWith('node:') && !seenModules.has(m)) {
        seenModules.add(m)
        modulesTotal.set(m, (modulesTotal.get(m) ?? 0) + dt)
      }
      const nk = keyOf(n)
      if (seen.has(nk)) continue
      seen.add(nk)
      total.set(nk, (total.get(nk) ?? 0) + dt)
    }
  }
  const busyUs = totalUs - idleUs
  const entries = (m: Map<string, number>, skipRoots = false): Entry[] => [...m]
    .filter(([k]) => !skipRoots || !/^\((root|program|garbage collector)\)/.test(k))
    .map(([k, us]) => {
      const [name, where] = k.split('\u0000') as [string, string | undefined]
      return { name, where: where ?? '', ms: us / 1000, pct: busyUs === 0 ? 0 : 100 * us / busyUs }
    })
    .sort((a, b) => b.ms - a.ms)
  return {
    file,
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    self: entries(self),
    total: entries(total, true),
    byModule: entries(modules),
    byModuleTotal: entries(modulesTotal)
  }
}

export function formatSummary (s: ProfileSummary, top = 25): string {
  const fmt = (e: Entry): string => `${e.pct.toFixed(1).padStart(5)} %  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}  ${e.where}`
  return [
    `profile ${s.file}`,
    `sampled ${(s.totalMs / 1000).toFixed(1)} s, busy (not idle) ${(s.busyMs / 1000).toFixed(1)} s; percentages are of busy time`,
    '',
    `top ${top} functions by self time:`,
    ...s.self.slice(0, top).map(fmt),
    '',
    `top ${top} functions by total (inclusive) time:`,
    ...s.total.slice(0, top).map(fmt),
    '',
    'self time by module:',
    ...s.byModule.slice(0, top).map(fmt),
    '',
    'total (inclusive) time by package or gateway file:',
    ...s.byModuleTotal.slice(0, top).map(fmt)
  ].join('\n')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true })
  const file = positionals[0]
  if (file === undefined) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N]\n')
    process.exit(64)
  }
  process.stdout.write(formatSummary(summariseProfile(file, process.cwd()), Number(values.top)) + '\n')
}
