/**
 * PhishFort Client API payloads (PhishFort Client API docs: 'Data Structures', 'Report Incident' and 'Limits' pages).
 * Tolerant by design: unknown fields are allowed, and every documented field except `id` and `timestamp` may be absent
 * or null (public integrations that checked the live API, e.g. polarityio/phishfort, report several documented fields
 * as not seen in live data). The simulator builds its answers from these types, so both sides of the fake speak the
 * same format.
 */
import { Type, type Static, type TSchema } from 'typebox'

const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))

/** The closed set of `status` values (PhishFort Client API docs, 'Incident Lifecycle' page, verified). */
export const PHISHFORT_STATUSES = [
  'pending_review', 'case_building', 'approval_required', 'takedown_ready', 'pre_weaponised',
  'takedown_in_progress', 'takedown_success', 'takedown_attempt_failed', 'blocklisted', 'action_required', 'closed'
] as const
export type PhishfortStatus = (typeof PHISHFORT_STATUSES)[number]

/** The docs' own descriptions of each status (Data Structures page, "Status Values"). */
export const PHISHFORT_STATUS_DESCRIPTIONS = {
  pending_review: 'Incident has been reported but not yet reviewed by an analyst.',
  case_building: 'Analyst is reviewing the incident, choosing a plan of action and gathering evidence.',
  approval_required: 'Incident is in case building and the takedown is pending approval.',
  takedown_ready: 'Incident is in case building and the takedown has been approved.',
  pre_weaponised: 'Incident has been placed into monitoring.',
  takedown_in_progress: 'Takedown process has been initiated but not yet completed.',
  takedown_success: 'Takedown has been completed successfully.',
  takedown_attempt_failed: 'Takedown was attempted but failed.',
  blocklisted: 'Incident has been blocklisted (no takedown performed).',
  action_required: 'Incident is awaiting action from the client.',
  closed: 'Incident is resolved/closed.'
} as const satisfies Record<PhishfortStatus, string>

/** Incident types that travel as `{incidentType, subject}` on a report (PhishFort Client API docs, 'Report Incident' page). */
export const SUBJECT_INCIDENT_TYPES = ['email', 'phone', 'ipv4'] as const
export type SubjectIncidentType = (typeof SUBJECT_INCIDENT_TYPES)[number]

/** Attachment content types the API accepts (PhishFort Client API docs, 'Add Attachments' page). */
export const ALLOWED_ATTACHMENT_TYPES = [
  'image/png', 'image/jpg', 'image/jpeg', 'application/pdf', 'message/rfc822', 'text/plain', 'application/vnd.ms-outlook',
  'text/csv', 'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
] as const

/** PhishFort Client API docs, 'Add Attachments' page and 'Limits' page: at most 12 files, whole request under 10485760 bytes. */
export const MAX_ATTACHMENTS = 12
export const MAX_REQUEST_BYTES = 10485760
/** Only the default (5000) is documented; the unofficial phishfort-mcp client uses it as the maximum (PhishFort Client API docs, 'Incidents' page [?]). */
export const MAX_LIMIT = 5000

export const TypeReferenceSchema = Type.Object({
  id: Opt(Type.String()),
  name: Opt(Type.String()),
  description: Opt(Type.String())
})

/** Lite form in lists, expanded form on the detail (same object, extra optional fields). */
export const ThreatTaxonomySchema = Type.Object({
  name: Opt(Type.String()),
  description: Opt(Type.String()),
  incidentClass: Opt(Type.String()),
  incidentTargetType: Opt(TypeReferenceSchema),
  incidentType: Opt(TypeReferenceSchema),
  incidentThreatType: Opt(TypeReferenceSchema)
})
export type ThreatTaxonomy = Static<typeof ThreatTaxonomySchema>

export const IncidentSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  clientId: Opt(Type.String()),
  safeDomain: Opt(Type.String()),
  subject: Opt(Type.String()),
  incidentType: Opt(Type.String()),
  domain: Opt(Type.String()),
  url: Opt(Type.String()),
  source: Opt(Type.String()),
  status: Opt(Type.String()),
  /** deprecated on 2026-04-30 (PhishFort Client API docs, 'Incidents' page); read only when `status` is absent */
  statusVerbose: Opt(Type.String()),
  timestamp: Type.String(),
  lastHistoryUpdateTimestamp: Opt(Type.String()),
  burnStartedTimestamp: Opt(Type.String()),
  takedownTimestamp: Opt(Type.String()),
  reportedBy: Opt(Type.String()),
  threatTaxonomy: Opt(ThreatTaxonomySchema),
  incidentClass: Opt(Type.String())
})
export type Incident = Static<typeof IncidentSchema>

