import { Type, type Static } from 'typebox'
import { NullableRfc3339Schema, NullableString, Rfc3339Schema, TargetTypeSchema } from './common.js'
import { BatchSchema } from './batch.js'
import { CaseSchema } from './case.js'
import { CASE_EXAMPLE, SECOND_CASE_EXAMPLE, PROVIDER_LIST_EXAMPLE } from './examples.js'
import { SLA_EVENT_TYPES, SlaEventDataSchema, type SlaEventData, type SlaEventType } from './sla.js'
import { UnifiedStatusSchema } from './unified-status.js'

export const CASE_EVENT_TYPES = ['case.created', 'case.status_changed', 'case.updated', 'case.reopened'] as const
export type CaseEventType = (typeof CASE_EVENT_TYPES)[number]
/** what the gateway's own probes of a case's target found (verified outcomes): `case` is null, `data.caseId` names the case */
export const TARGET_EVENT_TYPES = ['target.verified_down', 'target.reappeared', 'target.disputed', 'target.stayed_down'] as const
export type TargetEventType = (typeof TARGET_EVENT_TYPES)[number]
/** events of the gateway itself, not of a case: `case` is null, `data` says what happened */
/** what the service levels did about a case (README 'Service levels'): `case` is null, `data.caseId` names the case */
export { SLA_EVENT_TYPES, type SlaEventType }
export const GATEWAY_EVENT_TYPES = ['batch.completed', 'endpoint.disabled', ...TARGET_EVENT_TYPES, ...SLA_EVENT_TYPES] as const
export const EVENT_TYPES = [...CASE_EVENT_TYPES, ...GATEWAY_EVENT_TYPES] as const
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
  sequence: 3,
  epoch: 'mb3k2q1c-4f9a1e'
}

export const CaseEventSchema = Type.Object({
  id: Type.String({ description: 'Opaque and ordered: a later event has a later id. Pass it as `after` or `Last-Event-ID` to resume.' }),
  type: Type.Enum(CASE_EVENT_TYPES, {
    description: '`case.created`: a case the gateway had not seen (after the first silent look at a provider); `case.status_changed`: the unified ' +
      'or the vendor status moved; `case.updated`: history or mitigations changed, status unchanged; `case.reopened`: a terminal case is open again'
  }),
  occurredAt: { ...NullableRfc3339Schema, description: 'When the vendor says the change happened, null when it does not say' },
  observedAt: { ...Rfc3339Schema, description: 'When the gateway recorded the change' },
  observedVia: Type.Enum(OBSERVED_VIA, {
    description: '`poll`: the watcher\'s scheduled sync; `webhook`: a vendor\'s push (the providers that send webhooks); `read`: a GET of the case; `gateway`: a write made through the gateway'
  }),
  case: CaseSchema,
  previous: Type.Union([Type.Object({
    status: UnifiedStatusSchema,
    providerStatus: NullableString
  }, { additionalProperties: false }), Type.Null()], { description: 'The state before this change; null on case.created' }),
  sequence: Type.Integer({ minimum: 1, description: 'Per case and epoch: 1 for the first recorded event of the case, then +1 per event, without gaps' }),
  epoch: Type.String({
    maxLength: 64,
    description: 'The store epoch the event was recorded in: a new one begins when the gateway finds its Redis restarted empty (data lost), ' +
      'and sequences start again. `(epoch, case.id, sequence)` is unique: a consumer deduplicates on it, and a new epoch tells a reset from a duplicate'
  }),
  gap: Type.Optional(Type.Literal(true, {
    description: 'Present (true) on the first status change of a case recorded after the gateway could not record for a while (its store was down): ' +
      'the case may have gone through steps in between that have no event; `previous` is the last state recorded before'
  }))
}, { $id: 'CaseEvent', additionalProperties: false, examples: [EVENT_EXAMPLE] })
export type CaseEvent = Static<typeof CaseEventSchema>

const BATCH = BatchSchema.properties
export const BatchCompletedDataSchema = Type.Object({
  batch: Type.Object({
    id: BATCH.id,
    status: BATCH.status,
    total: BATCH.total,
    counts: BATCH.counts,
    createdAt: BATCH.createdAt,
    completedAt: BATCH.completedAt,
    link: Type.String({ description: 'GET it for the batch, then its items' })
  }, { additionalProperties: false }),
  owner: Type.String({ description: 'Name of the gateway key that submitted the batch' })
}, { additionalProperties: false })
export type BatchCompletedData = Static<typeof BatchCompletedDataSchema>

export const EndpointDisabledDataSchema = Type.Object({
  endpoint: Type.Object({
    id: Type.String(),
    host: Type.String({ description: 'Host of the endpoint URL (the path may hold a token: it is not repeated here)' }),
    reason: Type.String({ description: 'The receiver answered 410 Gone, or it failed for too long' }),
    disabledAt: Rfc3339Schema
  }, { additionalProperties: false }),
  owner: Type.String({ description: 'Name of the gateway key that registered the endpoint' })
}, { additionalProperties: false })
export type EndpointDisabledData = Static<typeof EndpointDisabledDataSchema>

