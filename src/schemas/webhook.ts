import { Type, type Static } from 'typebox'
import { Nullable, NullableRfc3339Schema, Rfc3339Schema, TargetTypeSchema } from './common.js'
import { CASE_EXAMPLE, DETECTION_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'
import { UnifiedStatusSchema } from './unified-status.js'
import { CASE_EVENT_TYPES, GATEWAY_EVENT_TYPES } from './event.js'

/** The event types an endpoint can subscribe to. `webhook.test` is only ever sent by POST …/test. */
export const ENDPOINT_EVENT_TYPES = [...CASE_EVENT_TYPES, ...GATEWAY_EVENT_TYPES] as const

const EXAMPLE_ID = 'we_Jx3kP0aV9mQ2rT7sLw1e'

export const WebhookEventTypeSchema = Type.Enum(ENDPOINT_EVENT_TYPES, {
  description: 'Case events of the event log, `batch.completed` (a batch of the same key finished) and `endpoint.disabled` ' +
    '(another endpoint of the same key was disabled; admin keys\' endpoints receive these two for every key), and the verified outcomes ' +
    '`target.verified_down`, `target.reappeared`, `target.disputed`, `target.stayed_down` and the service-level steps `case.sla_warning`, ' +
    '`case.sla_breached`, `case.escalated`, `case.failed_over` (every endpoint that subscribes to them; ' +
    'its `providers` and `targetTypes` filters apply)'
})

export const WebhookFilterSchema = Type.Object({
  providers: Type.Optional(Type.Array(ProviderIdSchema, { minItems: 1, uniqueItems: true, description: 'only cases of these providers' })),
  statuses: Type.Optional(Type.Array(UnifiedStatusSchema, { minItems: 1, uniqueItems: true, description: 'only events whose case is now in one of these statuses' })),
  targetTypes: Type.Optional(Type.Array(TargetTypeSchema, { minItems: 1, uniqueItems: true, description: 'only cases with these target types' })),
  terminalOnly: Type.Optional(Type.Boolean({ description: 'only events whose case is now terminal (taken down, failed, cancelled, closed)' }))
}, { $id: 'WebhookFilter', additionalProperties: false, description: 'Which case events the endpoint receives; every condition given must hold', examples: [{ providers: [CASE_EXAMPLE.provider, DETECTION_EXAMPLE.provider], terminalOnly: true }] })
export type WebhookFilter = Static<typeof WebhookFilterSchema>
export type WebhookEventType = Static<typeof WebhookEventTypeSchema>

const UrlSchema = Type.String({ minLength: 8, maxLength: 2083, description: '`https://` receiver URL (`http://` only with WEBHOOK_ALLOW_HTTP); no user:password part', examples: ['https://soar.example.com/hooks/takedowns'] })
const EventTypesSchema = Type.Array(WebhookEventTypeSchema, { uniqueItems: true, description: 'Event types to receive; empty or absent: every case event' })
const DescriptionSchema = Nullable<string>('string', { maxLength: 500 })

export const CreateWebhookEndpointSchema = Type.Object({
  url: UrlSchema,
  eventTypes: Type.Optional(EventTypesSchema),
  filter: Type.Optional(WebhookFilterSchema),
  description: Type.Optional(DescriptionSchema),
  enabled: Type.Optional(Type.Boolean({ default: true }))
}, { $id: 'CreateWebhookEndpoint', additionalProperties: false, examples: [{ url: 'https://soar.example.com/hooks/takedowns', eventTypes: ['case.status_changed'], filter: { terminalOnly: true } }] })

export const UpdateWebhookEndpointSchema = Type.Object({
  url: Type.Optional(UrlSchema),
  eventTypes: Type.Optional(EventTypesSchema),
  filter: Type.Optional(WebhookFilterSchema),
  description: Type.Optional(DescriptionSchema),
  enabled: Type.Optional(Type.Boolean({ description: '`true` re-enables an endpoint the gateway disabled (410, or failing too long)' }))
}, { $id: 'UpdateWebhookEndpoint', additionalProperties: false, minProperties: 1, examples: [{ filter: { statuses: ['taken_down', 'failed'] } }, { enabled: true }] })

const endpointProperties = {
  id: Type.String({ examples: [EXAMPLE_ID] }),
  owner: Type.String({ description: 'Name of the gateway key that registered it' }),
  url: Type.String(),
  description: DescriptionSchema,
  eventTypes: Type.Array(WebhookEventTypeSchema),
  filter: WebhookFilterSchema,
  enabled: Type.Boolean(),
  disabledReason: Nullable<string>('string', { description: 'Why it is disabled: by its owner, 410 Gone, or failing for too long' }),
  disabledAt: NullableRfc3339Schema,
  createdAt: Rfc3339Schema,
  updatedAt: Rfc3339Schema,
  secretCreatedAt: Rfc3339Schema,
  previousSecretExpiresAt: Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time', description: 'While a rotated-out secret still signs (next to the new one): when it stops' })
}

const ENDPOINT_EXAMPLE = {
  id: EXAMPLE_ID,
  owner: 'soar',
  url: 'https://soar.example.com/hooks/takedowns',
  description: null,
  eventTypes: ['case.status_changed'],
  filter: { terminalOnly: true },
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  createdAt: '2026-11-30T09:00:00.000Z',
  updatedAt: '2026-11-30T09:00:00.000Z',
  secretCreatedAt: '2026-11-30T09:00:00.000Z',
  previousSecretExpiresAt: null
}

export const WebhookEndpointSchema = Type.Object(endpointProperties, { $id: 'WebhookEndpoint', additionalProperties: false, examples: [ENDPOINT_EXAMPLE] })
export type WebhookEndpoint = Static<typeof WebhookEndpointSchema>

export const WebhookEndpointWithSecretSchema = Type.Object({
  ...endpointProperties,
  secret: Type.String({ description: 'The signing secret (`whsec_` + base64 of 32 random bytes). Shown only now: store it; the gateway keeps it encrypted and never returns it again' })
}, { $id: 'WebhookEndpointWithSecret', additionalProperties: false, examples: [{ ...ENDPOINT_EXAMPLE, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+ibNsVE6Z7U=' }] })

export const WebhookEndpointListSchema = Type.Object({
  items: Type.Array(WebhookEndpointSchema)
}, { $id: 'WebhookEndpointList', additionalProperties: false, examples: [{ items: [ENDPOINT_EXAMPLE] }] })

const ATTEMPT_EXAMPLE = {
  eventId: '1764493200000-0',
  eventType: 'case.status_changed',
  attempt: 2,
  at: '2026-11-30T09:00:05.120Z',
  outcome: 'failed',
  statusCode: 503,
  durationMs: 41,
  error: 'receiver answered HTTP 503',
  nextRetryAt: '2026-11-30T09:05:05.120Z'
}

export const DeliveryAttemptSchema = Type.Object({
  eventId: Type.String({ description: 'The message id, sent as `webhook-id` (the same on every attempt: deduplicate on it)' }),
  eventType: Type.String(),
  attempt: Type.Integer({ minimum: 1 }),
  at: Rfc3339Schema,
  outcome: Type.Enum(['delivered', 'failed', 'gave_up', 'endpoint_disabled'], {
    description: '`failed`: another attempt follows at `nextRetryAt` (tests and manual retries are not retried); `gave_up`: the retry schedule is used up; ' +
      '`endpoint_disabled`: this attempt disabled the endpoint (410, or failing for too long)'
  }),
  statusCode: Nullable<number>('integer', { description: 'The receiver\'s HTTP status; null when no answer came (refused address, connection error, timeout)' }),
  durationMs: Type.Integer({ minimum: 0 }),
  error: Nullable<string>('string', { description: 'Why the attempt failed, e.g. `refused: 10.0.0.1 is a private address`' }),
  nextRetryAt: NullableRfc3339Schema
}, { $id: 'DeliveryAttempt', additionalProperties: false, examples: [ATTEMPT_EXAMPLE] })
export const DeliveryListSchema = Type.Object({
  items: Type.Array(DeliveryAttemptSchema, { description: 'Newest first' })
}, { $id: 'DeliveryList', additionalProperties: false, examples: [{ items: [ATTEMPT_EXAMPLE] }] })

export const RotateSecretSchema = Type.Object({
  overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000, description: 'How long the current secret keeps signing next to the new one (default WEBHOOK_ROTATION_OVERLAP_MS, 24 h); 0 stops it now' }))
}, { $id: 'RotateSecret', additionalProperties: false, examples: [{ overlapSeconds: 86400 }] })

export const RecoverSchema = Type.Object({
  since: Type.String({ format: 'date-time', description: 'Re-deliver every matching event recorded since this time (inside the event retention)' })
}, { $id: 'Recover', additionalProperties: false, examples: [{ since: '2026-11-29T00:00:00Z' }] })

export const RecoverResultSchema = Type.Object({
  queued: Type.Integer({ minimum: 0, description: 'Events queued for delivery again' }),
  since: Rfc3339Schema
}, { $id: 'RecoverResult', additionalProperties: false, examples: [{ queued: 42, since: '2026-11-29T00:00:00.000Z' }] })

export const WebhookEndpointParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\w-]+$' }) })
export const DeliveryParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\w-]+$' }),
  eventId: Type.String({ minLength: 1, maxLength: 128 })
})
export const DeliveriesQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only the attempts of this message' }))
})
