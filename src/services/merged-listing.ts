/**
 * The one driver of every merged listing (cases, detections): a signed cursor in, the providers' vendor pages read
 * concurrently (merge-walk.ts, ADR 0004), the pages read past the last item kept for the next gateway page
 * (lookahead.ts, ADR 0030), a signed cursor out. A listing says only how to read one vendor page of a provider, how
 * an item sorts and which items match.
 */
import { systemClock, type Clock } from '../clock.js'
import type { CallBudget, ConnectorContext } from '../connectors/connector.js'
import type { CancelSignal } from '../connectors/deadline.js'
import { CursorCodec } from '../domain/cursor.js'
import type { SortKey } from '../domain/merge.js'
import type { Logger } from '../logger.js'
import type { ProviderError } from '../schemas/case.js'
import type { ProviderId } from '../schemas/provider.js'
import { PageLookahead, type LookaheadOptions } from './lookahead.js'
import { mergeWalk, type WalkSource } from './merge-walk.js'
import type { ProviderSet } from './provider-set.js'

export interface MergedListingOptions {
  /** most vendor pages read per provider for one gateway page (bounds the work a filtered page can cause; default 10) */
  maxPagesPerProvider?: number
  /** ages the vendor pages a walk keeps for the next page */
  clock?: Clock
  /** how many of those pages, how long; `{ pages: 0 }` reads every page from the vendor */
  lookahead?: LookaheadOptions
}

/** One vendor page of a provider, newest first. */
export type PageReader<T> = (q: { pageToken: string | null, pageSize: number }, ctx: ConnectorContext) => Promise<{ items: T[], next: string | null }>

export interface PageRequest<T> {
  cursor: string | undefined
  limit: number
  /** the filters the cursor is bound to (a cursor of other filters is a 400) */
  fingerprint: string
  /** the providers asked for, in listing order */
  providers: readonly ProviderId[]
  /** how to read a provider's pages; null: the provider has none to list */
  readerOf: (provider: ProviderId) => PageReader<T> | null
  /** the gateway-side filter (vendor filters are only an optimisation) */
  accept: (item: T) => boolean
  /** nothing older than this can match: a provider past it is done */
  sinceMs: number | null
  /** bulk reads (the export): vendor reads wait for room in these budgets instead of failing (ConnectorContext `budget`) */
  pace?: ListingPace
}

/**
 * A bulk walk's pacing: each provider's reads also fit in `budgets[provider]` (a share of its outbound budget),
 * waiting for room up to `waitMs` beyond the provider's timeout, so the walk slows down instead of spending the
 * whole vendor budget or failing when it is spent.
 */
export interface ListingPace {
  budgets: Partial<Record<ProviderId, CallBudget>>
  waitMs: number
}

export interface MergedPage<T> {
  items: T[]
  nextCursor: string | null
  partial: boolean
  errors: ProviderError[]
}

export class MergedListing<T> {
  readonly #providers: ProviderSet
  readonly #cursors: CursorCodec
  readonly #keyOf: (item: T) => SortKey
  readonly #maxPages: number
  readonly #lookahead: PageLookahead

  constructor (providers: ProviderSet, secret: string, keyOf: (item: T) => SortKey, opts: MergedListingOptions = {}) {
    this.#providers = providers
    this.#cursors = new CursorCodec(secret)
    this.#keyOf = keyOf
    this.#maxPages = opts.maxPagesPerProvider ?? 10
    this.#lookahead = new PageLookahead(opts.clock ?? systemClock, opts.lookahead)
  }

  /** One gateway page; throws the problem of the walk when every provider with items left failed. */
  async page (req: PageRequest<T>, signal: CancelSignal, log: Logger): Promise<MergedPage<T>> {
    const state = this.#cursors.start(req.cursor, req.fingerprint, req.providers, req.limit)
    // the page the previous gateway page read past its last item comes from memory, not from the vendor again
    const lookahead = this.#lookahead.walk<T>(req.fingerprint)
    const sources: Array<WalkSource<T>> = []
    for (const provider of req.providers) {
      const read = req.readerOf(provider)
      const pos = state.p[provider]
      if (read === null || pos === undefined) continue
      sources.push(lookahead.source({
        provider,
        pos,
        fetch: async (pageToken, pageSize) => {
          const budget = req.pace?.budgets[provider]
          const fn = async (ctx: ConnectorContext): Promise<{ items: T[], next: string | null }> => await read({ pageToken, pageSize }, ctx)
          if (budget === undefined) return await this.#providers.withContext(provider, signal, log, fn)
          return await this.#providers.withContext(provider, signal, log, fn, this.#providers.timeoutOf(provider) + (req.pace?.waitMs ?? 0), budget)
        }
      }))
    }
    const walk = await mergeWalk<T>({
      sources,
      after: state.k,
      limit: req.limit,
      maxPagesPerProvider: this.#maxPages,
      keyOf: this.#keyOf,
      accept: req.accept,
      sinceMs: req.sinceMs,
      onError: (provider, err) => this.#providers.recordError(provider, err),
      log
    })
    const nextCursor = this.#cursors.after(state, walk)
    if (walk.allFailed !== null) throw walk.allFailed(nextCursor)
    lookahead.keep(walk)
    return { items: walk.items, nextCursor, partial: walk.errors.length > 0, errors: walk.errors }
  }
}
