/**
 * Detections: candidates for a takedown that a provider found but nobody has acted on yet — BforeAI
 * confirmed attacks and Cloudflare Brand Protection domain and logo matches — in one canonical shape.
 */
import { Type, type Static } from 'typebox'
import { Nullable, NullableString, Rfc3339Schema } from './common.js'
import { mergedPageSchema, PAGING_QUERY, TargetSchema } from './case.js'
import { DETECTION_EXAMPLE, DETECTION_PAGE_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'

export const DETECTION_KINDS = ['attack', 'domain-match', 'logo-match'] as const
export type DetectionKind = (typeof DETECTION_KINDS)[number]

export const DetectionSchema = Type.Object({
  id: Type.String({ description: '`<provider>:<kind>:<native id>`, the native part percent-encoded. Opaque to clients.', examples: ['bforeai:attack:4711'] }),
  provider: ProviderIdSchema,
  kind: Type.Enum(DETECTION_KINDS, { description: '`attack`: a BforeAI confirmed attack; `domain-match` / `logo-match`: a Cloudflare Brand Protection match of a saved query' }),
  target: TargetSchema,
  source: Nullable<string>('string', { description: 'Where the provider found it (e.g. Cloudflare `source`: certificate transparency), when it says' }),
  score: Nullable<number>('number', { description: 'BforeAI maliciousness score; null for other providers' }),
  similarity: Nullable<number>('number', { description: 'Logo matches: similarity 0–1 to the saved logo; null otherwise' }),
  detectedAt: Rfc3339Schema,
  matched: Type.Object({
    queryId: NullableString,
    queryTag: NullableString,
    asset: Nullable<string>('string', { description: 'What was matched: the BforeAI protected asset, the Cloudflare query patterns, or the logo query tag' })
  }, { additionalProperties: false, description: 'The saved query (Cloudflare) or protected asset (BforeAI) that produced the detection' }),
  caseId: Nullable<string>('string', { description: 'The case this detection became, when the gateway or the provider knows one' }),
  links: Type.Object({
    self: Type.String(),
    takedown: Type.String({ description: 'POST here to turn the detection into a case' }),
    case: NullableString
  }, { additionalProperties: false })
}, { $id: 'Detection', additionalProperties: false, examples: [DETECTION_EXAMPLE] })
export type Detection = Static<typeof DetectionSchema>

export const DetectionListQuerySchema = Type.Object({
  provider: Type.Optional(Type.String({ description: 'Comma-separated provider ids (providers with detections: bforeai, cloudflare)', examples: ['cloudflare'] })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'detectedAt at or after (RFC 3339). BforeAI is asked for the last 90 days when absent.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'detectedAt before (RFC 3339, exclusive)' })),
  ...PAGING_QUERY
}, { additionalProperties: false })
export type DetectionListQuery = Static<typeof DetectionListQuerySchema>

export const DetectionPageSchema = mergedPageSchema(DetectionSchema, 'DetectionPage', DETECTION_PAGE_EXAMPLE)
export type DetectionPage = Static<typeof DetectionPageSchema>

export const DetectionIdParamsSchema = Type.Object({
  id: Type.String({ minLength: 3, maxLength: 1024, description: 'Detection id `<provider>:<kind>:<native id>`', examples: ['cloudflare:domain-match:42%3Aacme-login.example'] })
})

/** `/v1/detections/{id}` */
export function detectionSelfLink (id: string): string {
  return `/v1/detections/${id}`
}
