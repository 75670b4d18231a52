/**
 * What the case services tell whoever watches cases (the events engine, events/observer.ts) about reads and the
 * gateway's own writes: a port, so the services know nothing of the events feature above them.
 */
import type { Case } from '../schemas/case.js'

export interface CaseObserver {
  /** a case as the vendor just returned it: `read` (GET /v1/cases/{id}) or `gateway` (a write answered with the case) */
  seen: (c: Case, via: 'read' | 'gateway', created: boolean) => void
  /** a write changed this case without returning it: re-read it in the background */
  touched: (caseId: string) => void
}
