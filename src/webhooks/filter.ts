/** Which events an endpoint receives: its event types (empty = every case event) and its case filter. */
import type { EndpointFilter } from './store.js'

/** The event types an endpoint can subscribe to. `webhook.test` is only ever sent by POST …/test. */
export const CASE_EVENT_TYPES = ['case.created', 'case.status_changed', 'case.updated', 'case.reopened'] as const
export const ENDPOINT_EVENT_TYPES = [...CASE_EVENT_TYPES, 'endpoint.disabled'] as const

/** The part of an event the filter reads (the case event model of the event log). */
export interface FilterableEvent {
  type: string
  case?: { provider: string, status: string, terminal: boolean, target: { type: string } } | null
}

export function matches (ep: { eventTypes: readonly string[], filter: EndpointFilter }, event: FilterableEvent): boolean {
  if (ep.eventTypes.length === 0 ? !(CASE_EVENT_TYPES as readonly string[]).includes(event.type) : !ep.eventTypes.includes(event.type)) return false
  const f = ep.filter as { providers?: readonly string[], statuses?: readonly string[], targetTypes?: readonly string[], terminalOnly?: boolean }
  const c = event.case
  // the case filter applies to case events; endpoint.disabled carries no case
  if (c === undefined || c === null) return true
  if (f.providers !== undefined && !f.providers.includes(c.provider)) return false
  if (f.statuses !== undefined && !f.statuses.includes(c.status)) return false
  if (f.targetTypes !== undefined && !f.targetTypes.includes(c.target.type)) return false
  return f.terminalOnly !== true || c.terminal
}
