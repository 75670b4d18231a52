/**
 * Service-level policies as data (README 'Service levels'): the rules of `SLA_POLICY_FILE`, their ISO 8601 durations,
 * the checks that stop a start on a typo, and which rule a case falls under (the first that matches, in file order).
 * Durations are calendar time: business hours and holidays are out of scope.
 */
import { TARGET_TYPES, type TargetType } from '../schemas/common.js'
import { PROVIDER_IDS } from '../schemas/provider.js'

export interface SlaMatch {
  providers?: string[]
  targetTypes?: TargetType[]
  threatClasses?: string[]
  /** a brand id, or a brand name (case-insensitive, whole name) */
  brands?: string[]
}

export interface SlaRule {
  id: string
  match: SlaMatch
  /** created → the first status after `received`, in ms */
  firstActionWithinMs: number | null
  /** created → `verified_down` (verification on) or `taken_down`/`mitigated` (off), in ms */
  downWithinMs: number | null
  /** how long before a pending due time the warning is recorded */
  warnBeforeMs: number | null
  /** created → the vendor's escalation (or a comment naming the breach), while the target is not down */
  escalateAfterMs: number | null
  /** created → the same target filed at the next provider of the routing order, while the target is not down */
  failoverAfterMs: number | null
  cancelOriginal: boolean
  dryRun: boolean
  /** the rule as the file wrote it (GET /v1/sla/policies shows it) */
  source: Record<string, unknown>
}

export interface SlaPolicy {
  /** where the rules came from: a file path, `sandbox default`, or `none` */
  origin: string
  rules: SlaRule[]
}

export const NO_SLA_POLICY: SlaPolicy = { origin: 'none', rules: [] }

// ---- durations -----------------------------------------------------------------------------------------------------

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

/** An ISO 8601 duration of weeks, days, hours, minutes and seconds (`PT24H`, `P2D`, `P1DT12H`) in ms; null when it is not one. Years and months are refused (their length varies). */
export function parseDuration (text: string): number | null {
  const m = DURATION.exec(text)
  if (m === null || text === 'P' || text.endsWith('T')) return null
  const [, w = '0', d = '0', h = '0', min = '0', s = '0'] = m
  const ms = ((Number(w) * 7 + Number(d)) * 86_400 + Number(h) * 3600 + Number(min) * 60 + Number(s)) * 1000
  return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : null
}

// ---- the file ------------------------------------------------------------------------------------------------------

const RULE_FIELDS = ['id', 'match', 'firstActionWithin', 'downWithin', 'warnBefore', 'escalateAfter', 'failoverAfter', 'cancelOriginal', 'dryRun', 'description']
const MATCH_FIELDS = ['provider', 'targetType', 'threatClass', 'brand']
const DURATION_FIELDS = ['firstActionWithin', 'downWithin', 'warnBefore', 'escalateAfter', 'failoverAfter'] as const

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A string or a list of strings → the list; null (after a problem) otherwise. */
function strings (v: unknown): string[] | null {
  const list = typeof v === 'string' ? [v] : v
  return Array.isArray(list) && list.length > 0 && list.every(s => typeof s === 'string' && s.trim() !== '') ? list.map(s => (s as string).trim()) : null
}

