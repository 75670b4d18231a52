/**
 * Cloudflare abuse reports have a COMPUTED unified status: the report `status` (accepted | in_review) plus the
 * report's `mitigation_summary` counts and the types of its active mitigations. DATA only: the engine evaluates the
 * rules in order, first match wins. Facts the connector supplies (see mapper.ts `statusFacts`):
 * - activeCount, pendingCount, inReviewCount: mitigation_summary.active_count / pending_count / in_review_count
 * - activeMitigationTypes: the `type` of every mitigation whose `status` is `active`
 */
import type { StatusTable } from '../../status/table.js'

/** Mitigation types that remove or suspend the reported thing (→ taken_down); `*` matches by prefix. */
export const REMOVAL_MITIGATION_TYPES = [
  'account_suspend',
  'user_suspend',
  'legal_block',
  'network_block',
  'registrar_freeze',
  'registrar_parking',
  'r2_takedown_*',
  'stream_block_account',
  'workers_takedown_by_zone_id'
] as const

/** Whether a mitigation type removes the reported thing (the reference list and the analytics milestones read it). */
export function isRemoval (type: string): boolean {
  return REMOVAL_MITIGATION_TYPES.some(v => v.endsWith('*') ? type.startsWith(v.slice(0, -1)) : type === v)
}

export const cloudflareStatusTable: StatusTable = {
  kind: 'rules',
  rules: [
    { when: { providerStatus: ['in_review'] }, then: 'in_review' },
    { when: { providerStatus: ['accepted'], includesAny: { fact: 'activeMitigationTypes', values: REMOVAL_MITIGATION_TYPES } }, then: 'taken_down' },
    { when: { providerStatus: ['accepted'], above: { activeCount: 0 } }, then: 'mitigated' },
    { when: { providerStatus: ['accepted'], above: { pendingCount: 0 } }, then: 'in_progress' },
    { when: { providerStatus: ['accepted'], above: { inReviewCount: 0 } }, then: 'in_review' },
    { when: { providerStatus: ['accepted'] }, then: 'closed' }
  ]
}
