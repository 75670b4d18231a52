/**
 * Status tables are data. Three kinds cover every vendor (ADR 0003):
 * - lookup: exact vendor value → unified status (a vendor's closed set)
 * - lookup with `normalise`: names compared case- and separator-insensitively (names a vendor defines at run time)
 * - rules: ordered predicates over several facts, first match wins (a status computed from several vendor fields)
 */
import type { UnifiedStatus } from '../schemas/unified-status.js'

export interface LookupTable {
  kind: 'lookup'
  normalise?: boolean
  entries: Readonly<Record<string, UnifiedStatus>>
}

/** A fact is a number, a string or a list of strings the connector extracts from the vendor object. */
export type Facts = Readonly<Record<string, number | string | boolean | readonly string[] | null | undefined>>

export interface RuleCondition {
  /** the vendor status is one of these */
  providerStatus?: readonly string[]
  /** every named numeric fact is greater than the value */
  above?: Readonly<Record<string, number>>
  /** every named numeric fact equals the value */
  equals?: Readonly<Record<string, number>>
  /** the named list fact contains one of the values; a value ending in `*` matches by prefix */
  includesAny?: { fact: string, values: readonly string[] }
}

export interface Rule { when: RuleCondition, then: UnifiedStatus }

export interface RulesTable {
  kind: 'rules'
  rules: readonly Rule[]
}

export type StatusTable = LookupTable | RulesTable

/** `Takedown In-Progress`, `takedown_in_progress` and `takedown in progress` are one name. */
export function normaliseStatusName (name: string): string {
  return name.trim().toLowerCase().replace(/[\s_\-./]+/g, ' ')
}
