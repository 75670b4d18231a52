/**
 * Which events an endpoint receives: its event types (empty = every case event) and its case filter; an event of the
 * gateway itself (no case) only reaches the endpoints of the key it belongs to, and admin keys' endpoints. A target
 * event (verified outcomes: about a case, of no key) reaches every endpoint that subscribed to its type and whose
 * provider and target-type filters its case passes (the case's status is not in it: a status filter lets it through).
 */
import { CASE_EVENT_TYPES } from '../../schemas/event.js'
import type { EndpointFilter } from './store.js'

/** The part of an event the filter reads (the event model of the event log). */
export interface FilterableEvent {
  type: string
  case?: { provider: string, status: string, terminal: boolean, target: { type: string } } | null
  /** events of the gateway itself: the key they belong to, and for endpoint.disabled the endpoint it is about */
  data?: { owner?: string, endpoint?: { id: string }, caseId?: string, provider?: string, target?: { type: string } }
}

type Receiver = { id: string, owner: string, eventTypes: readonly string[], filter: EndpointFilter }

export function matches (ep: Receiver, event: FilterableEvent, admins: ReadonlySet<string>): boolean {
  if (ep.eventTypes.length === 0 ? !(CASE_EVENT_TYPES as readonly string[]).includes(event.type) : !ep.eventTypes.includes(event.type)) return false
  const f = ep.filter as { providers?: readonly string[], statuses?: readonly string[], targetTypes?: readonly string[], terminalOnly?: boolean }
  const c = event.case
  // the case filter applies to case events; an event of the gateway itself goes to its key's (or an admin key's)
  // endpoints, never to the endpoint it is about
  if ((c === undefined || c === null) && event.data?.caseId !== undefined) {
    const d = event.data
    return (f.providers === undefined || f.providers.includes(d.provider ?? '')) && (f.targetTypes === undefined || f.targetTypes.includes(d.target?.type ?? ''))
  }
  if (c === undefined || c === null) return event.data?.endpoint?.id !== ep.id && (event.data?.owner === ep.owner || admins.has(ep.owner))
  if (f.providers !== undefined && !f.providers.includes(c.provider)) return false
  if (f.statuses !== undefined && !f.statuses.includes(c.status)) return false
  if (f.targetTypes !== undefined && !f.targetTypes.includes(c.target.type)) return false
  return f.terminalOnly !== true || c.terminal
}
