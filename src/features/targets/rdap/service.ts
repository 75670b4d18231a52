/**
 * RDAP enrichment: a small client on undici (ADR 0043) behind a cache in the store that every replica shares. One
 * lookup per registrable domain (the ICANN registry's, not a private suffix's) and one per hosting IP; a server's
 * `Retry-After` and a per-server request budget hold across replicas; a failure is remembered for a while and
 * answered as an error, never thrown at a case read.
 */
import { request } from 'undici'
import type { Clock } from '../../../clock.js'
import { retryAfterSeconds } from '../../../connectors/http.js'
import { icannDomainOf, isIpLiteral } from '../../../domain/target-identity.js'
import type { KvStore } from '../../../store/kv-store.js'
import { keys } from '../../../store/keys.js'
import type { Bootstrap } from './bootstrap.js'
import { parseDomain, parseNetwork, type DomainFacts, type NetworkFacts } from './parse.js'

export interface RdapSettings {
  ttlMs: number
  errorTtlMs: number
  timeoutMs: number
  serverBudget: { limit: number, windowMs: number }
  /** every query to this server instead of the bootstrap's */
  baseUrl: string | null
}

/** a host's addresses; the gateway's default asks DNS, the sandbox and tests inject their own (no traffic leaves the machine) */
export type Resolver = (host: string) => Promise<string[]>

export interface Enrichment {
  registrar: DomainFacts['registrar']
  domain: { name: string, createdAt: string | null, expiresAt: string | null, statuses: string[] } | null
  hosting: NetworkFacts[]
  /** when the oldest of the records answered was fetched from its server; null when none was */
  fetchedAt: string | null
  /** what failed, when a lookup did (the rest is still given) */
  error: string | null
}

type Cached<T> = { at: number, facts: T } | { at: number, error: string, until: number }

export class RdapError extends Error {
  override readonly name = 'RdapError'
  constructor (message: string, readonly until: number | null = null) { super(message) }
}

/** hosting lookups per target: the first addresses DNS gives */
const MAX_ADDRESSES = 2

export class RdapService {
  readonly #store: KvStore
  readonly #clock: Clock
  readonly #bootstrap: Bootstrap
  readonly #settings: RdapSettings
  readonly #resolve: Resolver
  readonly #inflight = new Map<string, Promise<unknown>>()

  constructor (deps: { store: KvStore, clock: Clock, bootstrap: Bootstrap, settings: RdapSettings, resolve: Resolver }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#bootstrap = deps.bootstrap
    this.#settings = deps.settings
    this.#resolve = deps.resolve
  }

