import { Type, type Static } from 'typebox'
import { NullableString } from './common.js'
import { STATUS_REFERENCE_ITEM_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'
import { UnifiedStatusSchema } from './unified-status.js'

export const REFERENCE_KINDS = [
  'statuses', 'takedown-types', 'platforms', 'threat-types', 'cancellation-reasons', 'report-types', 'mitigation-types'
] as const
export type ReferenceKind = (typeof REFERENCE_KINDS)[number]
export const ReferenceKindSchema = Type.Enum(REFERENCE_KINDS, { description: 'Kind of reference data' })

export const ReferenceItemSchema = Type.Object({
  provider: Type.Union([ProviderIdSchema, Type.Literal('gateway')], { description: '`gateway` for the unified statuses themselves' }),
  kind: ReferenceKindSchema,
  id: Type.Unsafe<string | number | null>({ type: ['string', 'integer', 'null'], description: "The vendor's id for the value, where it has one" }),
  name: Type.String(),
  description: NullableString,
  active: Type.Optional(Type.Boolean()),
  unifiedStatus: Type.Optional(UnifiedStatusSchema),
  terminal: Type.Optional(Type.Boolean())
}, { $id: 'ReferenceItem', additionalProperties: false, examples: [STATUS_REFERENCE_ITEM_EXAMPLE] })
export type ReferenceItem = Static<typeof ReferenceItemSchema>
