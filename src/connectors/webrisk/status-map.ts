/**
 * Web Risk submission → unified status. `providerStatus` is the operation's `metadata.state`
 * (SubmitUriMetadata.State in the public proto); the facts cover an operation that is done without a state.
 * SUCCEEDED means "added to the Safe Browsing blocklist": blocked, not removed, so `mitigated` (not terminal), like
 * PhishFort's blocklisted. CLOSED is "closed with no action taken" (Web Risk "Long-running operations"). CANCELLED
 * and a done operation whose error code is 1 are the generic long-running-operation cancel.
 * Facts: `done` 0/1, `errorCode` (0 = no error), `threats` (how many threatTypes the response names).
 */
import type { StatusTable } from '../../status/table.js'

const UNSPECIFIED = ['STATE_UNSPECIFIED']

export const webriskStatusTable: StatusTable = {
  kind: 'rules',
  rules: [
    { when: { providerStatus: ['RUNNING'] }, then: 'in_review' },
    { when: { providerStatus: ['SUCCEEDED'] }, then: 'mitigated' },
    { when: { providerStatus: ['CLOSED'] }, then: 'closed' },
    { when: { providerStatus: ['FAILED'] }, then: 'failed' },
    { when: { providerStatus: ['CANCELLED'] }, then: 'cancelled' },
    { when: { providerStatus: UNSPECIFIED, equals: { done: 0 } }, then: 'received' },
    { when: { providerStatus: UNSPECIFIED, equals: { errorCode: 1 } }, then: 'cancelled' },
    { when: { providerStatus: UNSPECIFIED, above: { errorCode: 0 } }, then: 'failed' },
    { when: { providerStatus: UNSPECIFIED, above: { threats: 0 } }, then: 'mitigated' },
    { when: { providerStatus: UNSPECIFIED }, then: 'closed' }
  ]
}
