/**
 * The vendor pages a listing walk read but did not hand out, kept for the next gateway page (ADR 0030).
 *
 * The merge (merge-walk.ts, ADR 0004) hands out a provider's last buffered case only after reading that provider's next
 * page (a tie at the same time may sit on it), and the cursor then points at that next page with nothing of it handed
 * out: without this, the next gateway page reads the same vendor page again and a walk costs about two vendor calls a
 * page. A page is kept only when the next cursor points at it, under (provider, filter fingerprint, page size, token),
 * for a short time, and taken out on use. A first page (token null) always comes from the vendor.
 */
import type { Clock } from '../clock.js'
import type { ProviderId } from '../schemas/provider.js'
import { TtlCache } from '../store/ttl-cache.js'
import type { WalkResult, WalkSource } from './merge-walk.js'

/** pages held at most (the oldest go first) */
export const LOOKAHEAD_PAGES = 64
/** how old (from the vendor read) a held page may be when the next gateway page takes it */
export const LOOKAHEAD_TTL_MS = 30_000

export interface LookaheadOptions {
  /** 0 keeps nothing: every page is read from the vendor */
  pages?: number
  ttlMs?: number
}

interface VendorPage { items: readonly unknown[], next: string | null }
interface Held { page: VendorPage, readAt: number }

export class PageLookahead {
  readonly #held: TtlCache<Held>
  readonly #clock: Clock

  constructor (clock: Clock, opts: LookaheadOptions = {}) {
    this.#clock = clock
    this.#held = new TtlCache({ max: opts.pages ?? LOOKAHEAD_PAGES, ttlMs: opts.ttlMs ?? LOOKAHEAD_TTL_MS, clock })
  }

  /** pages held now (expired ones included until they are pushed out or asked for) */
  get size (): number { return this.#held.size }

  /** One gateway page's walk over the filters `fingerprint` stands for. */
  walk<T> (fingerprint: string): LookaheadWalk<T> {
    return new LookaheadWalk<T>(this, fingerprint)
  }

  now (): number { return this.#clock.now() }

  /** the page held under `key`, removed; undefined when none or too old */
  take (key: string): Held | undefined {
    return this.#held.take(key)
  }

  /** holds a page until it is too old, counted from its vendor read */
  put (key: string, held: Held): void {
    this.#held.set(key, held, { at: held.readAt })
  }
}

/** The sources of one walk, wrapped: a held page replaces the vendor call; `keep` holds what the next cursor points at. */
export class LookaheadWalk<T> {
  /** every page this walk got, by key, with the time of its vendor read */
  readonly #read = new Map<string, Held>()

  constructor (private readonly pages: PageLookahead, private readonly fingerprint: string) {}

  source (s: WalkSource<T>): WalkSource<T> {
    return {
      provider: s.provider,
      pos: s.pos,
      fetch: async (token, size) => {
        const key = this.#key(s.provider, size, token)
        let held = key === null ? undefined : this.pages.take(key)
        if (held === undefined) {
          const readAt = this.pages.now()
          held = { page: await s.fetch(token, size), readAt }
        }
        if (key !== null) this.#read.set(key, held)
        return held.page as { items: T[], next: string | null }
      }
    }
  }

  /**
   * After the walk: hold the page each provider's next position points at, when this walk read it. A provider that
   * failed during the walk keeps nothing (its retry starts at the vendor).
   */
  keep (walk: Pick<WalkResult<T>, 'next' | 'errors'>): void {
    if (walk.next === null) return
    const failed = new Set(walk.errors.map(e => e.provider))
    for (const [provider, pos] of Object.entries(walk.next)) {
      if (pos.d || failed.has(provider as ProviderId)) continue
      const key = this.#key(provider, pos.s, pos.t)
      const held = key === null ? undefined : this.#read.get(key)
      // the original read time goes with it: a page handed on unused from walk to walk still ages from its vendor read
      if (key !== null && held !== undefined) this.pages.put(key, held)
    }
  }

  /** null for a first page: those are never held */
  #key (provider: string, size: number, token: string | null): string | null {
    return token === null ? null : JSON.stringify([provider, this.fingerprint, size, token])
  }
}
