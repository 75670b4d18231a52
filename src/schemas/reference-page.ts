import { Type, type Static } from 'typebox'
import { ProviderErrorSchema } from './case.js'
import { REFERENCE_PAGE_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'
import { ReferenceItemSchema, ReferenceKindSchema } from './reference.js'

export const ReferencePageSchema = Type.Object({
  kind: ReferenceKindSchema,
  items: Type.Array(ReferenceItemSchema),
  partial: Type.Boolean({ description: 'true when a provider failed and had no cached copy; see `errors`' }),
  errors: Type.Array(ProviderErrorSchema)
}, { $id: 'ReferencePage', additionalProperties: false, examples: [REFERENCE_PAGE_EXAMPLE] })
export type ReferencePage = Static<typeof ReferencePageSchema>

export const ReferenceQuerySchema = Type.Object({
  provider: Type.Optional(ProviderIdSchema)
}, { additionalProperties: false })
