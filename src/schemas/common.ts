import { Type } from 'typebox'

export const TARGET_TYPES = ['url', 'domain', 'email', 'phone', 'ipv4', 'social'] as const
export type TargetType = (typeof TARGET_TYPES)[number]
export const TargetTypeSchema = Type.Enum(TARGET_TYPES, { description: 'Kind of target' })

export const Rfc3339Schema = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp, UTC' })

/**
 * Nullable primitives as JSON Schema type arrays (`{"type": ["string", "null"]}`, valid OpenAPI 3.1) rather than
 * `anyOf`: fast-json-stringify serialises a type array directly but runs a validator per `anyOf` branch, which
 * doubled the cost of serialising a page of cases (120 µs against 63 µs for 50 cases).
 */
export function Nullable<T extends string | number | boolean> (type: 'string' | 'integer' | 'number' | 'boolean', opts: Record<string, unknown> = {}) {
  return Type.Unsafe<T | null>({ ...opts, type: [type, 'null'] })
}

export const NullableRfc3339Schema = Nullable<string>('string', { format: 'date-time', description: 'RFC 3339 timestamp, UTC, or null when the provider does not give it' })
export const NullableString = Nullable<string>('string')
