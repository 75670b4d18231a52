import type { StatusTable } from '../../status/table.js'

/**
 * DATA ONLY. BforeAI status names come from `GET /v2/takedown/statuses` at run time (BforeAI API docs, reference-data endpoints: the values are
 * [?]), so this is a normalised lookup (case- and separator-insensitive) over plausible names.
 * Anything else maps to `unknown`. `cancellation requested` stays open (in_progress): the vendor says a cancellation
 * "cannot be guaranteed" (BforeAI API docs, POST /v2/takedown/{takedown_id}/cancel), so the takedown is still running until the vendor says Cancelled.
 */
export const bforeaiStatusTable: StatusTable = {
  kind: 'lookup',
  normalise: true,
  entries: {
    // received: submitted, not yet looked at
    pending: 'received',
    new: 'received',
    open: 'received',
    requested: 'received',
    submitted: 'received',
    received: 'received',
    // in_review
    'in review': 'in_review',
    'under review': 'in_review',
    reviewing: 'in_review',
    // awaiting_customer
    'awaiting approval': 'awaiting_customer',
    'awaiting customer': 'awaiting_customer',
    'pending approval': 'awaiting_customer',
    // monitoring
    monitoring: 'monitoring',
    // in_progress
    'in progress': 'in_progress',
    processing: 'in_progress',
    approved: 'in_progress',
    'submitted to registrar': 'in_progress',
    'submitted to host': 'in_progress',
    'submitted to hosting provider': 'in_progress',
    'submitted to platform': 'in_progress',
    'cancellation requested': 'in_progress',
    // taken_down
    'taken down': 'taken_down',
    completed: 'taken_down',
    resolved: 'taken_down',
    successful: 'taken_down',
    // failed
    failed: 'failed',
    rejected: 'failed',
    declined: 'failed',
    // cancelled
    cancelled: 'cancelled',
    canceled: 'cancelled',
    // closed
    closed: 'closed'
  }
}
