import type { Case, CaseDetail } from '../schemas/case.js'
import type { CancelSignal } from '../connectors/deadline.js'

/**
 * A feature's own block on the cases the API answers with (listing pages, case detail, exports): it reads what it
 * keeps for those cases (one batched store read per page) and sets its fields in place. A view that cannot answer
 * sets its block to what it knows and never fails the read.
 */
export interface CaseView {
  readonly name: string
  page?: (cases: Case[], signal: CancelSignal) => Promise<void>
  detail?: (c: CaseDetail, signal: CancelSignal) => Promise<void>
}
