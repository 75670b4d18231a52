/**
 * Light mode for load runs (`serve.ts --light`): a simulator answers repeated vendor GETs (list pages, case reads,
 * reference data) from the bytes it serialised the first time, so a benchmark measures the gateway and not the
 * stand-ins rebuilding the same 25 KB page thousands of times a second.
 *
 * Faithful in bytes: the cached body is exactly what normal mode produced for that request target, with the same
 * status (200) and content type. Everything in front of the handler still runs on every request: the request
 * counters and log, the fault switchboard (latency, errors, hangs), authentication and a vendor's rate budget.
 *
 * Invalidation: every vendor request that is not a GET or HEAD (a report, a comment, an action) empties the cache
 * when it arrives and again when it has been answered, so a page never outlives a write. The simulators also move
 * cases through their lifecycles as their clock advances, which no request announces: an entry is therefore
 * served for at most `maxAgeMs` of the simulator's clock (default 1000 ms) before it is rendered anew.
 */
import type { FastifyRequest } from 'fastify'
import type { Clock } from '../clock.js'
import type { Simulator } from './harness.js'

export interface LightModeOptions {
  clock: Clock
  /** how long (simulator clock, ms) a cached body may be served; default 1000 */
  maxAgeMs?: number
}

interface Entry { body: string, contentType: string, at: number }

export interface LightCache {
  /** cached request targets */
  readonly size: number
  /** answers served from the cache since start */
  readonly hits: number
  clear: () => void
}

const isRead = (method: string): boolean => method === 'GET' || method === 'HEAD'

/** Adds the cache hooks to a simulator's app; call before the app is ready (before `startSimulator`). */
export function enableLightMode (sim: Simulator, opts: LightModeOptions): LightCache {
  const maxAgeMs = opts.maxAgeMs ?? 1000
  const entries = new Map<string, Entry>()
  /** requests that reached their handler, with the write generation they started in: a reply sent earlier (a fault,
   * a 401) is never cached, nor one whose rendering overlapped a write */
  const rendered = new WeakMap<FastifyRequest, number>()
  let generation = 0
  const invalidate = (): void => { generation++; entries.clear() }
  let hits = 0
  const control = (req: FastifyRequest): boolean => req.url.startsWith('/__sim')

  // a write empties the cache as it arrives, so no read that starts later is answered from before it; the lookup is a
  // preHandler, so the harness's hook (counters, faults) and the vendor's own (auth, rate budget) run first
  sim.app.addHook('onRequest', async (req) => {
    if (!isRead(req.method) && !control(req)) invalidate()
  })
  sim.app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'GET' || control(req)) return
    const hit = entries.get(req.url)
    if (hit === undefined || opts.clock.now() - hit.at >= maxAgeMs) {
      rendered.set(req, generation)
      return
    }
    hits++
    return await reply.code(200).header('content-type', hit.contentType).send(hit.body)
  })
  sim.app.addHook('onSend', async (req, reply, payload) => {
    if (rendered.get(req) !== generation || reply.statusCode !== 200 || typeof payload !== 'string') return payload
    const contentType = reply.getHeader('content-type')
    if (typeof contentType === 'string') entries.set(req.url, { body: payload, contentType, at: opts.clock.now() })
    return payload
  })
  // and again once the write is answered: a read rendered while the write was still in its handler is not kept
  sim.app.addHook('onResponse', async (req) => {
    if (!isRead(req.method) && !control(req)) invalidate()
  })

  return {
    get size () { return entries.size },
    get hits () { return hits },
    clear: invalidate
  }
}
