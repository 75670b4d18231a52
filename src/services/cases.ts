/**
 * Case use-cases: the cross-provider listing (fan-out, k-way merge, cursor) and the single-case read.
 * Plain functions over the ProviderSet; no Fastify request or reply in here.
 */
import { createHash } from 'node:crypto'
import type { CaseFilters, ProviderConnector } from '../connectors/connector.js'
import { ConnectorError } from '../connectors/connector.js'
import { parseCaseId } from '../domain/case-id.js'
import { CursorCodec, type CursorState, type ProviderPosition } from '../domain/cursor.js'
import { compareKeys, keyOf, type SortKey } from '../domain/merge.js'
import { fromConnectorError, GatewayError, type GatewayError as GwError } from '../domain/problems.js'
import type { Logger } from '../logger.js'
import type { Case, CaseDetail, CaseListQuery, CasePage, ProviderError } from '../schemas/case.js'
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { isUnifiedStatus, UNIFIED_STATUSES, type UnifiedStatus } from '../schemas/unified-status.js'
import type { ProviderSet } from './provider-set.js'

export interface ListOptions {
  /** most vendor pages read per provider for one gateway page (bounds the work a filtered page can cause) */
  maxPagesPerProvider?: number
}

interface Filters extends CaseFilters {
  providers: ProviderId[]
}

interface Buffered { item: Case, key: SortKey, page: number }

/** One provider's side of a listing request. */
class Stream {
  readonly buffer: Buffered[] = []
  /** vendor page tokens fetched in this request, in vendor order */
  readonly pages: Array<string | null> = []
  nextToken: string | null
  exhausted: boolean
  /** smallest createdAt seen in raw vendor items: anything not fetched yet is at or below it */
  lowWater = Number.POSITIVE_INFINITY
  error: ConnectorError | Error | null = null

  constructor (readonly provider: ProviderId, readonly connector: ProviderConnector, readonly pos: ProviderPosition) {
    this.nextToken = pos.t
    this.exhausted = pos.d
  }

  get live (): boolean { return this.error === null }

  head (): Buffered | undefined {
    return this.buffer[0]
  }
}

export class CaseService {
  readonly #providers: ProviderSet
  readonly #cursors: CursorCodec
  readonly #maxPages: number

  constructor (providers: ProviderSet, secret: string, opts: ListOptions = {}) {
    this.#providers = providers
    this.#cursors = new CursorCodec(secret)
    this.#maxPages = opts.maxPagesPerProvider ?? 10
  }