/** Checks a parsed policy document: the rules, or the problems (each naming the rule and the field). */
export function checkPolicy (doc: unknown, origin: string): { policy: SlaPolicy, problems: string[] } {
  const problems: string[] = []
  const rules: SlaRule[] = []
  if (!isObject(doc) || !Array.isArray(doc.rules)) return { policy: { origin, rules }, problems: ['must be a JSON object {"rules": [...]}'] }
  for (const key of Object.keys(doc)) if (key !== 'rules' && key !== '$comment') problems.push(`unknown field "${key}" (allowed: rules)`)
  const ids = new Set<string>()
  doc.rules.forEach((raw: unknown, i: number) => {
    const at = `rules[${i}]`
    if (!isObject(raw)) { problems.push(`${at} must be an object`); return }
    for (const key of Object.keys(raw)) if (!RULE_FIELDS.includes(key)) problems.push(`${at}: unknown field "${key}" (allowed: ${RULE_FIELDS.join(', ')})`)
    const id = typeof raw.id === 'string' && /^[\w.-]{1,64}$/.test(raw.id) ? raw.id : null
    if (id === null) problems.push(`${at}.id must be 1-64 letters, digits, _ . -`)
    else if (ids.has(id)) problems.push(`${at}.id "${id}" appears twice`)
    else ids.add(id)
    const name = id === null ? at : `${at} ("${id}")`
    const match: SlaMatch = {}
    if (raw.match !== undefined) {
      if (!isObject(raw.match)) problems.push(`${name}.match must be an object`)
      else {
        for (const key of Object.keys(raw.match)) if (!MATCH_FIELDS.includes(key)) problems.push(`${name}.match: unknown field "${key}" (allowed: ${MATCH_FIELDS.join(', ')})`)
        const m = raw.match
        const list = (key: string, allowed: readonly string[] | null): string[] | undefined => {
          if (m[key] === undefined) return undefined
          const values = strings(m[key])
          if (values === null) { problems.push(`${name}.match.${key} must be a string or a non-empty list of strings`); return undefined }
          const bad = allowed === null ? [] : values.filter(v => !allowed.includes(v))
          if (bad.length > 0) problems.push(`${name}.match.${key}: unknown ${key} ${bad.map(b => `"${b}"`).join(', ')} (allowed: ${(allowed ?? []).join(', ')})`)
          return values
        }
        const providers = list('provider', PROVIDER_IDS)
        const targetTypes = list('targetType', TARGET_TYPES) as TargetType[] | undefined
        const threatClasses = list('threatClass', null)
        const brands = list('brand', null)
        if (providers !== undefined) match.providers = providers
        if (targetTypes !== undefined) match.targetTypes = targetTypes
        if (threatClasses !== undefined) match.threatClasses = threatClasses.map(s => s.toLowerCase())
        if (brands !== undefined) match.brands = brands.map(s => s.toLowerCase())
      }
    }
    const ms: Record<string, number | null> = {}
    for (const f of DURATION_FIELDS) {
      const v = raw[f]
      ms[f] = null
      if (v === undefined) continue
      const parsed = typeof v === 'string' ? parseDuration(v) : null
      if (parsed === null) problems.push(`${name}.${f}: "${String(v)}" is not an ISO 8601 duration such as PT24H or P2D (weeks, days, hours, minutes, seconds; more than zero)`)
      ms[f] = parsed
    }
    if (raw.firstActionWithin === undefined && raw.downWithin === undefined) problems.push(`${name} needs firstActionWithin or downWithin`)
    if (raw.warnBefore !== undefined && raw.firstActionWithin === undefined && raw.downWithin === undefined) problems.push(`${name}.warnBefore needs a due time to warn before`)
    for (const f of ['cancelOriginal', 'dryRun']) if (raw[f] !== undefined && typeof raw[f] !== 'boolean') problems.push(`${name}.${f} must be true or false`)
    if (raw.cancelOriginal === true && raw.failoverAfter === undefined) problems.push(`${name}.cancelOriginal needs failoverAfter`)
    rules.push({
      id: id ?? at,
      match,
      firstActionWithinMs: ms.firstActionWithin ?? null,
      downWithinMs: ms.downWithin ?? null,
      warnBeforeMs: ms.warnBefore ?? null,
      escalateAfterMs: ms.escalateAfter ?? null,
      failoverAfterMs: ms.failoverAfter ?? null,
      cancelOriginal: raw.cancelOriginal === true,
      dryRun: raw.dryRun === true,
      source: raw
    })
  })
  return { policy: { origin, rules }, problems }
}

// ---- matching ------------------------------------------------------------------------------------------------------

export interface SlaSubject {
  provider: string
  targetType: string
  threatClass: string | null
  brand: { id: string | number | null, name: string | null }
}

export function ruleMatches (rule: SlaRule, s: SlaSubject): boolean {
  const m = rule.match
  if (m.providers !== undefined && !m.providers.includes(s.provider)) return false
  if (m.targetTypes !== undefined && !(m.targetTypes as string[]).includes(s.targetType)) return false
  if (m.threatClasses !== undefined && (s.threatClass === null || !m.threatClasses.includes(s.threatClass.toLowerCase()))) return false
  if (m.brands !== undefined) {
    const id = s.brand.id === null ? null : String(s.brand.id).toLowerCase()
    const name = s.brand.name?.toLowerCase() ?? null
    if (!m.brands.some(b => b === id || b === name)) return false
  }
  return true
}

/** The rule a case falls under: the first that matches, in file order; null when none does. */
export function ruleFor (policy: SlaPolicy, s: SlaSubject): SlaRule | null {
  return policy.rules.find(r => ruleMatches(r, s)) ?? null
}

/**
 * The sandbox's policy (SANDBOX=true without SLA_POLICY_FILE): minutes of wall-clock time, so that with
 * SANDBOX_SPEED=600 the simulators' slower URL cases breach, get escalated (the provider's own escalation where it has
 * one, else a comment) and fail over to the next provider; every other case is watched by a dry-run rule.
 */
export const SANDBOX_SLA_DOCUMENT = {
  $comment: 'Sandbox default: tight wall-clock durations so breaches, escalations and failovers show within minutes',
  rules: [
    { id: 'sandbox-urls', match: { targetType: 'url' }, firstActionWithin: 'PT1M', downWithin: 'PT4M', warnBefore: 'PT1M', escalateAfter: 'PT2M', failoverAfter: 'PT5M' },
    { id: 'sandbox-observe', firstActionWithin: 'PT3M', downWithin: 'PT10M', warnBefore: 'PT2M', escalateAfter: 'PT5M', dryRun: true }
  ]
}

export const SANDBOX_SLA_POLICY: SlaPolicy = { ...checkPolicy(SANDBOX_SLA_DOCUMENT, 'sandbox default').policy }
