/**
 * Reference data per (provider, kind), read through the shared cache. The unified statuses themselves are
 * published as provider `gateway`, and every vendor status carries the unified status it maps to.
 */
import type { CancelSignal } from '../../connectors/deadline.js'
import { createHash } from 'node:crypto'
import { ConnectorError, type ProviderConnector } from '../../connectors/connector.js'
import { fromConnectorError, GatewayError } from '../../domain/problems.js'
import { capabilitiesOf } from '../../services/providers.js'
import type { Logger } from '../../logger.js'
import type { ProviderError } from '../../schemas/case.js'
import type { ProviderId } from '../../schemas/provider.js'
import type { ReferenceItem, ReferenceKind } from '../../schemas/reference.js'
import type { ReferencePage } from '../../schemas/reference-page.js'
import { UNIFIED_STATUSES, isTerminal, type UnifiedStatus } from '../../schemas/unified-status.js'
import { cacheStatus, type CacheEntry, type SharedCache } from '../../store/cached.js'
import { keys } from '../../store/keys.js'
import type { ProviderEntry, ProviderSet } from '../../services/provider-set.js'

export const UNIFIED_STATUS_MEANINGS: Record<UnifiedStatus, string> = {
  received: 'submitted, not yet looked at',
  in_review: 'the provider is reviewing / building the case',
  awaiting_customer: 'the provider waits for the customer (approval, information)',
  monitoring: 'watched, no takedown now',
  in_progress: 'takedown approved or under way',
  mitigated: 'blocked or warned (blocklist, interstitial), not removed',
  taken_down: 'removed / suspended',
  failed: 'takedown attempted and failed, or rejected',
  cancelled: 'cancelled at the customer\'s request',
  closed: 'closed without (further) action',
  unknown: 'a provider status the gateway has no mapping for; providerStatus keeps it'
}

const GATEWAY_STATUSES: ReferenceItem[] = UNIFIED_STATUSES.map(s => ({
  provider: 'gateway', kind: 'statuses', id: s, name: s, description: UNIFIED_STATUS_MEANINGS[s], unifiedStatus: s, terminal: isTerminal(s)
}))

/**
 * The reference kinds a connector has, worked out once per connector: capabilitiesOf copies the capabilities and reads
 * each method through the resilience proxy, which every hit paid once per provider (a few % of a reference hit).
 * A connector's capabilities are fixed when it is built.
 */
const referenceKinds = new WeakMap<ProviderConnector, readonly ReferenceKind[]>()
function kindsOf (connector: ProviderConnector): readonly ReferenceKind[] {
  let kinds = referenceKinds.get(connector)
  if (kinds === undefined) referenceKinds.set(connector, kinds = capabilitiesOf(connector).reference)
  return kinds
}

const has = (entry: ProviderEntry, kind: ReferenceKind): boolean => entry.connector !== null && kindsOf(entry.connector).includes(kind)

/** `page` is built on demand: a client whose body the route has serialised before never needs the items gathered. */
export interface ReferenceResult { page: () => ReferencePage, cacheStatus: string[], etag: string }

export class ReferenceService {
  readonly #providers: ProviderSet
  readonly #cache: SharedCache
  readonly #ttlMs: number
  readonly #etags = new Map<string, string>()

  constructor (providers: ProviderSet, cache: SharedCache, ttlMs: number) {
    this.#providers = providers
    this.#cache = cache
    this.#ttlMs = ttlMs
  }

  /** `signal` is a getter: a request's signal costs an AbortController and a socket listener, and a cache hit needs neither. */
  async get (kind: ReferenceKind, provider: ProviderId | undefined, signal: () => CancelSignal, log: Logger): Promise<ReferenceResult> {
    // providers without this kind are not asked (not applicable), and a named one answers 404 naming the kinds it has
    const targets = provider === undefined ? this.#providers.active().filter(e => has(e, kind)) : [this.#providers.get(provider)]
    if (provider !== undefined) {
      const entry = targets[0]
      if (entry?.connector == null) throw new GatewayError('GW_ERR_PROVIDER_OFF', `Provider ${provider} is off in this gateway`, { provider })
      const kinds = kindsOf(entry.connector)
      if (!kinds.includes(kind)) {
        throw new GatewayError('GW_ERR_NOT_FOUND', `${provider} has no ${kind} (not applicable); its reference data: ${kinds.join(', ')}`, { provider, allowed: [...kinds] })
      }
    }
    return this.#fresh(kind, provider, targets) ?? await this.#load(kind, provider, targets, signal, log)
  }