  async list (query: CaseListQuery, signal: AbortSignal, log: Logger): Promise<CasePage> {
    const filters = this.#filters(query)
    const fingerprint = fingerprintOf(filters)
    const pageSize = Math.min(100, Math.max(query.limit, 10))
    const state: CursorState = query.cursor !== undefined
      ? this.#cursors.decode(query.cursor, fingerprint)
      : { v: 1, f: fingerprint, k: null, p: Object.fromEntries(filters.providers.map(p => [p, { t: null, s: pageSize, d: false }])) }

    const streams: Stream[] = []
    for (const provider of filters.providers) {
      const connector = this.#providers.get(provider)?.connector
      const pos = state.p[provider]
      if (connector == null || pos === undefined) continue
      streams.push(new Stream(provider, connector, pos))
    }
    const after = state.k
    const sinceMs = filters.since === undefined ? null : Date.parse(filters.since)
    const fetched = new Map<Stream, number>()

    const fetchPage = async (s: Stream): Promise<void> => {
      const token = s.nextToken
      const pageNo = s.pages.length
      fetched.set(s, (fetched.get(s) ?? 0) + 1)
      try {
        const page = await s.connector.listCases(
          { pageToken: token, pageSize: s.pos.s, filters },
          this.#providers.context(s.provider, signal, log)
        )
        s.pages.push(token)
        for (const item of page.items) {
          const key = keyOf(item)
          if (key[0] < s.lowWater) s.lowWater = key[0]
          if (after !== null && compareKeys(key, after) <= 0) continue
          if (!matches(item, filters)) continue
          s.buffer.push({ item, key, page: pageNo })
        }
        s.buffer.sort((a, b) => compareKeys(a.key, b.key))
        s.nextToken = page.next
        // nothing older than `since` can match: stop reading this provider once the vendor is past it
        if (page.next === null || (sinceMs !== null && s.lowWater < sinceMs)) s.exhausted = true
      } catch (err) {
        s.error = err instanceof Error ? err : new Error(String(err))
        this.#providers.recordError(s.provider, err)
        log.warn({ provider: s.provider, err: describe(err) }, 'provider failed during listing')
      }
    }

    const items: Case[] = []
    let last: SortKey | null = after
    for (;;) {
      // the next case in global order among what is buffered
      let best: Stream | null = null
      for (const s of streams) {
        const h = s.live ? s.head() : undefined
        if (h !== undefined && (best === null || compareKeys(h.key, best.head()!.key) < 0)) best = s
      }
      const candidate = best?.head()
      // a provider blocks the candidate while it may still hold unread cases that sort before (or level with) it
      const blockers = streams.filter(s => s.live && !s.exhausted &&
        (candidate === undefined || candidate.key[0] <= s.lowWater))
      if (blockers.length === 0) {
        if (candidate === undefined || best === null) break
        best.buffer.shift()
        items.push(candidate.item)
        last = candidate.key
        if (items.length >= query.limit) break
        continue
      }
      const fetchable = blockers.filter(s => (fetched.get(s) ?? 0) < this.#maxPages)
      if (fetchable.length === 0) break
      await Promise.all(fetchable.map(fetchPage))
    }

    const errors: ProviderError[] = []
    const nextState: CursorState = { v: 1, f: fingerprint, k: last === null ? null : [last[0], last[1]], p: {} }
    let more = false
    for (const s of streams) {
      if (!s.live) {
        nextState.p[s.provider] = s.pos // retry this provider from where it stood on the next page
        more = true
        errors.push(providerError(s.provider, s.error))
        continue
      }
      const firstUnconsumed = s.buffer.reduce((min, b) => Math.min(min, b.page), Number.POSITIVE_INFINITY)
      if (Number.isFinite(firstUnconsumed)) {
        nextState.p[s.provider] = { t: s.pages[firstUnconsumed] ?? null, s: s.pos.s, d: false }
        more = true
      } else if (s.exhausted) {
        nextState.p[s.provider] = { t: null, s: s.pos.s, d: true }
      } else {
        nextState.p[s.provider] = { t: s.nextToken, s: s.pos.s, d: false }
        more = true
      }
    }
    // carry positions of providers that were skipped in this request (none today; keeps cursors forward-compatible)
    for (const [p, pos] of Object.entries(state.p)) if (nextState.p[p] === undefined) nextState.p[p] = pos

    if (streams.length > 0 && streams.every(s => !s.live)) {
      throw allFailed(streams)
    }
    return {
      items,
      nextCursor: more ? this.#cursors.encode(nextState) : null,
      partial: errors.length > 0,
      errors
    }
  }

  async get (id: string, opts: { raw: boolean }, signal: AbortSignal, log: Logger): Promise<CaseDetail> {
    const parsed = parseCaseId(id)
    if (parsed === null) {
      throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `No case ${id}: case ids look like <provider>:<id> with provider one of ${PROVIDER_IDS.join(', ')}`)
    }
    const entry = this.#providers.get(parsed.provider)
    if (entry?.connector == null) {
      throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `No case ${id}: provider ${parsed.provider} is off in this gateway`, { provider: parsed.provider })
    }
    try {
      return await entry.connector.getCase(parsed.providerCaseId, opts, this.#providers.context(parsed.provider, signal, log))
    } catch (err) {
      if (err instanceof ConnectorError) {
        if (err.kind !== 'not_found') this.#providers.recordError(parsed.provider, err)
        if (err.kind === 'not_found') {
          throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `${parsed.provider} has no case ${parsed.providerCaseId}`, { provider: parsed.provider, providerStatus: err.upstreamStatus })
        }
      }
      throw err
    }
  }

  #filters (query: CaseListQuery): Filters {
    const active = this.#providers.active().map(e => e.id)
    let providers: ProviderId[] = active
    if (query.provider !== undefined) {
      const names = csv(query.provider)
      const bad = names.filter(n => !isProviderId(n))
      if (bad.length > 0) {
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown provider ${bad.join(', ')}`, {
          errors: [{ path: '/provider', message: `must be a comma-separated list of ${PROVIDER_IDS.join(', ')}` }],
          allowed: [...PROVIDER_IDS]
        })
      }
      const off = names.filter(n => !active.includes(n as ProviderId))
      if (off.length > 0) {
        throw new GatewayError('GW_ERR_PROVIDER_OFF', `Provider ${off.join(', ')} is off in this gateway`, { allowed: active })
      }
      providers = PROVIDER_IDS.filter(p => names.includes(p))
    }
    let statuses: UnifiedStatus[] | undefined
    if (query.status !== undefined) {
      const names = csv(query.status)
      const bad = names.filter(n => !isUnifiedStatus(n))
      if (bad.length > 0 || names.length === 0) {
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown status ${bad.join(', ') || '(empty)'}; allowed: ${UNIFIED_STATUSES.join(', ')}`, {
          errors: [{ path: '/status', message: `must be a comma-separated list of ${UNIFIED_STATUSES.join(', ')}` }],
          allowed: [...UNIFIED_STATUSES]
        })
      }
      statuses = UNIFIED_STATUSES.filter(s => names.includes(s))
    }
    if (query.since !== undefined && query.until !== undefined && Date.parse(query.since) >= Date.parse(query.until)) {
      throw new GatewayError('GW_ERR_VALIDATION', '`since` must be before `until`', { errors: [{ path: '/since', message: 'must be before until' }] })
    }
    const filters: Filters = { providers }
    if (statuses !== undefined) filters.statuses = statuses
    if (query.since !== undefined) filters.since = new Date(query.since).toISOString()
    if (query.until !== undefined) filters.until = new Date(query.until).toISOString()
    if (query.q !== undefined) filters.q = query.q
    if (query.targetType !== undefined) filters.targetType = query.targetType
    if (query.brand !== undefined) filters.brand = query.brand
    return filters
  }
}

