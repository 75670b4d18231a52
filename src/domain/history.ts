/**
 * A case's history from two sources: what the vendor reports (`source: 'provider'`) and what the gateway recorded
 * itself (`source: 'gateway'`: its writes, the status changes it saw), for vendors that keep no history (their module's
 * `historyKept: false`: the vendor shows only the current state, so a cancel replaces the earlier entry). Pure: the caller brings both lists.
 */
import type { HistoryEntry } from '../schemas/case.js'
import type { CaseEvent, EventType } from '../schemas/event.js'

/** The events that move a case's status, and what its history says of each. */
const STEP_MESSAGES: Partial<Record<EventType, string>> = {
  'case.created': 'case created (observed by the gateway)',
  'case.status_changed': 'status changed (observed by the gateway)',
  'case.reopened': 'case reopened (observed by the gateway)'
}

/** `case.updated` keeps the unified status: a step of the history only when the vendor status moved within it. */
function messageOf (e: CaseEvent): string | undefined {
  if (e.type !== 'case.updated') return STEP_MESSAGES[e.type]
  return e.previous !== null && e.previous.providerStatus !== e.case.providerStatus ? STEP_MESSAGES['case.status_changed'] : undefined
}

/**
 * The gateway's record of a case as history entries, oldest first: one per recorded status change (unified or
 * vendor status), dated by the vendor's time of the change when the event has it, else by when the gateway observed it.
 */
export function gatewayHistory (timeline: readonly CaseEvent[]): HistoryEntry[] {
  return timeline.flatMap(e => {
    const message = messageOf(e)
    return message === undefined
      ? []
      : [{ at: e.occurredAt ?? e.observedAt, status: e.case.status, providerStatus: e.case.providerStatus, message, source: 'gateway' as const }]
  })
}

/**
 * Both lists in one, oldest first. Equal timestamps keep the provider's entry first, and each list its own order. A
 * gateway entry that repeats a provider entry (same instant, same status) is dropped: the vendor's word is kept.
 * Entries without a readable `at` go last, in their order.
 */
export function mergeHistory (provider: readonly HistoryEntry[], gateway: readonly HistoryEntry[]): HistoryEntry[] {
  const seen = new Set(provider.map(e => `${Date.parse(e.at)}|${e.status ?? ''}`))
  const fromGateway = gateway.filter(e => !seen.has(`${Date.parse(e.at)}|${e.status ?? ''}`))
  const all = [...provider.map(e => ({ e, side: 0 })), ...fromGateway.map(e => ({ e, side: 1 }))]
    .map((x, index) => ({ ...x, index, ms: Date.parse(x.e.at) }))
  return all
    .sort((a, b) => (Number.isNaN(a.ms) ? Infinity : a.ms) - (Number.isNaN(b.ms) ? Infinity : b.ms) || a.side - b.side || a.index - b.index)
    .map(x => x.e)
}
