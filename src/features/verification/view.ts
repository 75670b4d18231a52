/**
 * The verification block on the cases the API answers with (listing pages, case detail, exports): one batched read
 * of the verification store per page (MGET under Redis). A case the gateway has no record for, including every case
 * while verification is off, says `not_checked`; a store that does not answer leaves the page's blocks `not_checked`
 * and logs a warning rather than failing the read.
 */
import type { Logger } from '../../logger.js'
import type { Case, CaseDetail } from '../../schemas/case.js'
import { NOT_CHECKED, type VerificationView } from '../../schemas/verification.js'
import type { CaseView } from '../../services/case-views.js'
import type { Verification } from './lifecycle.js'
import type { VerificationStore } from './store.js'

const iso = (t: number | null): string | null => t === null ? null : new Date(t).toISOString()

/** the block of every case without a record: one frozen object, not one per row of a page or an export */
const UNCHECKED: VerificationView = NOT_CHECKED

export function verificationView (v: Verification | null): VerificationView {
  if (v === null) return UNCHECKED
  return {
    state: v.state,
    firstSeenLiveAt: iso(v.firstSeenLiveAt),
    lastSeenLiveAt: iso(v.lastSeenLiveAt),
    downSince: iso(v.downSince),
    verifiedDownAt: iso(v.verifiedDownAt),
    lastCheckedAt: iso(v.lastCheckedAt),
    nextCheckAt: iso(v.nextCheckAt),
    checks: v.checks,
    relatedCaseIds: v.relatedCaseIds ?? []
  }
}

export function verificationCaseView (deps: { store: VerificationStore, log: Logger }): CaseView {
  const { store, log } = deps
  const read = async (cases: Array<Case | CaseDetail>): Promise<void> => {
    let records: Array<Verification | null>
    try {
      records = await store.getMany(cases.map(c => c.id))
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'verification: the store did not answer; the page\'s verification blocks say not_checked')
      records = cases.map(() => null)
    }
    cases.forEach((c, i) => { c.verification = verificationView(records[i] ?? null) })
  }
  return { name: 'verification', page: read, detail: async c => { await read([c]) } }
}
