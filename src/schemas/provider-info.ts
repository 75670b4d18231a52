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
  referenceAgeSeconds: Nullable<number>('integer', { description: 'Age of the oldest reference data of this provider cached in this process; null before the first load' }),
  watch: Type.Union([Type.Object({
    intervalSeconds: Type.Number({ description: 'The configured sync cadence of the case-events watcher' }),
    effectiveIntervalSeconds: Type.Number({ description: 'The cadence kept: longer than the configured one when a sync costs more vendor calls than the watcher\'s budget share allows' }),
    openCases: Nullable<number>('integer', { description: 'Cases open at the vendor as the last sync saw them; null before the first sync' }),
    syncCalls: Nullable<number>('integer', { description: 'Vendor calls of the last sync (list pages, single reads, look-ups inside a listing); null before the first sync' }),
    lastSyncAt: Nullable<string>('string', { format: 'date-time', description: 'When the last completed sync started; null before the first one' })
  }, { additionalProperties: false }), Type.Null()], { description: 'How the case-events watcher follows this provider; null when it has no cadence (WATCH_<PROVIDER>_INTERVAL_MS=0) or is off' })
}, { $id: 'ProviderInfo', additionalProperties: false, examples: [PROVIDER_INFO_EXAMPLE] })
export type ProviderInfo = Static<typeof ProviderInfoSchema>

export const ProviderListSchema = Type.Object({
  items: Type.Array(ProviderInfoSchema)
}, { $id: 'ProviderList', additionalProperties: false, examples: [{ items: [PROVIDER_INFO_EXAMPLE] }] })
