/**
 * Gateway keys (README 'Configuration'): `Authorization: Bearer <key>` on every /v1 route; each route declares the scope
 * it needs in `config.scope`. Keys are compared in constant time; their values never reach a log line or a body.
 */
import { hash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { ApiKey, Scope } from '../config.js'
import type { Clock } from '../clock.js'
import { GatewayError } from '../domain/problems.js'
import type { KvStore } from '../store/kv-store.js'
import { keys as storeKeys } from '../store/keys.js'
import { TtlCache } from '../store/ttl-cache.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** scope a route needs; routes without one are public (ops routes) */
    scope?: Scope
  }
  interface FastifyRequest {
    /** name of the gateway key that authenticated the request */
    client: string | null
  }
}

// one-shot hash: no Hash object per request (2.5x faster than createHash().update().digest() here)
const digest = (s: string): Buffer => hash('sha256', s, 'buffer')

export interface AuthFailureLimit {
  /** failed authentications per client address per window before 429 (0 = off) */
  max: number
  windowMs: number
}

/**
 * Failed authentications per client address (TRUST_PROXY decides what the address is), counted in the store (so
 * replicas share the count). An address over the limit gets 429 for every further *failed* attempt until its window
 * ends; a request with a valid key is served, so one client with a rotated-out key cannot lock out the others behind
 * the same address. That a right key is answered differently tells a guesser nothing usable: keys have at least 128
 * bits outside sandbox mode (config.ts). A replica learns of the block from the shared counter on the address's next
 * failure there. A store outage counts nothing (fail open, like the rate limit).
 */
/** blocked addresses a replica remembers (past it the longest-blocked is forgotten: the shared counter blocks it again on its next failure) */
const BLOCKED_MAX = 10_000

class AuthFailureThrottle {
  /** address → when its block ends */
  readonly #blocked: TtlCache<number>
  constructor (readonly limit: AuthFailureLimit, readonly store: KvStore, readonly clock: Clock) {
    this.#blocked = new TtlCache({ max: BLOCKED_MAX, ttlMs: limit.windowMs, clock })
  }

  /** the 429 for an address blocked right now, else null */
  blocked (address: string): GatewayError | null {
    const until = this.#blocked.get(address)
    return until === undefined ? null : this.#refusal(until - this.clock.now())
  }

  /** counts one failure; the 429 when the address is now over the limit */
  async fail (address: string): Promise<GatewayError | null> {
    const { value, ttlMs } = await this.store.incr(storeKeys.rateLimit('auth-fail', address), this.limit.windowMs)
    if (value <= this.limit.max) return null
    this.#blocked.set(address, this.clock.now() + ttlMs, { ttlMs })
    return this.#refusal(ttlMs)
  }

  #refusal (ms: number): GatewayError {
    const retryAfter = Math.max(1, Math.ceil(ms / 1000))
    return new GatewayError('GW_ERR_RATE_LIMITED',
      `Too many failed authentications from this address (more than ${this.limit.max} per ${this.limit.windowMs / 1000} s); retry in ${retryAfter} s with a valid key`,
      { retryAfter })
  }
}

/** true when the header `name` (lower case) appears more than once in Node's raw header list (name, value, ...) */
function repeated (raw: readonly string[], name: string): boolean {
  let seen = 0
  for (let i = 0; i < raw.length; i += 2) {
    const h = raw[i] as string
    if (h.length === name.length && h.toLowerCase() === name && ++seen > 1) return true
  }
  return false
}

/**
 * Adds the key check to every route that declares a scope, as a route-level onRequest hook that knows its scope:
 * a global hook would read `req.routeOptions` (a fresh object per access) on every request.
 */
export function registerAuth (app: FastifyInstance, keys: readonly ApiKey[], opts: { failures: AuthFailureLimit, store: KvStore, clock: Clock }): void {
  const hashed = keys.map(k => ({ key: k, digest: digest(k.secret) }))
  const verified = new Map<string, ApiKey>()
  const throttle = opts.failures.max > 0 ? new AuthFailureThrottle(opts.failures, opts.store, opts.clock) : null
  app.decorateRequest('client', null)
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope
    if (scope === undefined) return
    const refuse = (req: FastifyRequest, err: GatewayError, done: HookHandlerDoneFunction): void => {
      if (throttle === null) { done(err); return }
      // a blocked address's failures are refused without a store call until its window ends
      const blocked = throttle.blocked(req.ip)
      if (blocked !== null) { done(blocked); return }
      throttle.fail(req.ip).then(over => { done(over ?? err) }, (cause: unknown) => {
        req.log.warn({ err: cause }, 'failed authentication not counted: the store is unreachable')
        done(err)
      })
    }
    const check = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      // Node keeps the first of repeated Authorization headers and drops the rest: refuse the ambiguity instead
      if (repeated(req.raw.rawHeaders, 'authorization')) {
        done(new GatewayError('GW_ERR_VALIDATION', 'Send exactly one Authorization header', { errors: [{ path: '/headers/authorization', message: 'appears more than once' }] }))
        return
      }
      const header = req.headers.authorization
      const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
      if (match?.[1] === undefined) {
        reply.header('www-authenticate', 'Bearer realm="takedown-gateway"')
        refuse(req, new GatewayError('GW_ERR_UNAUTHENTICATED', 'Send a gateway key as `Authorization: Bearer <key>`'), done)
        return
      }
      // a key that matched before is found without hashing: the map holds valid keys only (at most one entry per
      // configured key), and its lookup hashes the whole presented string, so its time does not depend on a prefix
      let found: ApiKey | null = verified.get(match[1]) ?? null
      if (found === null) {
        const presented = digest(match[1])
        // compare against every key so timing does not tell which prefix matched
        for (const h of hashed) if (timingSafeEqual(h.digest, presented)) found = h.key
        if (found !== null) verified.set(match[1], found)
      }
      if (found === null) {
        reply.header('www-authenticate', 'Bearer realm="takedown-gateway", error="invalid_token"')
        refuse(req, new GatewayError('GW_ERR_UNAUTHENTICATED', 'The gateway key is not valid'), done)
        return
      }
      req.client = found.name
      if (!found.scopes.has(scope) && !found.scopes.has('admin')) {
        done(new GatewayError('GW_ERR_FORBIDDEN', `The key "${found.name}" lacks the "${scope}" scope this route needs`))
        return
      }
      done()
    }
    const existing = route.onRequest
    route.onRequest = existing === undefined ? [check] : [check, ...(Array.isArray(existing) ? existing : [existing])]
  })
}
