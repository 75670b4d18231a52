import { Type, type Static } from 'typebox'
import { Nullable, TargetTypeSchema } from './common.js'
import { PROVIDER_INFO_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'
import { ReferenceKindSchema } from './reference.js'

export const ProviderInfoSchema = Type.Object({
  id: ProviderIdSchema,
  mode: Type.Enum(['live', 'sandbox', 'off'], { description: '`off`: no credentials outside sandbox mode; skipped by listings, 422 for writes' }),
  available: Type.Boolean({ description: '`true` when calls go to the provider now: it is on (live or sandbox) and its circuit is not open' }),
  capabilities: Type.Object({
    create: Type.Object({
      takedown: Type.Array(TargetTypeSchema),
      monitor: Type.Array(TargetTypeSchema)
    }),
    cancel: Type.Boolean(),
    attachments: Type.Boolean(),
    comments: Type.Boolean(),
    appeal: Type.Boolean(),
    actions: Type.Array(Type.String()),
    detections: Type.Boolean(),
    reference: Type.Array(ReferenceKindSchema, { description: 'The kinds of GET /v1/reference/{kind} the provider has; another kind with `provider` is a 404' })
  }, { additionalProperties: false }),
  circuit: Type.Enum(['closed', 'open', 'half_open'], { description: 'State of the circuit breaker in front of the provider' }),
  lastError: Type.Union([Type.Object({
    at: Type.String({ format: 'date-time' }),
    kind: Type.String(),
    message: Type.String()
  }), Type.Null()]),
  referenceAgeSeconds: Nullable<number>('integer', { description: 'Age of the oldest reference data of this provider cached in this process; null before the first load' })
}, { $id: 'ProviderInfo', additionalProperties: false, examples: [PROVIDER_INFO_EXAMPLE] })
export type ProviderInfo = Static<typeof ProviderInfoSchema>

export const ProviderListSchema = Type.Object({
  items: Type.Array(ProviderInfoSchema)
}, { $id: 'ProviderList', additionalProperties: false, examples: [{ items: [PROVIDER_INFO_EXAMPLE] }] })
