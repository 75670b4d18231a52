/**
 * Cloudflare Brand Protection payloads (Cloudflare API reference, Brand Protection v1 and v2). Shapes differ per endpoint: v2
 * domain queries come as the v4 envelope (current) or a bare array (before 2026-07-21); matches, logo queries and
 * logo matches are bare; v1 submit/url-info bodies are [I]. Tolerant: unknown fields allowed, nullable where the
 * spec says so or is silent. The simulator answers with the same types.
 */
import { Type, type Static, type TSchema } from 'typebox'

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const Opt = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema))
const IntLike = Type.Union([Type.Integer(), Type.String({ pattern: '^\\d{1,15}$' })])

/** Cloudflare API schema, get_GetDomainQueries: `parameters` is nullable; `string_matches` items are `{pattern}` (older: plus max_edit_distance) */
export const DomainQuerySchema = Type.Object({
  query_id: IntLike,
  query_tag: Opt(Type.String()),
  scan: Opt(Type.Boolean()),
  created: Opt(Type.String()),
  updated: Opt(Type.String()),
  parameters: Opt(Type.Object({
    string_matches: Opt(Type.Array(Type.Object({ pattern: Type.String(), max_edit_distance: Opt(Type.Number()) }))),
    max_time: Opt(Type.String()),
    min_time: Opt(Type.String())
  }))
})
export type DomainQuery = Static<typeof DomainQuerySchema>

/** Cloudflare API schema, get_GetDomainQueries: the envelope (result = array, or one object when `id` is given) */
export const DomainQueriesEnvelopeSchema = Type.Object({
  success: Type.Boolean(),
  errors: Type.Optional(Type.Array(Type.Unknown())),
  messages: Type.Optional(Type.Array(Type.Unknown())),
  result: Type.Union([Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  result_info: Type.Optional(Type.Unknown())
})

/** Cloudflare API schema, get_DomainMatchList */
export const DomainMatchSchema = Type.Object({
  domain: Type.String({ minLength: 1 }),
  first_seen: Opt(Type.String()),
  public_scans: Opt(Type.Object({ submission_id: Opt(Type.Union([Type.String(), Type.Number()])) })),
  scan_status: Opt(Type.String()),
  scan_submission_id: Opt(Type.Number()),
  source: Opt(Type.String()),
  registrar: Opt(Type.String()),
  dismissed: Opt(Type.Boolean()),
  match_details: Opt(Type.Array(Type.Unknown()))
})
export type DomainMatch = Static<typeof DomainMatchSchema>

/** Cloudflare API schema, get_DomainMatchList and get_LogoMatchList: bare `{matches, total}` */
export const MatchListSchema = Type.Object({
  matches: Type.Array(Type.Unknown()),
  total: Opt(Type.Number())
})

/** Cloudflare API schema, get_GetLogoQueries */
export const LogoQuerySchema = Type.Object({
  id: IntLike,
  tag: Opt(Type.String()),
  r2_path: Opt(Type.String()),
  similarity_threshold: Opt(Type.Number()),
  uploaded_at: Opt(Type.String()),
  content_type: Opt(Type.String()),
  image_data: Opt(Type.String())
})
export type LogoQuery = Static<typeof LogoQuerySchema>
export const LogoQueryListSchema = Type.Array(Type.Unknown())

/** Cloudflare API schema, get_LogoMatchList */
export const LogoMatchSchema = Type.Object({
  id: IntLike,
  query_id: Opt(IntLike),
  url_scan_id: Opt(Type.String()),
  similarity_score: Opt(Type.Number()),
  matched_at: Opt(Type.String()),
  domain: Opt(Type.String()),
  registrar: Opt(Type.String())
})
export type LogoMatch = Static<typeof LogoMatchSchema>

/**
 * Cloudflare API schema, post_InsertDomainQuery, post_InsertLogoQuery, delete_DeleteDomainQuery,
 * delete_DeleteLogoQuery: bare `{success, message, query_id?}`
 */
export const MutationResultSchema = Type.Object({
  success: Type.Boolean(),
  message: Opt(Type.String()),
  query_id: Opt(IntLike)
})
export type MutationResult = Static<typeof MutationResultSchema>

/** Cloudflare API schema, post_InsertDomainQuery */
export interface DomainQueryBody {
  tag: string
  string_matches: Array<{ pattern: string }>
  scan?: boolean
  max_time?: string
  min_time?: string
  scan_matches?: boolean
  search_lookback?: boolean
}

/** Cloudflare API schema, post_InsertLogoQuery */
export interface LogoQueryBody { tag: string, image_data: string, similarity_threshold: number, search_lookback?: boolean }

/** v1 submit (Cloudflare API reference, Brand Protection v1 [I]): 201 `{submitted_urls, skipped_urls, excluded_urls?}`; older SDKs unwrapped `result` */
const UrlItem = Type.Object({ url: Opt(Type.String()), url_id: Opt(Type.Number()) })
export const SubmitResultSchema = Type.Object({
  submitted_urls: Opt(Type.Array(UrlItem)),
  skipped_urls: Opt(Type.Array(UrlItem)),
  excluded_urls: Opt(Type.Array(UrlItem))
})
/** v1 url-info item (the `Info` model of the Cloudflare API reference, Brand Protection v1) */
export const UrlInfoSchema = Type.Object({
  url: Opt(Type.String()),
  scan_status: Opt(Type.Object({
    last_processed: Opt(Type.String()),
    scan_complete: Opt(Type.Boolean()),
    status_code: Opt(Type.Number()),
    submission_id: Opt(Type.Number())
  })),
  categorizations: Opt(Type.Array(Type.Object({ category: Opt(Type.String()), verification_status: Opt(Type.String()) }))),
  model_results: Opt(Type.Array(Type.Object({ model_name: Opt(Type.String()), model_score: Opt(Type.Number()) }))),
  rule_matches: Opt(Type.Array(Type.Object({ name: Opt(Type.String()), description: Opt(Type.String()) })))
})
export type UrlInfo = Static<typeof UrlInfoSchema>
