/** The command line of `npm run bench:scale`: sections, sizes, and `--quick` (every size small: under a minute). */

export const SECTIONS = ['watcher', 'events', 'sse', 'webhooks', 'analytics', 'probes'] as const
export type Section = typeof SECTIONS[number]

export interface ScaleArgs {
  only: Section[]
  cases: number
  /** per cent of the cases changing per simulated hour */
  changeRate: number
  logCases: number
  sseClients: number
  sseEvents: number
  webhookEvents: number
  analyticsCases: number
  queries: number
  exportSizes: number[]
  probeCases: number
  probes: number
  redisUrl: string
}

const DEFAULTS: Omit<ScaleArgs, 'only' | 'redisUrl'> = {
  cases: 25_000,
  changeRate: 3,
  logCases: 5000,
  sseClients: 1000,
  sseEvents: 200,
  webhookEvents: 1000,
  analyticsCases: 1_000_000,
  queries: 50,
  exportSizes: [10_000, 100_000],
  probeCases: 10_000,
  probes: 2000
}

const QUICK: Omit<ScaleArgs, 'only' | 'redisUrl'> = {
  cases: 2000,
  changeRate: 3,
  logCases: 2000,
  sseClients: 200,
  sseEvents: 50,
  webhookEvents: 200,
  analyticsCases: 50_000,
  queries: 10,
  exportSizes: [1000, 5000],
  probeCases: 500,
  probes: 200
}

export const SCALE_USAGE = `  --only LIST            sections, comma-separated: ${SECTIONS.join(', ')} (all)
  --quick                every size small (a run under a minute); the flags below still win
  --cases N              cases seeded per vendor, every registered provider (${DEFAULTS.cases}; quick ${QUICK.cases})
  --change-rate P        per cent of the cases changing per simulated hour (${DEFAULTS.changeRate})
  --log-cases N          tracked cases of the event-log section, three events each (${DEFAULTS.logCases})
  --sse-clients N        stream clients (${DEFAULTS.sseClients})     --sse-events N     events sent to them (${DEFAULTS.sseEvents})
  --webhook-events N     events fanned out to the 10 receivers, per run (${DEFAULTS.webhookEvents})
  --analytics-cases N    cases recorded for the analytics queries (${DEFAULTS.analyticsCases})   --queries N  per query shape (${DEFAULTS.queries})
  --export-sizes A,B     cases exported, two sizes to compare the peak RSS of (${DEFAULTS.exportSizes.join(',')})
  --probe-cases N        monitored cases (${DEFAULTS.probeCases})   --probes N  probes run for the rate (${DEFAULTS.probes})
  --redis-url URL        (redis://127.0.0.1:6379/14: keys under tgw-scale:<pid>:, deleted at the end)`

type Values = Partial<Record<string, string | boolean | undefined>>

function count (v: Values, name: string, fallback: number, min = 1): number {
  const raw = v[name]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${String(raw)}`)
  return n
}

/** the parsed values of parseCli, checked; throws with the option's name on a bad value */
export function parseScaleArgs (v: Values): ScaleArgs {
  const d = v.quick === true ? QUICK : DEFAULTS
  const only = typeof v.only === 'string' ? v.only.split(',').map(s => s.trim()).filter(s => s !== '') : [...SECTIONS]
  const bad = only.filter(s => !(SECTIONS as readonly string[]).includes(s))
  if (bad.length > 0 || only.length === 0) throw new Error(`--only: unknown section ${bad.join(', ') || '(none)'}; sections: ${SECTIONS.join(', ')}`)
  const sizes = typeof v['export-sizes'] === 'string' ? v['export-sizes'].split(',') : d.exportSizes.map(String)
  const exportSizes = sizes.map(s => count({ 'export-sizes': s.trim() }, 'export-sizes', 0))
  const redisUrl = typeof v['redis-url'] === 'string' ? v['redis-url'] : 'redis://127.0.0.1:6379/14'
  if (!/^rediss?:\/\//.test(redisUrl)) throw new Error(`--redis-url must be a redis:// URL, got ${redisUrl}`)
  return {
    only: SECTIONS.filter(s => only.includes(s)),
    cases: count(v, 'cases', d.cases, 100),
    changeRate: count(v, 'change-rate', d.changeRate, 0),
    logCases: count(v, 'log-cases', d.logCases),
    sseClients: count(v, 'sse-clients', d.sseClients),
    sseEvents: count(v, 'sse-events', d.sseEvents),
    webhookEvents: count(v, 'webhook-events', d.webhookEvents),
    analyticsCases: count(v, 'analytics-cases', d.analyticsCases),
    queries: count(v, 'queries', d.queries),
    exportSizes,
    probeCases: count(v, 'probe-cases', d.probeCases),
    probes: count(v, 'probes', d.probes),
    redisUrl
  }
}
