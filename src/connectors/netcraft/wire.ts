/**
 * Netcraft Takedown API v1 payloads (Netcraft's "Takedown API" reference at takedown.netcraft.com/help_api.php, as
 * seen through the shipped Cortex XSOAR "Netcraft v2" integration and its live captures). Tolerant on purpose: ids
 * arrive as strings on takedowns and as integers on notes, flags as "0"/"1" strings or booleans, unset values as "".
 */
import { Type, type Static } from 'typebox'

const Id = Type.Union([Type.String(), Type.Integer()])
const Text = Type.Optional(Type.Union([Type.String(), Type.Null()]))
const Flag = Type.Optional(Type.Union([Type.String(), Type.Integer(), Type.Boolean(), Type.Null()]))

export const TakedownSchema = Type.Object({
  id: Id,
  group_id: Type.Optional(Type.Union([Id, Type.Null()])),
  attack_url: Text,
  reported_url: Text,
  attack_type: Text,
  status: Type.String(),
  authgiven: Flag,
  authorisation_source: Text,
  escalated: Flag,
  escalation_source: Text,
  false_positive: Flag,
  date_submitted: Type.String(),
  last_updated: Text,
  date_authed: Text,
  date_escalated: Text,
  date_first_actioned: Text,
  first_contact: Text,
  first_inactive: Text,
  first_resolved: Text,
  final_resolved: Text,
  restart_date: Text,
  stop_monitoring_date: Text,
  region: Text,
  target_brand: Text,
  reporter: Text,
  report_source: Text,
  domain: Text,
  hostname: Text,
  host: Text,
  registrar: Text,
  evidence_url: Text
})
export type Takedown = Static<typeof TakedownSchema>
export const TakedownListSchema = Type.Array(TakedownSchema)

export const NoteSchema = Type.Object({
  note_id: Id,
  takedown_id: Id,
  group_id: Type.Optional(Type.Union([Id, Type.Null()])),
  author: Text,
  note: Text,
  time: Type.String()
})
export type Note = Static<typeof NoteSchema>
export const NoteListSchema = Type.Array(NoteSchema)

export const AttackTypeSchema = Type.Object({
  name: Type.String(),
  display_name: Text,
  base_type: Text,
  description: Text,
  automated: Flag,
  auto_escalation: Flag,
  auto_authorise: Flag
})
export type AttackType = Static<typeof AttackTypeSchema>
export const AttackTypeListSchema = Type.Array(AttackTypeSchema)

export const NoteAnswerSchema = Type.Object({ note_id: Id })
export const EscalateAnswerSchema = Type.Object({ status: Type.Optional(Type.String()) })

/** The `statuses=` filter slugs and the display string each record carries (XSOAR "netcraft-takedown-list" docs). */
export const NETCRAFT_STATUSES = {
  unverified: 'Unverified',
  inactive_monitoring: 'Inactive (Monitoring)',
  verified: 'Verified',
  contacted_hosting: 'Contacted Hosting',
  contacted_police: 'Contacted Police',
  contacted_upstream: 'Contacted Upstream',
  resolved_monitoring: 'Monitoring',
  resolved: 'Resolved',
  stale: 'Stale',
  invalid: 'Invalid'
} as const
export type NetcraftStatus = keyof typeof NETCRAFT_STATUSES
export const NETCRAFT_STATUS_SLUGS = Object.keys(NETCRAFT_STATUSES) as NetcraftStatus[]

export const NETCRAFT_STATUS_DESCRIPTIONS: Readonly<Record<NetcraftStatus, string>> = {
  unverified: 'Not yet verified as fraudulent by Netcraft',
  inactive_monitoring: 'Went offline before Netcraft was authorised; watched in case it returns',
  verified: 'Verified as fraudulent; no notices sent yet',
  contacted_hosting: 'Notices sent to the hosting provider',
  contacted_police: 'Escalated to local law enforcement',
  contacted_upstream: "Escalated to the host's upstream connectivity provider",
  resolved_monitoring: 'Offline, watched in case it returns (it can restart)',
  resolved: 'Offline for 7 days in a row; no longer watched',
  stale: 'Went offline before authorisation; no longer watched',
  invalid: 'Not a valid takedown target'
}

/**
 * A record's display string as its filter slug: `Inactive (Monitoring)` → inactive_monitoring, `Monitoring` and
 * `Resolved (Monitoring)` → resolved_monitoring, otherwise lower case with runs of other characters as `_`. A word
 * that is no known slug comes back normalised the same way (and maps to `unknown`).
 */
export function statusSlug (display: string): string {
  const s = display.trim().toLowerCase()
  if (s === 'monitoring' || s === 'resolved (monitoring)') return 'resolved_monitoring'
  return s.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')
}

/** `"1"`, `1`, `true`, `"true"` (any case) are true; everything else false (records mix all four spellings). */
export function flag (value: unknown): boolean {
  if (value === true || value === 1) return true
  return typeof value === 'string' && ['1', 'true'].includes(value.trim().toLowerCase())
}

/** The first line of a `report/` answer: the only codes XSOAR's shipped integration treats as outcomes. */
export const REPORT_CODES = ['TD_OK', 'TD_EXISTS', 'TD_WILDCARD', 'TD_VERIFY'] as const
export type ReportCode = (typeof REPORT_CODES)[number]
