import { Type, type Static } from 'typebox'
import { NullableRfc3339Schema, NullableString, Rfc3339Schema } from './common.js'
import { CaseSchema } from './case.js'
import { CASE_EXAMPLE } from './examples.js'
import { UnifiedStatusSchema } from './unified-status.js'

export const EVENT_TYPES = ['case.created', 'case.status_changed', 'case.updated', 'case.reopened'] as const
export type EventType = (typeof EVENT_TYPES)[number]

export const OBSERVED_VIA = ['poll', 'webhook', 'read', 'gateway'] as const
export type ObservedVia = (typeof OBSERVED_VIA)[number]

export const EVENT_EXAMPLE = {
  id: '1795997335436-0',
  type: 'case.status_changed' as const,
  occurredAt: '2026-03-02T09:58:38.122Z',
  observedAt: '2026-03-02T09:59:01.004Z',
  observedVia: 'poll' as const,
  case: CASE_EXAMPLE,
  previous: { status: 'in_progress' as const, providerStatus: 'takedown_in_progress' },
  sequence: 3
}

export const CaseEventSchema = Type.Object({
  id: Type.String({ description: 'Opaque and ordered: a later event has a later id. Pass it as `after` or `Last-Event-ID` to resume.' }),
  type: Type.Enum(EVENT_TYPES, {
    description: '`case.created`: a case the gateway had not seen (after the first silent look at a provider); `case.status_changed`: the unified ' +
      'or the vendor status moved; `case.updated`: history or mitigations changed, status unchanged; `case.reopened`: a terminal case is open again'
  }),
  occurredAt: { ...NullableRfc3339Schema, description: 'When the vendor says the change happened, null when it does not say' },
  observedAt: { ...Rfc3339Schema, description: 'When the gateway recorded the change' },
  observedVia: Type.Enum(OBSERVED_VIA, {
    description: '`poll`: the watcher\'s scheduled sync; `webhook`: a vendor push (PhishFort); `read`: a GET of the case; `gateway`: a write made through the gateway'
  }),
  case: CaseSchema,
  previous: Type.Union([Type.Object({
    status: UnifiedStatusSchema,
    providerStatus: NullableString
  }, { additionalProperties: false }), Type.Null()], { description: 'The state before this change; null on case.created' }),
  sequence: Type.Integer({ minimum: 1, description: 'Per case: 1 for the first recorded event of the case, then +1 per event, without gaps' })
}, { $id: 'CaseEvent', additionalProperties: false, examples: [EVENT_EXAMPLE] })
export type CaseEvent = Static<typeof CaseEventSchema>

export const EventPageSchema = Type.Object({
  items: Type.Array(CaseEventSchema),
  next: NullableString
}, {
  $id: 'EventPage',
  additionalProperties: false,
  description: '`next` is the `after` of the next page: the id of the last event read (also when filters skipped it), null when nothing newer exists yet',
  examples: [{ items: [EVENT_EXAMPLE], next: EVENT_EXAMPLE.id }]
})
export type EventPage = Static<typeof EventPageSchema>

const EVENT_ID = '^[0-9]{1,20}-[0-9]{1,20}$'

export const EventFilterSchema = Type.Object({
  types: Type.Optional(Type.String({ description: 'Comma-separated event types', examples: ['case.status_changed,case.reopened'] })),
  provider: Type.Optional(Type.String({ description: 'Comma-separated provider ids', examples: ['phishfort,cloudflare'] })),
  caseId: Type.Optional(Type.String({ minLength: 3, maxLength: 512, description: 'Only the events of this case' })),
  terminal: Type.Optional(Type.Boolean({ description: 'Only events whose case is (true) or is not (false) in a terminal status now' }))
}, { additionalProperties: false })

export const EventListQuerySchema = Type.Object({
  ...EventFilterSchema.properties,
  after: Type.Optional(Type.String({ pattern: EVENT_ID, description: 'Return events after this id (exclusive); omit to start at the oldest event kept' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 })
}, { additionalProperties: false })
export type EventListQuery = Static<typeof EventListQuerySchema>

export const EventStreamQuerySchema = Type.Object({
  ...EventFilterSchema.properties,
  after: Type.Optional(Type.String({ pattern: EVENT_ID, description: 'Start after this id; `Last-Event-ID` wins when both are sent. Omit both to receive new events only.' }))
}, { additionalProperties: false })
export type EventStreamQuery = Static<typeof EventStreamQuerySchema>

export const TimelineSchema = Type.Object({
  caseId: Type.String(),
  items: Type.Array(CaseEventSchema, { description: 'Oldest first' }),
  next: NullableString
}, { $id: 'Timeline', additionalProperties: false, examples: [{ caseId: CASE_EXAMPLE.id, items: [EVENT_EXAMPLE], next: null }] })
export type Timeline = Static<typeof TimelineSchema>

export const TimelineQuerySchema = Type.Object({
  after: Type.Optional(Type.String({ pattern: EVENT_ID, description: '`next` of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 })
}, { additionalProperties: false })

export { EVENT_ID as EVENT_ID_PATTERN }