/** PhishFort Client API docs, 'Data Structures' page "IncidentHistory" [S]: `{message, timestamp, type: "info" | "info/auto"}` */
export const IncidentHistorySchema = Type.Object({
  message: Opt(Type.String()),
  timestamp: Opt(Type.String()),
  type: Opt(Type.String())
})
export type IncidentHistory = Static<typeof IncidentHistorySchema>

export const IncidentStateSchema = Type.Object({
  unresponsive: Opt(Type.Boolean()),
  warningBanner: Opt(Type.Boolean()),
  responsive: Opt(Type.Boolean()),
  contentRemoved: Opt(Type.Boolean()),
  redirect: Opt(Type.Boolean()),
  inconclusive: Opt(Type.Boolean()),
  timestamp: Opt(Type.String())
})
export type IncidentState = Static<typeof IncidentStateSchema>

export const RegistrarSchema = Type.Object({
  name: Opt(Type.String()),
  difficulty: Opt(Type.String()),
  description: Opt(Type.String())
})

export const DetailedIncidentSchema = Type.Object({
  ...IncidentSchema.properties,
  history: Opt(Type.Array(IncidentHistorySchema)),
  incidentState: Opt(IncidentStateSchema),
  registrar: Opt(RegistrarSchema),
  hostingProvider: Opt(Type.String())
})
export type DetailedIncident = Static<typeof DetailedIncidentSchema>

/** PhishFort Client API docs, 'Data Structures' page "PagingStructure": `next` null or absent on the last page */
export const PagingSchema = Type.Object({
  cursor: Opt(Type.String()),
  next: Opt(Type.String()),
  limit: Opt(Type.Integer())
})
export const IncidentListSchema = Type.Object({
  data: Type.Array(IncidentSchema),
  paging: Opt(PagingSchema)
})
export type IncidentList = Static<typeof IncidentListSchema>

/** Report / action answers: `{message, id, url}` (PhishFort Client API docs, 'Report Incident' page [I]), possibly wrapped in `data` [?]. */
export const WriteAnswerSchema = Type.Object({
  message: Opt(Type.String()),
  id: Opt(Type.String()),
  url: Opt(Type.String()),
  data: Opt(Type.Object({
    id: Opt(Type.String()),
    url: Opt(Type.String())
  }))
})
export type WriteAnswer = Static<typeof WriteAnswerSchema>

/**
 * The webhook events PhishFort documents (PhishFort Client API docs, 'Webhooks' page [V]; `incident.action_required`
 * from the unofficial phishfort-mcp client [S]).
 */
export const WEBHOOK_EVENTS = ['incident.created', 'incident.status_changed', 'incident.history_created', 'incident.takedown_updated', 'incident.action_required'] as const

/** `POST /v1/webhooks` 201 and `rotate-secret` answers, inside `data` (PhishFort Client API docs, 'Webhooks' page); `secret` only here, once. */
export const WebhookSubscriptionSchema = Type.Object({
  id: Type.String(),
  url: Opt(Type.String()),
  secret: Opt(Type.String()),
  events: Opt(Type.Array(Type.String())),
  active: Opt(Type.Boolean()),
  description: Opt(Type.String()),
  createdAt: Opt(Type.String())
})
export type WebhookSubscription = Static<typeof WebhookSubscriptionSchema>

/** hapi/Boom error body; only the 413 one is documented (PhishFort Client API docs, 'Limits' page). */
export interface BoomError {
  statusCode: number
  error: string
  message: string
}

/** Report bodies (PhishFort Client API docs, 'Report Incident' page). Never both `url` and `incidentType`. */
export interface ReportBody {
  url?: string
  incidentType?: SubjectIncidentType
  subject?: string
  reportedBy?: string
  clientId?: string
  comment?: string
}