const BATCH_EVENT_EXAMPLE = {
  id: '1795997400112-0',
  type: 'batch.completed' as const,
  occurredAt: '2026-03-02T10:00:00.112Z',
  observedAt: '2026-03-02T10:00:00.112Z',
  observedVia: 'gateway' as const,
  case: null,
  data: {
    batch: {
      id: 'b_3q2v5R1nT8mYc0aZk4xW7e',
      status: 'completed',
      total: 3,
      counts: { created: 2, duplicate: 1, failed: 0, cancelled: 0, pending: 0 },
      createdAt: '2026-03-02T09:59:58.000Z',
      completedAt: '2026-03-02T10:00:00.112Z',
      link: '/v1/batches/b_3q2v5R1nT8mYc0aZk4xW7e'
    },
    owner: 'soc'
  }
}

/** the envelope of an event of the gateway itself: the case event's fields with `case` null, `data` instead of `previous`/`sequence` */
const GATEWAY_ENVELOPE = {
  id: Type.String({ description: 'Same id space and order as the case events' }),
  occurredAt: Rfc3339Schema,
  observedAt: { ...Rfc3339Schema, description: 'When the gateway recorded it' },
  observedVia: Type.Enum(['gateway']),
  case: Type.Null()
}

export const BatchCompletedEventSchema = Type.Object({
  ...GATEWAY_ENVELOPE,
  type: Type.Enum(['batch.completed']),
  data: BatchCompletedDataSchema
}, { $id: 'BatchCompletedEvent', additionalProperties: false, description: 'A bulk batch is over: its last item is final (recorded once, whichever replica finished it)', examples: [BATCH_EVENT_EXAMPLE] })
export type BatchCompletedEvent = Static<typeof BatchCompletedEventSchema>

export const EndpointDisabledEventSchema = Type.Object({
  ...GATEWAY_ENVELOPE,
  type: Type.Enum(['endpoint.disabled']),
  data: EndpointDisabledDataSchema
}, {
  $id: 'EndpointDisabledEvent',
  additionalProperties: false,
  description: 'The gateway disabled a webhook endpoint (410 Gone, or failing too long). Webhooks deliver it only to the endpoints of the same key and to admin keys\' endpoints',
  examples: [{
    id: '1795997402000-0',
    type: 'endpoint.disabled',
    occurredAt: '2026-03-02T10:00:02.000Z',
    observedAt: '2026-03-02T10:00:02.000Z',
    observedVia: 'gateway',
    case: null,
    data: { endpoint: { id: 'we_Jx3kP0aV9mQ2rT7sLw1e', host: 'soar.example.com', reason: 'the receiver answered 410 Gone', disabledAt: '2026-03-02T10:00:02.000Z' }, owner: 'soc' }
  }]
})
export type EndpointDisabledEvent = Static<typeof EndpointDisabledEventSchema>

export const TargetEventDataSchema = Type.Object({
  caseId: Type.String({ description: 'The case whose target was probed: the event is in its timeline too' }),
  provider: Type.String({ description: 'The provider of the case' }),
  target: Type.Object({ type: TargetTypeSchema, value: Type.String() }, { additionalProperties: false }),
  state: Type.Enum(['verified_down', 'reappeared', 'disputed', 'stayed_down'], { description: 'The verification state the step set' }),
  reason: Type.String({ description: 'Why: the classification of the deciding probe (a signature, a status, NXDOMAIN...), or the rule that ended the run' }),
  probedAt: { ...Rfc3339Schema, description: 'The probe (or the end of the monitoring window) that decided the step' },
  verifiedDownAt: { ...NullableRfc3339Schema, description: 'When the gateway\'s probes confirmed the takedown; null before' },
  providerStatus: { ...NullableString, description: 'The vendor\'s status when the step was decided (what it claims), null when not known' },
  relatedCaseIds: Type.Array(Type.String(), { description: 'Cases linked to this one by a re-emergence (`VERIFY_ON_REAPPEAR=resubmit`): the new case, or the original' })
}, { additionalProperties: false, description: 'The facts of the step; never the page itself' })
export type TargetEventData = Static<typeof TargetEventDataSchema>

export const TargetEventSchema = Type.Object({
  ...GATEWAY_ENVELOPE,
  type: Type.Enum(TARGET_EVENT_TYPES, {
    description: '`target.verified_down`: after the vendor said mitigated/taken_down, the confirmation probes found the target down; ' +
      '`target.reappeared`: a live probe after a down one (re-emergence); `target.disputed`: the vendor said taken down, every confirmation probe saw the page live; ' +
      '`target.stayed_down`: down through the whole monitoring window'
  }),
  data: TargetEventDataSchema
}, {
  $id: 'TargetEvent',
  additionalProperties: false,
  description: 'A verified outcome of a case\'s target (the gateway\'s own probes), recorded once across replicas; in the case\'s timeline, and matched by the `caseId` and `provider` filters',
  examples: [{
    id: '1795997500000-0',
    type: 'target.verified_down',
    occurredAt: '2026-03-02T11:00:00.000Z',
    observedAt: '2026-03-02T11:00:00.004Z',
    observedVia: 'gateway',
    case: null,
    data: {
      caseId: CASE_EXAMPLE.id,
      provider: CASE_EXAMPLE.provider,
      target: { type: 'url', value: 'https://login-acme.example/' },
      state: 'verified_down',
      reason: 'dns:NXDOMAIN',
      probedAt: '2026-03-02T11:00:00.000Z',
      verifiedDownAt: '2026-03-02T11:00:00.000Z',
      providerStatus: 'taken_down',
      relatedCaseIds: []
    }
  }]
})
export type TargetEvent = Static<typeof TargetEventSchema>

