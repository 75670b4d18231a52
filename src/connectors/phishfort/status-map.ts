/**
 * PhishFort status → unified status (the unified statuses: README 'Cases', openapi/openapi.json). Data only; the status engine reads it.
 * `normalise: true` makes the deprecated `statusVerbose` labels ("Pending Review", "Pre-Weaponised") hit the same rows
 * as the snake_case values.
 */
import type { UnifiedStatus } from '../../schemas/unified-status.js'
import type { StatusTable } from '../../status/table.js'
import type { PhishfortStatus } from './wire.js'

/** Every documented status, exhaustive at compile time. */
export const PHISHFORT_STATUS_MAP = {
  pending_review: 'received',
  case_building: 'in_review',
  approval_required: 'awaiting_customer',
  action_required: 'awaiting_customer',
  takedown_ready: 'in_progress',
  takedown_in_progress: 'in_progress',
  pre_weaponised: 'monitoring',
  blocklisted: 'mitigated',
  takedown_success: 'taken_down',
  takedown_attempt_failed: 'failed',
  closed: 'closed'
} as const satisfies Record<PhishfortStatus, UnifiedStatus>

/**
 * Legacy `statusVerbose` labels whose words differ from any status value (PhishFort Client API docs, 'Incidents'
 * page; the filter labels of a public Webex/SOAR report script).
 * The other labels ("Case Building", "Blocklisted", ...) normalise onto the rows above.
 */
export const PHISHFORT_LEGACY_LABELS = {
  'Takedown Failed': 'failed',
  'Takedown Pending': 'in_progress'
} as const satisfies Record<string, UnifiedStatus>

export const phishfortStatusTable: StatusTable = {
  kind: 'lookup',
  normalise: true,
  entries: { ...PHISHFORT_STATUS_MAP, ...PHISHFORT_LEGACY_LABELS }
}
