/**
 * Fault injection shared by every simulator: tests (in-process) and chaos runs (over HTTP, `POST /__sim/faults`)
 * switch on latency, vendor errors with Retry-After, hangs, malformed bodies and connection resets.
 * Faults apply to vendor routes only, never to the `/__sim` control routes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface FaultRule {
  /** HTTP method to match (default any) */
  method?: string
  /** regular expression matched against the request path without query (default any) */
  path?: string
  /** requests the rule applies to before it retires (default: until cleared) */
  times?: number
  /** delay before anything else happens */
  latencyMs?: number
  /** answer with this status and the vendor's own error body for it */
  status?: number
  /** seconds, sent as Retry-After with `status` */
  retryAfter?: number
  /** extra response headers with `status` */
  headers?: Record<string, string>
  /** accept the request and never answer */
  hang?: boolean
  /** answer 200 with a body that is not JSON */
  malformed?: boolean
  /** destroy the connection without an answer */
  reset?: boolean
}

export type ErrorBodyFactory = (status: number, message: string) => unknown

interface ActiveRule extends FaultRule { regex: RegExp | null, used: number }

export class Faults {
  readonly #rules: ActiveRule[] = []
  readonly #errorBody: ErrorBodyFactory
  readonly #hanging = new Set<FastifyReply>()

  constructor (errorBody: ErrorBodyFactory) {
    this.#errorBody = errorBody
  }

  add (rule: FaultRule): void {
    this.#rules.push({ ...rule, regex: rule.path === undefined ? null : new RegExp(rule.path), used: 0 })
  }

  clear (): void {
    this.#rules.length = 0
    this.releaseHangs()
  }

  /** how many requests the rules have answered so far, all together (tests wait on it instead of a timer) */
  get matched (): number {
    return this.#rules.reduce((n, rule) => n + rule.used, 0)
  }

  get rules (): FaultRule[] {
    return this.#rules.map(({ regex, used, ...rule }) => rule)
  }

  /** Ends every hanging request by destroying its socket (used on close). */
  releaseHangs (): void {
    for (const reply of this.#hanging) reply.raw.socket?.destroy()
    this.#hanging.clear()
  }

  #match (req: FastifyRequest): ActiveRule | null {
    const path = req.url.split('?')[0] ?? ''
    if (path.startsWith('/__sim')) return null
    for (const rule of this.#rules) {
      if (rule.times !== undefined && rule.used >= rule.times) continue
      if (rule.method !== undefined && rule.method.toUpperCase() !== req.method) continue
      if (rule.regex !== null && !rule.regex.test(path)) continue
      return rule
    }
    return null
  }

  /** onRequest hook: returns true when the fault answered (or swallowed) the request. */
  async apply (req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const rule = this.#match(req)
    if (rule === null) return false
    rule.used++
    if (rule.latencyMs !== undefined) await new Promise(resolve => setTimeout(resolve, rule.latencyMs))
    if (rule.reset === true) {
      reply.hijack()
      req.raw.socket.destroy()
      return true
    }
    if (rule.hang === true) {
      reply.hijack()
      this.#hanging.add(reply)
      req.raw.socket.once('close', () => this.#hanging.delete(reply))
      return true
    }
    if (rule.malformed === true) {
      await reply.code(200).header('content-type', 'application/json').send('{"items": [ {"id": "trunc')
      return true
    }
    if (rule.status !== undefined) {
      if (rule.retryAfter !== undefined) reply.header('retry-after', String(rule.retryAfter))
      for (const [k, v] of Object.entries(rule.headers ?? {})) reply.header(k, v)
      await reply.code(rule.status).send(this.#errorBody(rule.status, `injected fault: HTTP ${rule.status}`))
      return true
    }
    return false
  }
}
