/**
 * The cross-provider walk behind every merged listing (cases, detections): concurrent vendor pages, a k-way merge
 * newest first with ties by id, and the per-provider positions the next cursor carries. ADR 0004 explains why a
 * candidate is handed out only when no provider can still hold an earlier one.
 */
import { ConnectorError } from '../connectors/connector.js'
import type { CursorState, ProviderPosition } from '../domain/cursor.js'
import { compareKeys, type SortKey } from '../domain/merge.js'
import { fromConnectorError, GatewayError } from '../domain/problems.js'
import type { Logger } from '../logger.js'
import type { ProviderError } from '../schemas/case.js'
import type { ProviderId } from '../schemas/provider.js'

export interface WalkSource<T> {
  provider: ProviderId
  pos: ProviderPosition
  /** one vendor page, newest first */
  fetch (token: string | null, pageSize: number): Promise<{ items: T[], next: string | null }>
}

export interface WalkOptions<T> {
  sources: Array<WalkSource<T>>
  /** the last item handed out by the previous page */
  after: SortKey | null
  limit: number
  maxPagesPerProvider: number
  keyOf: (item: T) => SortKey
  /** the gateway-side filter (vendor filters are only an optimisation) */
  accept: (item: T) => boolean
  /** nothing older than this can match: a provider past it is done */
  sinceMs: number | null
  onError: (provider: ProviderId, err: unknown) => void
  log: Logger
}

export interface WalkResult<T> {
  items: T[]
  /** the positions for the next cursor (null when the walk is complete) */
  next: CursorState['p'] | null
  last: SortKey | null
  errors: ProviderError[]
  /**
   * Nothing is left but failing providers (no item on this page, every other provider done): throw the problem this
   * returns, given the cursor to retry the page with. A walk then ends instead of handing out empty pages forever.
   */
  allFailed: ((retryCursor: string | null) => GatewayError) | null
}

interface Buffered<T> { item: T, key: SortKey, page: number }

class Stream<T> {
  readonly buffer: Array<Buffered<T>> = []
  /** vendor page tokens fetched in this request, in vendor order */
  readonly pages: Array<string | null> = []
  nextToken: string | null
  exhausted: boolean
  /** smallest sort time seen in raw vendor items: anything not fetched yet is at or below it */
  lowWater = Number.POSITIVE_INFINITY
  error: Error | null = null
  fetched = 0

  constructor (readonly source: WalkSource<T>) {
    this.nextToken = source.pos.t
    this.exhausted = source.pos.d
  }

  get live (): boolean { return this.error === null }
}

