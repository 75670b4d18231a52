/**
 * Shared simulator plumbing: every vendor simulator is a Fastify app with a fault switchboard, request counters
 * and a `/__sim` control API, started on a loopback port (port 0 in tests).
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Clock } from '../clock.js'
import { Faults, type ErrorBodyFactory, type FaultRule } from './faults.js'

export interface SimulatorOptions {
  clock: Clock
  /** the credential the simulator accepts; anything else gets the vendor's 401 */
  apiKey: string
  /** PRNG seed of the seeded data set */
  seed?: number
  /** how many cases to seed (at least 30 by default) */
  count?: number
  /** the seeded cases' creation dates spread over about this many days before now (default: about 0.8 day per case) */
  spanDays?: number
  /** the account id a vendor API expects in its paths (a provider module's sandbox option) */
  accountId?: string
}

export interface Simulator {
  readonly app: FastifyInstance
  readonly faults: Faults
  readonly stats: RequestStats
  /** path prefix of the vendor API on the simulator's origin ('' where the API sits at the root; each simulator declares its own) */
  readonly basePath: string
  /** simulators of vendors that push webhooks: scan for changes and send what is due now */
  readonly webhooks?: { deliverDue: () => Promise<number> }
  /** the targets of the vendor's cases and its word on each now: the sandbox's small internet plays them (simulators/targets/) */
  readonly targets?: () => SimTarget[]
}

/** One case's target as the vendor holds it, for the small internet. */
export interface SimTarget {
  /** a URL, a domain or an IPv4 address (other values: no page, skipped) */
  value: string
  /** when the case was reported, epoch ms */
  createdAt: number
  /** since when the vendor's current status says taken down or mitigated (the statuses the gateway maps so); null while it does not */
  downAt: number | null
}

/** The time the trailing run of `down` steps began (the vendor says down since then), or null when the last step is not down. */
export function downSince<S> (steps: ReadonlyArray<{ at: number, status: S }>, down: (status: S) => boolean): number | null {
  let since: number | null = null
  for (const s of steps) since = down(s.status) ? since ?? s.at : null
  return since
}

/** What a provider's simulator factory receives (simulators/index.ts starts one per registered provider). */
export interface SimulatorStart extends Omit<SimulatorOptions, 'accountId'> {
  /** the provider module's sandbox options (e.g. an account id) */
  options: Readonly<Record<string, string>>
  /** values of the module's `simulatorFlags`, by flag name (command line of src/simulators/serve.ts) */
  flags?: Readonly<Record<string, string>>
}

export type SimulatorFactory = (start: SimulatorStart) => Simulator

/** A request as it arrived on the wire: method and the raw request target (path and query, undecoded). */
export interface LoggedRequest { method: string, url: string, route: string, /** arrival, epoch ms (wall clock) */ at: number }

/** the request log keeps the most recent requests only, so a long-running sandbox does not grow without bound */
const REQUEST_LOG_MAX = 20_000

/**
 * Counts requests per `METHOD route-template` so tests can assert how many vendor calls happened, and logs each raw
 * request target so tests can assert exactly which vendor paths the gateway reached.
 */
export class RequestStats {
  readonly counts = new Map<string, number>()
  readonly log: LoggedRequest[] = []
  record (method: string, route: string, url = route): void {
    const key = `${method} ${route}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    // dropped a quarter at a time: shifting one entry per request would copy the whole log on every request once full
    if (this.log.length >= REQUEST_LOG_MAX) this.log.splice(0, REQUEST_LOG_MAX / 4)
    this.log.push({ method, url, route, at: Date.now() })
  }

  /** arrival times (epoch ms, wall clock) of the logged requests, for rate assertions */
  get times (): number[] {
    return this.log.map(r => r.at)
  }

  get (method: string, route: string): number {
    return this.counts.get(`${method} ${route}`) ?? 0
  }

  total (): number {
    let n = 0
    for (const v of this.counts.values()) n += v
    return n
  }

  reset (): void {
    this.counts.clear()
    this.log.length = 0
  }

  toJSON (): Record<string, number> { return Object.fromEntries(this.counts) }
}

/**
 * The common Fastify shell of a simulator: fault hook, stats hook, `/__sim` control routes.
 * The vendor's own routes are registered by the caller under `basePath`.
 */
export function createSimulatorApp (errorBody: ErrorBodyFactory): { app: FastifyInstance, faults: Faults, stats: RequestStats } {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  const faults = new Faults(errorBody)
  const stats = new RequestStats()

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/__sim')) return
    stats.record(req.method, req.routeOptions.url ?? req.url.split('?')[0] ?? '', req.raw.url ?? '')
    if (await faults.apply(req, reply)) return reply
  })
  app.addHook('onClose', async () => { faults.releaseHangs() })

  app.post<{ Body: FaultRule }>('/__sim/faults', async (req, reply) => {
    faults.add(req.body)
    return reply.code(204).send()
  })
  app.delete('/__sim/faults', async (_req, reply) => {
    faults.clear()
    return reply.code(204).send()
  })
  app.get('/__sim/stats', async () => stats.toJSON())
  // the raw request targets since the last reset (a benchmark replays exactly what the gateway sent)
  app.get('/__sim/requests', async () => stats.log.map(({ method, url, route }) => ({ method, url, route })))
  app.delete('/__sim/stats', async (_req, reply) => {
    stats.reset()
    return reply.code(204).send()
  })
  return { app, faults, stats }
}

export interface RunningSimulator {
  readonly sim: Simulator
  /** origin + basePath: what the connector's base URL is set to */
  readonly baseUrl: string
  readonly origin: string
  close (): Promise<void>
}

export async function startSimulator (sim: Simulator, port = 0): Promise<RunningSimulator> {
  const address = await sim.app.listen({ host: '127.0.0.1', port })
  const origin = address.replace('localhost', '127.0.0.1')
  return {
    sim,
    origin,
    baseUrl: origin + sim.basePath,
    close: async () => { await sim.app.close() }
  }
}
