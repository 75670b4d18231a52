/**
 * Netcraft takedown status → unified status, by the filter slug of the record's display string (wire.ts
 * `statusSlug`). `verified` depends on whether the takedown is authorised (`authgiven`): without authorisation
 * Netcraft waits for the customer. Terminal: resolved, stale, invalid (the statuses XSOAR's integration closes
 * incidents on); `resolved_monitoring` is not, because a resolved attack can restart.
 */
import type { StatusTable } from '../../status/table.js'

export const netcraftStatusTable: StatusTable = {
  kind: 'rules',
  rules: [
    { when: { providerStatus: ['unverified'] }, then: 'received' },
    { when: { providerStatus: ['verified'], equals: { authgiven: 1 } }, then: 'in_progress' },
    { when: { providerStatus: ['verified'] }, then: 'awaiting_customer' },
    { when: { providerStatus: ['inactive_monitoring'] }, then: 'monitoring' },
    { when: { providerStatus: ['contacted_hosting', 'contacted_upstream', 'contacted_police'] }, then: 'in_progress' },
    { when: { providerStatus: ['resolved_monitoring'] }, then: 'mitigated' },
    { when: { providerStatus: ['resolved'] }, then: 'taken_down' },
    { when: { providerStatus: ['stale'] }, then: 'closed' },
    { when: { providerStatus: ['invalid'] }, then: 'failed' }
  ]
}