  /** Every entry fresh in this process: the answer without a promise or a copy of the items (the common case). */
  #fresh (kind: ReferenceKind, provider: ProviderId | undefined, targets: Array<ProviderEntry | undefined>): ReferenceResult | null {
    const entries: Array<CacheEntry<ReferenceItem[] | null>> = []
    const statuses: string[] = []
    const etags: string[] = []
    for (const entry of targets) {
      if (entry?.connector == null) continue
      const key = keys.reference(entry.id, kind)
      // null: the provider has no reference data of this kind (cached as such)
      const cached = this.#cache.fresh<ReferenceItem[] | null>(key, { provider: entry.id, kind })
      if (cached === null) return null
      entries.push(cached)
      statuses.push(cacheStatus('hit', `${entry.id}:${kind}`, this.#ttlMs - (this.#cache.ageOf(key) ?? 0)))
      etags.push(cached.etag)
    }
    const page = (): ReferencePage => {
      const items: ReferenceItem[] = kind === 'statuses' && provider === undefined ? [...GATEWAY_STATUSES] : []
      for (const e of entries) if (e.value !== null) items.push(...e.value)
      return { kind, items, partial: false, errors: [] }
    }
    return { page, cacheStatus: statuses, etag: this.#pageEtag(kind, provider, etags) }
  }

  async #load (kind: ReferenceKind, provider: ProviderId | undefined, targets: Array<ProviderEntry | undefined>, signal: () => CancelSignal, log: Logger): Promise<ReferenceResult> {
    const items: ReferenceItem[] = kind === 'statuses' && provider === undefined ? [...GATEWAY_STATUSES] : []
    const errors: ProviderError[] = []
    const statuses: string[] = []
    const etags: string[] = []
    const results = await Promise.all(targets.map(async entry => {
      if (entry?.connector == null) return null
      const connector = entry.connector
      const key = keys.reference(entry.id, kind)
      try {
        const r = await this.#cache.get(key, keys.referenceLock(entry.id, kind),
          async () => await this.#providers.withContext(entry.id, signal(), log, async ctx => await connector.listReference(kind, ctx)),
          value => etagOf(value), { provider: entry.id, kind })
        statuses.push(cacheStatus(r.outcome, `${entry.id}:${kind}`, this.#ttlMs - (this.#cache.ageOf(key) ?? 0)))
        etags.push(r.entry.etag)
        return r.entry.value
      } catch (err) {
        this.#providers.recordError(entry.id, err)
        const gw = err instanceof ConnectorError ? fromConnectorError(err) : null
        errors.push({ provider: entry.id, status: gw?.statusCode ?? 502, title: 'Reference data unavailable', detail: gw?.message ?? `${entry.id}: ${(err as Error).message}` })
        statuses.push(`takedown-gateway; fwd=uri-miss; fwd-status=${gw?.statusCode ?? 502}; key="${entry.id}:${kind}"`)
        return null
      }
    }))
    for (const r of results) if (r !== null) items.push(...r)
    if (provider !== undefined && errors.length > 0 && items.length === 0) {
      const err = errors[0]!
      throw new GatewayError(err.status === 504 ? 'GW_ERR_PROVIDER_TIMEOUT' : err.status === 503 ? 'GW_ERR_PROVIDER_UNAVAILABLE' : 'GW_ERR_PROVIDER_ERROR', err.detail, { provider })
    }
    const page: ReferencePage = { kind, items, partial: errors.length > 0, errors }
    // the page's validator from the cached entries' own etags: no hashing of the whole page on the hit path
    const etag = errors.length === 0 ? this.#pageEtag(kind, provider, etags) : `W/"${etagOf(page)}"`
    return { page: () => page, cacheStatus: statuses, etag }
  }

  /** The page's etag from its entries' etags, hashed once per combination (a hit would otherwise hash on every request). */
  #pageEtag (kind: ReferenceKind, provider: ProviderId | undefined, etags: string[]): string {
    const id = `${kind}|${provider ?? ''}|${etags.sort().join('|')}`
    let etag = this.#etags.get(id)
    if (etag === undefined) {
      etag = `W/"${etagOf([kind, provider ?? null, etags])}"`
      if (this.#etags.size >= 256) this.#etags.delete(this.#etags.keys().next().value as string)
      this.#etags.set(id, etag)
    }
    return etag
  }
}

function etagOf (value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22)
}
