/**
 * Pure wire → canonical mapping for BforeAI takedowns. No network, no status branching: the unified status is handed
 * in (already mapped by the status engine) and copied through.
 */
import { withIdentity } from '../../domain/target-identity.js'
import { extend } from '../../domain/objects.js'
import type { Case, CaseDetail, HistoryEntry } from '../../schemas/case.js'
import type { TargetType } from '../../schemas/common.js'
import type { ReferenceItem } from '../../schemas/reference.js'
import type { MappedStatus } from '../../status/engine.js'
import { caseSelfLink, encodeCaseId } from '../../domain/case-id.js'
import { toRfc3339 } from '../../domain/time.js'
import { encodeDetectionId } from '../../domain/detection-id.js'
import { detectionSelfLink, type Detection } from '../../schemas/detection.js'
import type { Attack, CancellationReason, Status, Takedown } from './wire.js'

export interface MapContext {
  /** the vendor status name (status_name, or the run-time name of status_id), null when neither is known */
  providerStatus: string | null
  status: MappedStatus
  /** links.provider */
  providerLink: string | null
}

/**
 * RFC 3339 UTC or null. FastAPI may serialise naive datetimes without an offset ("2025-12-06T01:39:03.267"); those are
 * read as UTC (assumption, README), never as the gateway host's local time.
 */
export const toIso = toRfc3339

function hostnameOf (url: URL): string {
  return url.hostname.toLowerCase()
}

function parseUrl (value: string): URL | null {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null
  } catch {
    return null
  }
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i

/** The social-media marker is the presence of `platform`, or a takedown_type that names social media. */
export function isSocial (t: Takedown): boolean {
  const platform = t.platform ?? ''
  return platform.trim() !== '' || /social/i.test(t.takedown_type ?? '')
}

export function targetOf (t: Takedown): Case['target'] {
  const raw = (t.attack_url ?? t.value?.value ?? '').trim()
  if (isSocial(t)) return { type: 'social', value: raw, domain: null }
  const url = parseUrl(raw)
  const valueSaysDomain = /^domain$/i.test(t.value?.type ?? '')
  if (url !== null) {
    const host = hostnameOf(url)
    const noPath = (url.pathname === '' || url.pathname === '/') && url.search === '' && url.hash === ''
    // BforeAI keeps such a takedown as a domain (value.type "domain"): the case says so and keeps the URL that was sent
    if (noPath || valueSaysDomain) return { type: 'domain', value: host, domain: host, submitted: raw }
    return { type: 'url', value: raw, domain: host }
  }
  if (DOMAIN_RE.test(raw)) return { type: 'domain', value: raw.toLowerCase(), domain: raw.toLowerCase() }
  const type: TargetType = valueSaysDomain ? 'domain' : 'url'
  return { type, value: raw, domain: null }
}

/** The canonical created timestamp; a takedown without a readable one cannot be listed (TypeError). */
export function createdAtOf (t: Takedown): string {
  const createdAt = toIso(t.created)
  if (createdAt === null) throw new TypeError(`takedown ${String(t.id)} has an unreadable created timestamp`)
  return createdAt
}

export function toCase (t: Takedown, ctx: MapContext): Case {
  const id = String(t.id)
  const createdAt = createdAtOf(t)
  return {
    id: encodeCaseId('bforeai', id),
    provider: 'bforeai',
    providerCaseId: id,
    target: withIdentity(targetOf(t)),
    status: ctx.status.status,
    terminal: ctx.status.terminal,
    providerStatus: ctx.providerStatus,
    brand: { id: t.brand_id ?? null, name: t.brand_name ?? null },
    threat: { class: t.takedown_type ?? null, name: t.threat_type ?? null, platform: t.platform ?? null },
    // user_id is an opaque vendor user id, not an email address: it stays in `raw`
    reportedBy: null,
    createdAt,
    updatedAt: toIso(t.updated_at),
    links: { self: caseSelfLink('bforeai', id), provider: ctx.providerLink }
  }
}

/**
 * The vendor keeps no history: one entry derived from the object itself (oldest first trivially). The gateway's own
 * record of the case (domain/history.ts `mergeHistory`) fills in the steps before it.
 */
export function toDetail (t: Takedown, ctx: MapContext, raw: boolean): CaseDetail {
  const base = toCase(t, ctx)
  const message = nonEmpty(t.cancellation_reason) ?? nonEmpty(t.description)
  const entry: HistoryEntry = {
    at: base.updatedAt ?? base.createdAt,
    status: base.status,
    providerStatus: base.providerStatus,
    message,
    source: 'provider'
  }
  const detail: CaseDetail = extend(base, { history: [entry] })
  if (raw) detail.raw = t
  return detail
}

function nonEmpty (s: string | null | undefined): string | null {
  return s === null || s === undefined || s.trim() === '' ? null : s
}

export function statusItem (s: Status, mapped: MappedStatus): ReferenceItem {
  return {
    provider: 'bforeai',
    kind: 'statuses',
    id: s.id,
    name: s.name,
    description: s.description ?? null,
    unifiedStatus: mapped.status,
    terminal: mapped.terminal
  }
}

export function nameItem (kind: 'takedown-types' | 'platforms' | 'threat-types', name: string): ReferenceItem {
  return { provider: 'bforeai', kind, id: null, name, description: null }
}

export function reasonItem (r: CancellationReason): ReferenceItem {
  return { provider: 'bforeai', kind: 'cancellation-reasons', id: r.id, name: r.reason, description: null, active: r.is_active !== false }
}

/** The target of a confirmed attack: `value` (or `attack_name`) as a URL, or a bare domain. */
export function attackTarget (a: Attack): Case['target'] | null {
  const raw = (a.value?.value ?? a.attack_name ?? '').trim()
  if (raw === '') return null
  const url = parseUrl(raw)
  if (url !== null) {
    const host = hostnameOf(url)
    const noPath = (url.pathname === '' || url.pathname === '/') && url.search === '' && url.hash === ''
    return noPath ? { type: 'domain', value: host, domain: host } : { type: 'url', value: raw, domain: host }
  }
  if (DOMAIN_RE.test(raw)) return { type: 'domain', value: raw.toLowerCase(), domain: raw.toLowerCase() }
  return { type: /^domain$/i.test(a.asset_type ?? a.value?.type ?? '') ? 'domain' : 'url', value: raw, domain: null }
}

/** A confirmed attack as a Detection; null when it has no readable detection_date or target (logged by the caller). */
export function toDetection (a: Attack): Detection | null {
  const detectedAt = toIso(a.detection_date)
  const target = attackTarget(a)
  if (detectedAt === null || target === null) return null
  const id = encodeDetectionId('bforeai', 'attack', String(a.attack_id))
  const takedownId = a.takedown?.id
  const caseId = takedownId === undefined || takedownId === null || String(takedownId) === '' ? null : encodeCaseId('bforeai', String(takedownId))
  return {
    id,
    provider: 'bforeai',
    kind: 'attack',
    target,
    source: null,
    score: a.score?.value ?? null,
    similarity: null,
    detectedAt,
    matched: {
      queryId: a.protected_asset_id === null || a.protected_asset_id === undefined ? null : String(a.protected_asset_id),
      queryTag: null,
      asset: nonEmpty(a.protected_asset_name)
    },
    caseId,
    links: { self: detectionSelfLink(id), takedown: `${detectionSelfLink(id)}/takedown`, case: caseId === null ? null : `/v1/cases/${caseId}` }
  }
}