  /** the registration and hosting facts of a host; what cannot be found is null with `error` saying why */
  async enrich (host: string): Promise<Enrichment> {
    const errors: string[] = []
    const fetched: number[] = []
    let domain: DomainFacts | null = null
    const registered = isIpLiteral(host) ? null : icannDomainOf(host)
    if (registered !== null) {
      try {
        const got = await this.#cached('domain', registered, async () => parseDomain(await this.#get('domain', registered), registered))
        domain = got.facts
        fetched.push(got.at)
      } catch (err) {
        errors.push(`domain ${registered}: ${(err as Error).message}`)
      }
    }
    const hosting: NetworkFacts[] = []
    let addresses: string[] = []
    try {
      addresses = isIpLiteral(host) ? [host] : (await this.#resolve(host)).slice(0, MAX_ADDRESSES)
    } catch (err) {
      errors.push(`resolving ${host}: ${(err as Error).message}`)
    }
    for (const ip of addresses) {
      try {
        const got = await this.#cached('ip', ip, async () => parseNetwork(await this.#get('ip', ip), ip))
        hosting.push(got.facts)
        fetched.push(got.at)
      } catch (err) {
        errors.push(`ip ${ip}: ${(err as Error).message}`)
      }
    }
    return {
      registrar: domain?.registrar ?? null,
      domain: domain === null ? null : { name: domain.name, createdAt: domain.createdAt, expiresAt: domain.expiresAt, statuses: domain.statuses },
      hosting,
      fetchedAt: fetched.length === 0 ? null : new Date(Math.min(...fetched)).toISOString(),
      error: errors.length === 0 ? null : errors.join('; ')
    }
  }

  /** the domain's EPP statuses from the cache or its registry; null when the registry did not answer */
  async domainStatuses (host: string): Promise<string[] | null> {
    const registered = icannDomainOf(host)
    if (registered === null) return null
    try {
      return (await this.#cached('domain', registered, async () => parseDomain(await this.#get('domain', registered), registered))).facts.statuses
    } catch {
      return null
    }
  }

  /** a stored answer younger than the TTL, a stored failure until it may be retried, else one lookup (one per key in flight) */
  async #cached<T> (kind: string, key: string, fetch: () => Promise<T>): Promise<{ at: number, facts: T }> {
    const storeKey = keys.rdap(kind, key)
    const now = this.#clock.now()
    const raw = await this.#store.get(storeKey).catch(() => null)
    if (raw !== null) {
      const hit = JSON.parse(raw) as Cached<T>
      if ('facts' in hit && now - hit.at < this.#settings.ttlMs) return hit
      if ('error' in hit && now < hit.until) throw new RdapError(hit.error, hit.until)
    }
    const running = this.#inflight.get(storeKey) as Promise<{ at: number, facts: T }> | undefined
    if (running !== undefined) return await running
    const work = (async () => {
      try {
        const facts = await fetch()
        const entry = { at: this.#clock.now(), facts }
        await this.#store.set(storeKey, JSON.stringify(entry), { ttlMs: this.#settings.ttlMs }).catch(() => {})
        return entry
      } catch (err) {
        const until = err instanceof RdapError && err.until !== null ? err.until : this.#clock.now() + this.#settings.errorTtlMs
        const entry: Cached<T> = { at: this.#clock.now(), error: (err as Error).message, until }
        if (until > this.#clock.now()) await this.#store.set(storeKey, JSON.stringify(entry), { ttlMs: Math.max(1000, until - this.#clock.now()) }).catch(() => {})
        throw err
      } finally {
        this.#inflight.delete(storeKey)
      }
    })()
    this.#inflight.set(storeKey, work)
    return await work
  }

  async #get (kind: 'domain' | 'ip', key: string): Promise<unknown> {
    const server = this.#settings.baseUrl ?? (kind === 'domain' ? this.#bootstrap.domainServer(key) : this.#bootstrap.ipServer(key))
    if (server === null) throw new RdapError(`no RDAP server in the bootstrap for ${key}`)
    const base = server.endsWith('/') ? server : `${server}/`
    const serverId = new URL(base).host + new URL(base).pathname
    const now = this.#clock.now()
    const backoff = await this.#store.get(keys.rdapBackoff(serverId)).catch(() => null)
    if (backoff !== null && now < Number(backoff)) {
      throw new RdapError(`${serverId} asked to wait until ${new Date(Number(backoff)).toISOString()} (Retry-After)`, Number(backoff))
    }
    const { limit, windowMs } = this.#settings.serverBudget
    const window = Math.floor(now / windowMs)
    const used = await this.#store.incr(keys.rdapBudget(serverId, window), windowMs).catch(() => null)
    if (used !== null && used.value > limit) {
      throw new RdapError(`the gateway's budget for ${serverId} (${limit} requests per ${windowMs} ms) is used up`, (window + 1) * windowMs)
    }
    const url = `${base}${kind}/${encodeURIComponent(key)}`
    let res: Awaited<ReturnType<typeof request>>
    try {
      res = await request(url, {
        method: 'GET',
        headers: { accept: 'application/rdap+json, application/json' },
        headersTimeout: this.#settings.timeoutMs,
        bodyTimeout: this.#settings.timeoutMs
      })
    } catch (err) {
      throw new RdapError(`${serverId} did not answer: ${(err as Error).message}`)
    }
    if (res.statusCode === 429) {
      await res.body.dump()
      const seconds = retryAfterSeconds(res.headers, this.#clock) ?? 60
      const until = this.#clock.now() + seconds * 1000
      await this.#store.set(keys.rdapBackoff(serverId), String(until), { ttlMs: seconds * 1000 }).catch(() => {})
      throw new RdapError(`${serverId} answered 429; retry after ${seconds} s`, until)
    }
    if (res.statusCode === 404) {
      await res.body.dump()
      throw new RdapError(`${serverId} has no record of ${key} (404)`)
    }
    if (res.statusCode !== 200) {
      await res.body.dump()
      throw new RdapError(`${serverId} answered ${res.statusCode}`)
    }
    try {
      return await res.body.json()
    } catch {
      throw new RdapError(`${serverId} answered something that is not JSON`)
    }
  }
}
