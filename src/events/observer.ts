/** What the case services tell the events engine about (reads and the gateway's own writes); optional for them. */
import type { Clock } from '../clock.js'
import type { Case } from '../schemas/case.js'
import type { CaseObserver } from '../services/observer.js'
import { TtlCache } from '../store/ttl-cache.js'
import type { EventService } from './service.js'
import type { Watcher } from './watcher.js'

/** how long a read that found a case as this process last recorded it skips the store's compare */
export const READ_MEMO_MS = 30_000
const READ_MEMO_MAX = 10_000

/** the fields the store's fingerprint compares (domain/fingerprint.ts), as one string: equal strings, equal fingerprints */
function stateOf (c: Case): string {
  return `${c.status}\u0000${c.providerStatus ?? ''}\u0000${c.terminal ? '1' : '0'}\u0000${c.updatedAt ?? ''}`
}

/**
 * Reads of a case feed the compare-and-record step, but a case read again in the state this process last handed to
 * the store skips it for READ_MEMO_MS: the store would find the same fingerprint and record nothing, at the cost of a
 * Redis script per read. (What this can miss: another replica records a change and the case changes back within the
 * memo; the watcher's next poll still compares against the store and records it.)
 */
export function caseObserver (events: EventService, watcher: Watcher, clock: Clock): CaseObserver {
  /** case id → the state last handed to the store, for READ_MEMO_MS from the read that saw it */
  const memo = new TtlCache<string>({ max: READ_MEMO_MAX, ttlMs: READ_MEMO_MS, clock })
  return {
    // a read or a write of a case never seen before is recorded silently, except the case the gateway just created
    seen: (c, via, created) => {
      if (via !== 'read') { events.observeQuietly(c, via, !created); return }
      const state = stateOf(c)
      const now = clock.now()
      if (memo.get(c.id) === state) return
      events.observe(c, via, true).then(() => {
        memo.set(c.id, state, { at: now })
      }, (err: unknown) => { events.observeFailed(c, via, err) })
    },
    touched: (caseId) => { watcher.touchQuietly(caseId, 'gateway') }
  }
}
