/**
 * BforeAI takedown API payloads (BforeAI Takedowns Management API docs). Tolerant by design: unknown fields are allowed,
 * every documented field except `id`/`created` may be absent or null (the docs' Takedown object does not document
 * nullability).
 * The simulator builds its answers from these types, so both sides of the fake speak the same format.
 */
import { Type, type Static, type TSchema } from 'typebox'
import { check } from '../validate.js'

const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))

export const TakedownSchema = Type.Object({
  // documented as a string; a number is tolerated and turned into a string by the mapper
  id: Type.Union([Type.String({ minLength: 1 }), Type.Integer()]),
  created: Type.String(),
  attack_url: Opt(Type.String()),
  value: Opt(Type.Object({ type: Opt(Type.String()), value: Opt(Type.String()) })),
  brand_name: Opt(Type.String()),
  user_id: Opt(Type.Union([Type.String(), Type.Number()])),
  description: Opt(Type.String()),
  company_id: Opt(Type.Number()),
  status_id: Opt(Type.Number()),
  status_name: Opt(Type.String()),
  updated_at: Opt(Type.String()),
  brand_id: Opt(Type.Number()),
  attack_id: Opt(Type.Number()),
  takedown_type: Opt(Type.String()),
  cancellation_reason: Opt(Type.String()),
  platform: Opt(Type.String()),
  threat_type: Opt(Type.String())
})
export type Takedown = Static<typeof TakedownSchema>

/** fastapi-pagination `Page` (BforeAI Takedowns Management API docs, paged responses) */
export const TakedownPageSchema = Type.Object({
  items: Type.Array(Type.Unknown()),
  total: Opt(Type.Integer()),
  page: Opt(Type.Integer()),
  size: Opt(Type.Integer()),
  pages: Opt(Type.Integer())
})
export type TakedownPage = Omit<Static<typeof TakedownPageSchema>, 'items'> & { items: Takedown[] }

export const StatusSchema = Type.Object({
  id: Type.Number(),
  name: Type.String(),
  description: Opt(Type.String())
})
export type Status = Static<typeof StatusSchema>
export const StatusListSchema = Type.Array(StatusSchema)

export const StringListSchema = Type.Array(Type.String())
export const ItemsListSchema = Type.Object({ items: Type.Array(Type.String()) })

export const CancellationReasonSchema = Type.Object({
  id: Type.Number(),
  reason: Type.String(),
  is_active: Opt(Type.Boolean())
})
export type CancellationReason = Static<typeof CancellationReasonSchema>
export const CancellationReasonListSchema = Type.Array(CancellationReasonSchema)

/** BforeAI API docs, POST /v2/takedown/{takedown_id}/cancel */
export const CancelResultSchema = Type.Object({
  message: Opt(Type.String()),
  takedown_id: Opt(Type.Union([Type.String(), Type.Number()])),
  new_status: Opt(Type.String()),
  description: Opt(Type.String())
})
export type CancelResult = Static<typeof CancelResultSchema>

/** BforeAI API docs, POST /v2/takedown/request: the 202 "already detected" body is [?]; `{ message }` is the inferred shape. */
export const AlreadyDetectedSchema = Type.Object({ message: Opt(Type.String()) })

/** Request bodies (BforeAI API docs: POST /v2/takedown/request, /social-media and /{takedown_id}/cancel). */
export interface RequestTakedownBody { url: string, brand_id: number, comment: string }
export interface SocialTakedownBody { threat_type: string, platform: string, malicious_url: string, brand_id: number, comment: string }
export interface CancelBody { cancel_reason_id: number, description?: string }

/** FastAPI error bodies (BforeAI Takedowns Management API docs, error responses): 422 `{detail:[{loc,msg,type,...}]}`, others `{detail: string|object}`. */
export interface ValidationItem { loc: Array<string | number>, msg: string, type: string, [k: string]: unknown }
export function isShape<T extends TSchema> (schema: T, value: unknown): value is Static<T> {
  return check(schema, value)
}

/** `takedown` of a confirmed attack (BforeAI API docs, GET /v2/takedown/attacks); null or absent when no takedown exists yet [I]. */
export const AttackTakedownSchema = Type.Object({
  id: Type.Union([Type.String({ minLength: 1 }), Type.Integer()]),
  created: Opt(Type.String()),
  updated_at: Opt(Type.String()),
  status: Opt(Type.String()),
  status_id: Opt(Type.Number()),
  status_updated_at: Opt(Type.String())
})

/** One confirmed attack of `GET /v2/takedown/attacks` (BforeAI API docs). */
export const AttackSchema = Type.Object({
  attack_id: Type.Integer(),
  attack_name: Opt(Type.String()),
  company_id: Opt(Type.Number()),
  protected_asset_id: Opt(Type.Number()),
  protected_asset_name: Opt(Type.String()),
  value: Opt(Type.Object({ type: Opt(Type.String()), value: Opt(Type.String()) })),
  detection_date: Opt(Type.String()),
  identification_status: Opt(Type.Object({ value: Opt(Type.String()), updated_at: Opt(Type.String()) })),
  score: Opt(Type.Object({ value: Opt(Type.Number()), updated_at: Opt(Type.String()) })),
  asset_type: Opt(Type.String()),
  takedown: Opt(AttackTakedownSchema)
})
export type Attack = Static<typeof AttackSchema>

/** fastapi-pagination Page plus a `warning` string (BforeAI Takedowns Management API docs, paged responses). */
export const AttackPageSchema = Type.Object({
  items: Type.Array(Type.Unknown()),
  total: Opt(Type.Integer()),
  page: Opt(Type.Integer()),
  size: Opt(Type.Integer()),
  pages: Opt(Type.Integer()),
  warning: Opt(Type.String())
})
export type AttackPage = Omit<Static<typeof AttackPageSchema>, 'items'> & { items: Attack[] }

/** `POST /v2/takedown/accept` (BforeAI API docs): both integers, both required. */
export interface AcceptBody { attack_id: number, brand_id: number }
