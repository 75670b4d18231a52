/**
 * Cloudflare API v4 Abuse Reports payloads (Cloudflare API v4 docs 'Make API calls', Cloudflare API v4 schema, Abuse Reports). Tolerant on purpose: unknown
 * fields are allowed, enum-like fields are plain strings (an unknown report status must reach the status engine as
 * `unknown`, not fail parsing), and only what the connector reads is required. The simulator builds its answers
 * with the same types, so both sides of the fake speak one format.
 */
import { Type, type Static } from 'typebox'

/** The eight submit types (`act`, also the `{report_param}` path segment), Cloudflare API schema, SubmitAbuseReport. */
export const REPORT_ACTS = [
  'abuse_dmca', 'abuse_trademark', 'abuse_general', 'abuse_phishing',
  'abuse_children', 'abuse_threat', 'abuse_registrar_whois', 'abuse_ncsei'
] as const
export type ReportAct = (typeof REPORT_ACTS)[number]

/** The list/detail `type` codes, Cloudflare API schema, GetAbuseReport. */
export const REPORT_TYPES = ['PHISH', 'GEN', 'THREAT', 'DMCA', 'EMER', 'TM', 'REG_WHO', 'NCSEI', 'NETWORK'] as const

/**
 * `act` → list `type`. Cloudflare does not document this mapping [?]; `abuse_children` → EMER is our guess, and no
 * act is known to produce NETWORK.
 */
export const ACT_TO_TYPE: Readonly<Record<ReportAct, string>> = {
  abuse_phishing: 'PHISH',
  abuse_general: 'GEN',
  abuse_threat: 'THREAT',
  abuse_dmca: 'DMCA',
  abuse_trademark: 'TM',
  abuse_registrar_whois: 'REG_WHO',
  abuse_ncsei: 'NCSEI',
  abuse_children: 'EMER'
}

/** The 20 mitigation types of the Cloudflare API schema, ListMitigations (the API reference page lists 19; `zone_fint` is newer). */
export const MITIGATION_TYPES = [
  'account_suspend', 'copyright_interstitial', 'geo_block', 'legal_block', 'malware_interstitial',
  'misleading_interstitial', 'network_block', 'phishing_interstitial', 'playfairite_enforce', 'r2_takedown_account',
  'r2_takedown_bucket', 'r2_takedown_object', 'rate_limit_cache', 'redirect_video_stream', 'zone_fint',
  'registrar_freeze', 'registrar_parking', 'stream_block_account', 'user_suspend', 'workers_takedown_by_zone_id'
] as const

/** `{code, message}` of `errors[]` / `messages[]`; the abuse-report endpoints may send `code` as a string (Cloudflare API schema, GetAbuseReport). */
export const ResponseInfoSchema = Type.Object({
  code: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  message: Type.Optional(Type.String())
})
export const ResultInfoSchema = Type.Object({
  page: Type.Optional(Type.Number()),
  per_page: Type.Optional(Type.Number()),
  count: Type.Optional(Type.Number()),
  total_count: Type.Optional(Type.Number()),
  total_pages: Type.Optional(Type.Number())
})
export type ResultInfo = Static<typeof ResultInfoSchema>

export const MitigationSummarySchema = Type.Object({
  accepted_url_count: Type.Optional(Type.Number()),
  active_count: Type.Optional(Type.Number()),
  external_host_notified: Type.Optional(Type.Boolean()),
  in_review_count: Type.Optional(Type.Number()),
  pending_count: Type.Optional(Type.Number())
})
export type MitigationSummary = Static<typeof MitigationSummarySchema>

export const SubmitterSchema = Type.Object({
  company: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  telephone: Type.Optional(Type.Union([Type.String(), Type.Null()]))
})

export const AbuseReportSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  cdate: Type.String(),
  domain: Type.String(),
  type: Type.String(),
  status: Type.String(),
  mitigation_summary: Type.Optional(MitigationSummarySchema),
  justification: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  original_work: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  submitter: Type.Optional(Type.Union([SubmitterSchema, Type.Null()])),
  urls: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()]))
})
export type AbuseReport = Static<typeof AbuseReportSchema>

export const MitigationSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  effective_date: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  status: Type.String(),
  entity_type: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  entity_id: Type.Optional(Type.Union([Type.String(), Type.Null()]))
})
export type Mitigation = Static<typeof MitigationSchema>

const envelope = <T extends Parameters<typeof Type.Object>[0]>(result: T) => Type.Object({
  success: Type.Boolean(),
  errors: Type.Optional(Type.Array(ResponseInfoSchema)),
  messages: Type.Optional(Type.Array(ResponseInfoSchema)),
  ...result
})

/** GET /abuse-reports: `result` is an object `{reports}`, not an array (Cloudflare API schema, ListAbuseReports). */
export const ReportListEnvelopeSchema = envelope({
  result: Type.Object({ reports: Type.Array(AbuseReportSchema) }),
  result_info: Type.Optional(ResultInfoSchema)
})
export const ReportEnvelopeSchema = envelope({ result: AbuseReportSchema })
export const MitigationListEnvelopeSchema = envelope({
  result: Type.Object({ mitigations: Type.Array(MitigationSchema) }),
  result_info: Type.Optional(ResultInfoSchema)
})
/** POST …/mitigations/appeal: here `result` IS an array (Cloudflare API schema, RequestReview). */
export const AppealEnvelopeSchema = envelope({
  result: Type.Optional(Type.Union([Type.Array(MitigationSchema), Type.Null()])),
  result_info: Type.Optional(ResultInfoSchema)
})
export type AppealEnvelope = Static<typeof AppealEnvelopeSchema>

/** Submit success: HTTP 200 with a BARE body, not the envelope (Cloudflare API schema, SubmitAbuseReport). */
export const SubmitSuccessSchema = Type.Object({
  abuse_rand: Type.String({ minLength: 1 }),
  request: Type.Optional(Type.Object({ act: Type.Optional(Type.String()) })),
  result: Type.Literal('success')
})
export type SubmitSuccess = Static<typeof SubmitSuccessSchema>

/** Submit errors (400/500) and the entitlement 401: bare `{result:"error", msg, err_code, error_code}` (Cloudflare API schema, SubmitAbuseReport). */
export interface SubmitError {
  result: 'error'
  msg: string
  err_code: string
  error_code: string
  request?: { act: string }
}

/** The v4 failure envelope (Cloudflare API v4 schema, common response envelope). */
export interface FailureEnvelope {
  success: false
  errors: Array<{ code: number | string, message: string }>
  messages: Array<{ code: number | string, message: string }>
  result: null
}
