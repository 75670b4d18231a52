/**
 * The gateway at the scale of a real programme (`npm run bench:scale`): the simulators of every registered provider
 * seeded with 25,000 cases each, replicas built in this process on Redis (the event log on Redis Streams, BullMQ jobs),
 * and one table of targets against measurements: the watcher, the event log, SSE, webhooks, analytics at a million
 * cases and verification probes (bench/scale/*.ts, one module per section; bench/README.md "Scale").
 *
 * Redis: database 14 of 127.0.0.1:6379 by default, every key under `tgw-scale:<pid>:`, deleted (SCAN + UNLINK) at the
 * end; memory is MEMORY USAGE over those keys, never INFO (the server may be shared). Nothing leaves the machine.
 *
 * Options: USAGE below (`npm run bench:scale -- --help`).
 */
import { cpus } from 'node:os'
import { ManualClock } from '../src/clock.js'
import { startSandbox, type Sandbox } from '../src/simulators/sandbox.js'
import { killAllSync, stopAll } from './procs.js'
import { parseScaleArgs, SCALE_USAGE, type ScaleArgs } from './scale/args.js'
import { analyticsSection } from './scale/analytics.js'
import { deleteKeys, rawClient, type Row } from './scale/env.js'
import { eventLogSection } from './scale/event-log.js'
import { probesSection } from './scale/probes.js'
import { sseSection } from './scale/sse.js'
import { watcherSection } from './scale/watcher.js'
import { webhooksSection } from './scale/webhooks.js'
import { parseCli } from './cli.js'

const values = parseCli('bench:scale', SCALE_USAGE, {
  only: { type: 'string' },
  cases: { type: 'string' },
  'change-rate': { type: 'string' },
  'log-cases': { type: 'string' },
  'sse-clients': { type: 'string' },
  'sse-events': { type: 'string' },
  'webhook-events': { type: 'string' },
  'analytics-cases': { type: 'string' },
  queries: { type: 'string' },
  'export-sizes': { type: 'string' },
  'probe-cases': { type: 'string' },
  probes: { type: 'string' },
  quick: { type: 'boolean' },
  'redis-url': { type: 'string' }
})
let a: ScaleArgs
try {
  a = parseScaleArgs(values)
} catch (err) {
  process.stderr.write(`bench:scale: ${(err as Error).message}\nusage: npm run bench:scale -- [options]\n${SCALE_USAGE}\n`)
  process.exit(2)
}

const prefix = `tgw-scale:${process.pid}:`
const raw = rawClient(a.redisUrl)
process.on('exit', killAllSync)
process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)).catch(() => {}) })

async function cleanup (): Promise<void> {
  await stopAll()
  const n = await deleteKeys(raw, prefix).catch(() => -1)
  console.log(`deleted ${n} keys under ${prefix}`)
  raw.disconnect()
}

const NOW = Date.parse('2026-11-01T00:00:00.000Z')
console.log(`scale bench: ${a.only.join(', ')}; ${a.cases} cases per vendor; node ${process.version}, ${cpus().length} CPUs; Redis ${a.redisUrl} under ${prefix}`)
const rows: Row[] = []
const clock = new ManualClock(NOW)
let sandbox: Sandbox | null = null
try {
  let seeded = 0
  for (const section of a.only) {
    const s0 = performance.now()
    // the seeded simulators for the watcher (the analytics section starts its own for the export); a small sandbox
    // (templates, webhooks...) for the others, so their figures are not those of a process holding 125,000 simulated
    // cases (their memory, their garbage collections)
    const count = section === 'watcher' ? a.cases : 50
    if (sandbox === null || seeded !== count) {
      await sandbox?.close()
      sandbox = null
      globalThis.gc?.()
      sandbox = await startSandbox(clock, { count, spanDays: 400, flags: { 'rate-limit': 'off' } })
      seeded = count
      console.log(`simulators seeded with ${count} cases each in ${((performance.now() - s0) / 1000).toFixed(1)} s`)
    }
    const base = { redisUrl: a.redisUrl, sandbox }
    console.log(`${section}…`)
    const p = `${prefix}${section}:`
    switch (section) {
      case 'watcher': rows.push(...await watcherSection({ ...base, prefix: p, clock, cases: a.cases, changePercentPerHour: a.changeRate })); break
      case 'events': rows.push(...await eventLogSection({ ...base, prefix: p, clock: new ManualClock(NOW), raw, cases: a.logCases })); break
      case 'sse': rows.push(...await sseSection({ ...base, prefix: p, clients: a.sseClients, events: a.sseEvents, ratePerSecond: 20 })); break
      case 'webhooks': rows.push(...await webhooksSection({ ...base, prefix: p, events: a.webhookEvents, ratePerSecond: 50 })); break
      case 'analytics': rows.push(...await analyticsSection({ ...base, prefix: p, clock, cases: a.analyticsCases, queries: a.queries, exportSizes: a.exportSizes, exportCases: a.cases })); break
      case 'probes': rows.push(...await probesSection({ ...base, prefix: p, clock: new ManualClock(NOW), raw, cases: a.probeCases, probes: a.probes })); break
    }
    // each section's keys go when it ends: the next one's memory is its own
    await deleteKeys(raw, p)
    console.log(`  ${section} took ${((performance.now() - s0) / 1000).toFixed(1)} s`)
    // each section's rows as soon as it ends: a later section that fails does not take them along
    for (const r of rows.filter(x => x.section === rows.at(-1)?.section)) console.log(`  ${r.met === null ? '    ' : r.met ? 'PASS' : 'MISS'}  ${r.metric}: ${r.measured}`)
  }
} finally {
  await sandbox?.close()
  await cleanup()
}
console.log()
console.log(table(rows))

function table (rs: readonly Row[]): string {
  const head = ['section', 'metric', 'target', 'measured', '']
  const body = rs.map(r => [r.section, r.metric, r.target, r.measured, r.met === null ? '' : r.met ? 'PASS' : 'MISS'])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map(b => (b[i] as string).length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()
  return [line(head), line(widths.map(w => '-'.repeat(w))), ...body.map(line)].join('\n')
}