function csv (value: string): string[] {
  return [...new Set(value.split(',').map(s => s.trim()).filter(s => s !== ''))]
}

function fingerprintOf (f: Filters): string {
  const canonical = JSON.stringify([f.providers, f.statuses ?? null, f.since ?? null, f.until ?? null, f.q?.toLowerCase() ?? null, f.targetType ?? null, f.brand?.toLowerCase() ?? null])
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16)
}

/** The gateway applies every filter itself; vendor-side filters are only an optimisation. */
export function matches (c: Case, f: CaseFilters): boolean {
  if (f.statuses !== undefined && !f.statuses.includes(c.status)) return false
  if (f.targetType !== undefined && c.target.type !== f.targetType) return false
  if (f.since !== undefined && Date.parse(c.createdAt) < Date.parse(f.since)) return false
  if (f.until !== undefined && Date.parse(c.createdAt) >= Date.parse(f.until)) return false
  if (f.q !== undefined && !c.target.value.toLowerCase().includes(f.q.toLowerCase())) return false
  if (f.brand !== undefined) {
    const b = f.brand.toLowerCase()
    if (c.brand.name?.toLowerCase() !== b && (c.brand.id === null || String(c.brand.id).toLowerCase() !== b)) return false
  }
  return true
}

function providerError (provider: ProviderId, err: unknown): ProviderError {
  const gw = err instanceof ConnectorError ? fromConnectorError(err) : null
  if (gw !== null) {
    return { provider, status: gw.statusCode, title: titleOf(gw), detail: gw.message }
  }
  return { provider, status: 502, title: 'The provider failed', detail: `${provider}: unexpected failure` }
}

function titleOf (err: GwError): string {
  return err.code === 'GW_ERR_PROVIDER_TIMEOUT'
    ? 'The provider did not answer in time'
    : err.code === 'GW_ERR_PROVIDER_UNAVAILABLE' ? 'The provider is unavailable' : 'The provider failed'
}

/** Every provider failed: 504 when all timed out, 503 when any was unavailable, else 502. */
function allFailed (streams: Stream[]): GatewayError {
  const errs = streams.map(s => s.error)
  const kinds = errs.map(e => e instanceof ConnectorError ? e.kind : 'internal')
  const names = streams.map(s => s.provider).join(', ')
  const detail = `Every provider failed (${streams.map(s => `${s.provider}: ${s.error?.message ?? 'failed'}`).join('; ')})`
  const single = streams.length === 1 ? streams[0]!.provider : undefined
  const retryAfters = errs.map(e => e instanceof ConnectorError ? e.retryAfter : null).filter((n): n is number => n !== null)
  const extras = { ...(single === undefined ? {} : { provider: single }), ...(retryAfters.length > 0 ? { retryAfter: Math.min(...retryAfters) } : {}) }
  if (kinds.every(k => k === 'timeout')) return new GatewayError('GW_ERR_PROVIDER_TIMEOUT', detail, extras)
  if (kinds.some(k => k === 'unavailable' || k === 'rate_limited')) return new GatewayError('GW_ERR_PROVIDER_UNAVAILABLE', detail, extras)
  return new GatewayError('GW_ERR_PROVIDER_ERROR', `${detail} [${names}]`, extras)
}

function describe (err: unknown): { kind?: string, message: string } {
  if (err instanceof ConnectorError) return { kind: err.kind, message: err.message }
  return { message: err instanceof Error ? err.message : String(err) }
}
