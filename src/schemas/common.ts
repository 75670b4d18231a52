import { Type } from 'typebox'

export const TARGET_TYPES = ['url', 'domain', 'email', 'phone', 'ipv4', 'social'] as const
export type TargetType = (typeof TARGET_TYPES)[number]
export const TargetTypeSchema = Type.Enum(TARGET_TYPES, { description: 'Kind of target' })

export const Rfc3339Schema = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp, UTC' })
export const NullableRfc3339Schema = Type.Union([Rfc3339Schema, Type.Null()])
export const NullableString = Type.Union([Type.String(), Type.Null()])
