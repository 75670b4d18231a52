/** What the case services tell the events engine about (reads and the gateway's own writes); optional for them. */
import type { Case } from '../schemas/case.js'
import type { EventService } from './service.js'
import type { Watcher } from './watcher.js'

export interface CaseObserver {
  /** a case as the vendor just returned it: `read` (GET /v1/cases/{id}) or `gateway` (a write answered with the case) */
  seen: (c: Case, via: 'read' | 'gateway', created: boolean) => void
  /** a write changed this case without returning it: re-read it in the background */
  touched: (caseId: string) => void
}

export function caseObserver (events: EventService, watcher: Watcher): CaseObserver {
  return {
    // a read or a write of a case never seen before is recorded silently, except the case the gateway just created
    seen: (c, via, created) => { events.observeQuietly(c, via, !created) },
    touched: (caseId) => { watcher.touchQuietly(caseId, 'gateway') }
  }
}