export const SlaEventSchema = Type.Object({
  ...GATEWAY_ENVELOPE,
  type: Type.Enum(SLA_EVENT_TYPES, {
    description: '`case.sla_warning`: a due time of the case\'s rule is warnBefore away and its milestone has not come; `case.sla_breached`: a due time passed ' +
      'without its milestone; `case.escalated`: escalateAfter passed with the target not down, the vendor was asked to escalate (or sent a comment naming the breach); ' +
      '`case.failed_over`: failoverAfter passed with the target not down, the same target was filed at the next provider of the routing order'
  }),
  data: SlaEventDataSchema
}, {
  $id: 'SlaEvent',
  additionalProperties: false,
  description: 'What a service-level rule did about a case, recorded once per case and step across replicas; in the case\'s timeline, and matched by the `caseId` and `provider` filters',
  examples: [{
    id: '1795997600000-0',
    type: 'case.failed_over',
    occurredAt: '2026-03-03T09:58:38.122Z',
    observedAt: '2026-03-03T09:58:39.004Z',
    observedVia: 'gateway',
    case: null,
    data: {
      caseId: CASE_EXAMPLE.id,
      provider: CASE_EXAMPLE.provider,
      target: { type: 'url', value: 'https://login-acme.example/' },
      policy: 'phishing-urls',
      clock: null,
      dueAt: '2026-03-03T09:58:38.122Z',
      dryRun: false,
      escalation: null,
      failover: { caseId: SECOND_CASE_EXAMPLE.id, provider: SECOND_CASE_EXAMPLE.provider, cancelledOriginal: false },
      relatedCaseIds: [SECOND_CASE_EXAMPLE.id]
    }
  }]
})
export type SlaEvent = Static<typeof SlaEventSchema>

export type GatewayEvent = BatchCompletedEvent | EndpointDisabledEvent | TargetEvent | SlaEvent
/** what the log holds: case events, and events of the gateway itself (`case: null`) */
export type Event = CaseEvent | GatewayEvent
/** a case timeline: the case's events, the verified outcomes of its target and what its service level did */
export type TimelineEvent = CaseEvent | TargetEvent | SlaEvent
export const EventSchema = Type.Union([CaseEventSchema, BatchCompletedEventSchema, EndpointDisabledEventSchema, TargetEventSchema, SlaEventSchema], {
  description: 'A case event (`case` set), or an event of the gateway itself (`case` null, `data` set)'
})

export const EventPageSchema = Type.Object({
  items: Type.Array(EventSchema),
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
  types: Type.Optional(Type.String({ description: `Comma-separated event types: ${EVENT_TYPES.join(', ')}`, examples: ['case.status_changed,case.reopened'] })),
  provider: Type.Optional(Type.String({ description: 'Comma-separated provider ids (case events only)', examples: [PROVIDER_LIST_EXAMPLE] })),
  caseId: Type.Optional(Type.String({ minLength: 3, maxLength: 512, description: 'Only the events of this case (case events only); an id no provider can own is a 400' })),
  terminal: Type.Optional(Type.Boolean({ description: 'Only events whose case is (true) or is not (false) in a terminal status now (case events only)' }))
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
export const TimelineSchema = Type.Object({
  caseId: Type.String(),
  items: Type.Array(Type.Union([CaseEventSchema, TargetEventSchema, SlaEventSchema]), { description: 'Oldest first: the case events, the verified outcomes of its target and its service-level steps' }),
  next: NullableString
}, { $id: 'Timeline', additionalProperties: false, examples: [{ caseId: CASE_EXAMPLE.id, items: [EVENT_EXAMPLE], next: null }] })
export type Timeline = Static<typeof TimelineSchema>

export const TimelineQuerySchema = Type.Object({
  after: Type.Optional(Type.String({ pattern: EVENT_ID, description: '`next` of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 })
}, { additionalProperties: false })

export { EVENT_ID as EVENT_ID_PATTERN }

/** An event of the gateway itself, recorded once per `key` (whichever replica appends it first). */
export type AppendInput = ({ type: 'batch.completed', data: BatchCompletedData } | { type: 'endpoint.disabled', data: EndpointDisabledData } |
{ type: TargetEventType, data: TargetEventData } | { type: SlaEventType, data: SlaEventData }) & {
  /** one occurrence, one key: a second append with the same key (another replica, a retried job) records nothing */
  key: string
  occurredAt: string
}