export async function mergeWalk<T> (o: WalkOptions<T>): Promise<WalkResult<T>> {
  const streams = o.sources.map(s => new Stream(s))

  const fetchPage = async (s: Stream<T>): Promise<void> => {
    const token = s.nextToken
    const pageNo = s.pages.length
    s.fetched++
    try {
      const page = await s.source.fetch(token, s.source.pos.s)
      s.pages.push(token)
      for (const item of page.items) {
        const key = o.keyOf(item)
        if (key[0] < s.lowWater) s.lowWater = key[0]
        if (o.after !== null && compareKeys(key, o.after) <= 0) continue
        if (!o.accept(item)) continue
        s.buffer.push({ item, key, page: pageNo })
      }
      // a vendor page comes newest first: the buffer is usually in order already, and sort() copies it to find out
      if (!inOrder(s.buffer)) s.buffer.sort((a, b) => compareKeys(a.key, b.key))
      s.nextToken = page.next
      if (page.next === null || (o.sinceMs !== null && s.lowWater < o.sinceMs)) s.exhausted = true
    } catch (err) {
      if (err instanceof GatewayError) throw err // a bad position inside a signed cursor is not the provider's fault
      s.error = err instanceof Error ? err : new Error(String(err))
      o.onError(s.source.provider, err)
      o.log.warn({ provider: s.source.provider, kind: err instanceof ConnectorError ? err.kind : undefined, err: s.error.message }, 'provider failed during a listing')
    }
  }

  // a provider blocks the candidate while it may still hold unread items that sort before (or level with) it
  const blocks = (s: Stream<T>, candidate: Buffered<T> | undefined): boolean =>
    s.live && !s.exhausted && (candidate === undefined || candidate.key[0] <= s.lowWater)

  const items: T[] = []
  let last: SortKey | null = o.after
  for (;;) {
    let best: Stream<T> | null = null
    for (const s of streams) {
      const h = s.live ? s.buffer[0] : undefined
      if (h !== undefined && (best === null || compareKeys(h.key, best.buffer[0]!.key) < 0)) best = s
    }
    const candidate = best?.buffer[0]
    // asked without building the list of blockers, which only a fetch needs (50 items handed out, a fetch or two)
    let blocked = false
    for (const s of streams) if (blocks(s, candidate)) { blocked = true; break }
    if (!blocked) {
      if (candidate === undefined || best === null) break
      best.buffer.shift()
      items.push(candidate.item)
      last = candidate.key
      if (items.length >= o.limit) break
      continue
    }
    const fetchable = streams.filter(s => blocks(s, candidate) && s.fetched < o.maxPagesPerProvider)
    if (fetchable.length === 0) break
    await Promise.all(fetchable.map(fetchPage))
  }

  const errors: ProviderError[] = []
  const next: CursorState['p'] = {}
  let more = false
  for (const s of streams) {
    const p = s.source.provider
    const size = s.source.pos.s
    if (!s.live) {
      next[p] = s.source.pos // retried from where it stood on the next page
      more = true
      errors.push(providerError(p, s.error))
      continue
    }
    const firstUnconsumed = s.buffer.reduce((min, b) => Math.min(min, b.page), Number.POSITIVE_INFINITY)
    if (Number.isFinite(firstUnconsumed)) {
      next[p] = { t: s.pages[firstUnconsumed] ?? null, s: size, d: false }
      more = true
    } else if (s.exhausted) {
      next[p] = { t: null, s: size, d: true }
    } else {
      next[p] = { t: s.nextToken, s: size, d: false }
      more = true
    }
  }
  const failed = streams.filter(s => !s.live)
  const nothingElse = items.length === 0 && streams.every(s => !s.live || (s.exhausted && s.buffer.length === 0))
  return {
    items,
    next: more ? next : null,
    last,
    errors,
    allFailed: failed.length > 0 && nothingElse ? retryCursor => allFailed(failed, retryCursor) : null
  }
}

function inOrder<T> (buffer: ReadonlyArray<Buffered<T>>): boolean {
  for (let i = 1; i < buffer.length; i++) if (compareKeys(buffer[i - 1]!.key, buffer[i]!.key) > 0) return false
  return true
}

function providerError (provider: ProviderId, err: unknown): ProviderError {
  if (err instanceof ConnectorError) {
    const gw = fromConnectorError(err)
    const title = gw.code === 'GW_ERR_PROVIDER_TIMEOUT'
      ? 'The provider did not answer in time'
      : gw.code === 'GW_ERR_PROVIDER_UNAVAILABLE' ? 'The provider is unavailable' : 'The provider failed'
    return { provider, status: gw.statusCode, title, detail: gw.message }
  }
  return { provider, status: 502, title: 'The provider failed', detail: `${provider}: unexpected failure` }
}

/** Every provider left failed: 504 when all timed out, 503 when any was unavailable, else 502. */
function allFailed<T> (streams: Array<Stream<T>>, retryCursor: string | null): GatewayError {
  const errs = streams.map(s => s.error)
  const kinds = errs.map(e => e instanceof ConnectorError ? e.kind : 'internal')
  const detail = `Every provider with items left failed (${streams.map(s => `${s.source.provider}: ${s.error?.message ?? 'failed'}`).join('; ')}); ` +
    (retryCursor === null ? 'try again later' : 'retry this page later with retryCursor')
  const single = streams.length === 1 ? streams[0]!.source.provider : undefined
  const retryAfters = errs.map(e => e instanceof ConnectorError ? e.retryAfter : null).filter((n): n is number => n !== null)
  const extras = {
    ...(single === undefined ? {} : { provider: single }),
    ...(retryAfters.length > 0 ? { retryAfter: Math.min(...retryAfters) } : {}),
    ...(retryCursor === null ? {} : { retryCursor })
  }
  if (kinds.every(k => k === 'timeout')) return new GatewayError('GW_ERR_PROVIDER_TIMEOUT', detail, extras)
  if (kinds.some(k => k === 'unavailable' || k === 'rate_limited')) return new GatewayError('GW_ERR_PROVIDER_UNAVAILABLE', detail, extras)
  return new GatewayError('GW_ERR_PROVIDER_ERROR', detail, extras)
}
