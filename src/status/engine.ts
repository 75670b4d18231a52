import { isTerminal, type UnifiedStatus } from '../schemas/unified-status.js'
import type { ProviderId } from '../schemas/provider.js'
import { normaliseStatusName, type Facts, type RuleCondition, type StatusTable } from './table.js'

export interface MappedStatus { status: UnifiedStatus, terminal: boolean }

export type StatusOverrides = Partial<Record<ProviderId, Readonly<Record<string, UnifiedStatus>>>>

/** Called once per unmapped (provider, status) sighting: the log line and the metric hang off it. */
export type UnknownStatusListener = (provider: ProviderId, providerStatus: string | null) => void

/**
 * The only code that reads status tables. It never names a provider.
 * Order: STATUS_MAP_FILE overrides (by vendor status, normalised), then the provider's table, then `unknown`.
 */
export class StatusEngine {
  readonly #tables: Readonly<Record<ProviderId, StatusTable>>
  readonly #overrides: Map<ProviderId, Map<string, UnifiedStatus>>
  readonly #lookups = new Map<ProviderId, Map<string, UnifiedStatus>>()
  #onUnknown: UnknownStatusListener

  constructor (tables: Readonly<Record<ProviderId, StatusTable>>, overrides: StatusOverrides = {}, onUnknown: UnknownStatusListener = () => {}) {
    this.#tables = tables
    this.#onUnknown = onUnknown
    this.#overrides = new Map()
    for (const [provider, entries] of Object.entries(overrides) as Array<[ProviderId, Record<string, UnifiedStatus>]>) {
      this.#overrides.set(provider, new Map(Object.entries(entries).map(([k, v]) => [normaliseStatusName(k), v])))
    }
    for (const [provider, table] of Object.entries(tables) as Array<[ProviderId, StatusTable]>) {
      if (table.kind === 'lookup') {
        this.#lookups.set(provider, new Map(Object.entries(table.entries).map(([k, v]) => [table.normalise === true ? normaliseStatusName(k) : k, v])))
      }
    }
  }

  /** Replaces the unknown-status listener (the app wires its log line and metric here). */
  listenUnknown (listener: UnknownStatusListener): void { this.#onUnknown = listener }

  map (provider: ProviderId, providerStatus: string | null | undefined, facts: Facts = {}): MappedStatus {
    const status = this.#resolve(provider, providerStatus ?? null, facts)
    if (status === 'unknown') this.#onUnknown(provider, providerStatus ?? null)
    return { status, terminal: isTerminal(status) }
  }

  /** The table entries of one provider (for GET /v1/reference/statuses), overrides applied. */
  entries (provider: ProviderId): Array<{ providerStatus: string, status: UnifiedStatus }> {
    const table = this.#tables[provider]
    const out = new Map<string, UnifiedStatus>()
    if (table.kind === 'lookup') for (const [k, v] of Object.entries(table.entries)) out.set(k, v)
    for (const [k, v] of this.#overrides.get(provider) ?? []) out.set(k, v)
    return [...out].map(([providerStatus, status]) => ({ providerStatus, status }))
  }

  #resolve (provider: ProviderId, providerStatus: string | null, facts: Facts): UnifiedStatus {
    if (providerStatus !== null) {
      const override = this.#overrides.get(provider)?.get(normaliseStatusName(providerStatus))
      if (override !== undefined) return override
    }
    const table = this.#tables[provider]
    if (table.kind === 'lookup') {
      if (providerStatus === null) return 'unknown'
      const key = table.normalise === true ? normaliseStatusName(providerStatus) : providerStatus
      return this.#lookups.get(provider)?.get(key) ?? 'unknown'
    }
    for (const rule of table.rules) {
      if (matches(rule.when, providerStatus, facts)) return rule.then
    }
    return 'unknown'
  }
}

function matches (when: RuleCondition, providerStatus: string | null, facts: Facts): boolean {
  if (when.providerStatus !== undefined && (providerStatus === null || !when.providerStatus.includes(providerStatus))) return false
  for (const [fact, min] of Object.entries(when.above ?? {})) {
    const value = facts[fact]
    if (typeof value !== 'number' || !(value > min)) return false
  }
  for (const [fact, expected] of Object.entries(when.equals ?? {})) {
    if (facts[fact] !== expected) return false
  }
  if (when.includesAny !== undefined) {
    const list = facts[when.includesAny.fact]
    if (!Array.isArray(list)) return false
    const values = when.includesAny.values
    const hit = (list as readonly string[]).some(item => values.some(v => v.endsWith('*') ? item.startsWith(v.slice(0, -1)) : item === v))
    if (!hit) return false
  }
  return true
}
