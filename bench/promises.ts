/**
 * Promises (and other async resources) the built gateway creates per request, counted with async_hooks: a measure of
 * the per-request pipeline that other processes on the same cores do not disturb, where CPU µs per request does.
 * The gateway is built from `--dist` in this process (live mode against the light simulators, `LOG_LEVEL=info` to
 * stdout), and requests are injected one after the other (`app.inject`; inject's own few promises are in the count).
 *
 *   npm run build && tsx bench/promises.ts [--dist dist] [--requests 2000] > /dev/null
 */
import { createHook } from 'node:async_hooks'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { parseCli } from './cli.js'
import { BENCH_KEY as KEY, inProcessGatewayEnv, startLightSimulators } from './in-process.js'
import { stopAll } from './procs.js'

const USAGE = '  --dist DIR       the build to measure (dist)\n  --requests N     requests counted per scenario (2000)'
const args = parseCli('bench:promises', USAGE, { dist: { type: 'string', default: 'dist' }, requests: { type: 'string', default: '2000' } })
const ROOT = resolve(import.meta.dirname, '..')
const DIST = resolve(ROOT, args.dist)
const N = Number(args.requests)
const sims = startLightSimulators(DIST, ROOT)
try {
  // the bench's gateway settings (bench/run.ts), the watcher and load shedding off: only requests run
  Object.assign(process.env, inProcessGatewayEnv(await sims.env), { MAX_EVENT_LOOP_DELAY_MS: '0' })
  const load = async <T>(file: string): Promise<T> => await import(pathToFileURL(join(DIST, file)).href) as T
  const { loadConfig } = await load<{ loadConfig: () => unknown }>('config.js')
  const { buildApp } = await load<{ buildApp: (o: unknown) => Promise<FastifyInstance> }>('app.js')
  const { createLogger } = await load<{ createLogger: (level: string) => unknown }>('logger.js')
  const app = await buildApp({ config: loadConfig(), loggerInstance: createLogger('info') })
  await app.ready()
  const headers = { authorization: `Bearer ${KEY}` }
  const first = await app.inject({ method: 'GET', url: '/v1/cases?limit=1&provider=phishfort', headers })
  const id = (first.json() as { items: Array<{ id: string }> }).items[0]?.id ?? ''
  const results: Record<string, Record<string, number>> = {}
  for (const [name, url] of [['reference', '/v1/reference/statuses'], ['get', `/v1/cases/${encodeURIComponent(id)}`]] as const) {
    const one = async (): Promise<void> => {
      const res = await app.inject({ method: 'GET', url, headers })
      if (res.statusCode !== 200) throw new Error(`${name}: HTTP ${res.statusCode} ${res.body.slice(0, 300)}`)
    }
    for (let i = 0; i < 300; i++) await one() // warm: caches filled, code compiled
    const counts: Record<string, number> = {}
    const hook = createHook({ init (_id, type) { counts[type] = (counts[type] ?? 0) + 1 } })
    hook.enable()
    for (let i = 0; i < N; i++) await one()
    hook.disable()
    results[name] = Object.fromEntries(Object.entries(counts).map(([type, n]) => [type, Math.round(n / N * 100) / 100]))
  }
  await app.close()
  process.stderr.write(`per request (${N} requests each, ${args.dist}):\n${JSON.stringify(results, null, 2)}\n`)
} finally {
  await stopAll()
}
process.exit(0)
