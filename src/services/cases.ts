/**
 * Case use-cases: the cross-provider listing (merged-listing.ts over each provider's case rows) and the single-case read.
 * Plain functions over the ProviderSet; no Fastify request or reply in here.
 */
import type { CancelSignal } from '../connectors/deadline.js'
import { createHash } from 'node:crypto'
import type { CaseFilters } from '../connectors/connector.js'
import { caseRow, ConnectorError, type CaseRow } from '../connectors/connector.js'
import type { SortKey } from '../domain/merge.js'
import { GatewayError } from '../domain/problems.js'
import type { CaseObserver } from './observer.js'
import { gatewayHistory, mergeHistory } from '../domain/history.js'
import type { CaseEvent, Timeline } from '../schemas/event.js'
import type { Logger } from '../logger.js'
import type { Case, CaseDetail, CaseListQuery, CasePage, HistoryEntry } from '../schemas/case.js'
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { isTerminal, isUnifiedStatus, UNIFIED_STATUSES, type UnifiedStatus } from '../schemas/unified-status.js'
import { MergedListing, type ListingPace, type MergedListingOptions } from './merged-listing.js'
import type { ProviderSet } from './provider-set.js'
import type { CaseView } from './case-views.js'
import { isVerificationState, VERIFICATION_STATES, type VerificationState } from '../schemas/verification.js'
import { isSlaState, SLA_STATES, type SlaState } from '../schemas/sla.js'
import { normaliseHost } from '../domain/target-identity.js'

export interface ListOptions extends MergedListingOptions {
  /** told about every case read (change events) */
  observer?: CaseObserver
  /**
   * Vendors that keep no history (their module's `historyKept: false`): a case read adds the status changes of the
   * case's timeline in the event log as `source: 'gateway'` entries (domain/history.ts).
   */
  gatewayHistory?: { providers: ReadonlySet<string>, events: { timeline: (caseId: string, after: string | null, limit: number) => Promise<Timeline> } }
  /** features' blocks on the answered cases, run after the page or detail is built (services/case-views.ts) */
  views?: CaseView[]
}

/** a case's timeline is read this many events a page, at most this many pages (far above any real case's changes) */
const TIMELINE_PAGE = 500
const TIMELINE_PAGES = 10

interface Filters extends CaseFilters {
  providers: ProviderId[]
  /** the normalised host / registrable domain of the target (applied by the gateway, across vendors) */
  host?: string
  registrableDomain?: string
  /** verification states: applied to each page once the case views have set the block */
  verification?: VerificationState[]
  /** service-level states: applied like `verification` */
  sla?: SlaState[]
}

/** a row's sort key, worked out once when the connector built the row */
const rowKey = (row: CaseRow): SortKey => row.key

export class CaseService {
  readonly #providers: ProviderSet
  readonly #listing: MergedListing<CaseRow>
  readonly #observer: CaseObserver | undefined
  readonly #gatewayHistory: ListOptions['gatewayHistory']
  readonly #views: CaseView[]

  constructor (providers: ProviderSet, secret: string, opts: ListOptions = {}) {
    this.#providers = providers
    this.#listing = new MergedListing<CaseRow>(providers, secret, rowKey, opts)
    this.#observer = opts.observer
    this.#gatewayHistory = opts.gatewayHistory
    this.#views = opts.views ?? []
  }

  /** One page of the merged listing; `pace` (bulk walks: the export) makes vendor reads wait for budget room. */
  async list (query: CaseListQuery, signal: CancelSignal, log: Logger, pace?: ListingPace): Promise<CasePage> {
    const filters = this.#filters(query)
    // rows are mapped when the merge hands them out, or when a gateway-side filter has to look at them
    const filtered = Object.keys(filters).some(k => k !== 'providers' && k !== 'verification' && k !== 'sla')
    const page = await this.#listing.page({
      cursor: query.cursor,
      limit: query.limit,
      fingerprint: fingerprintOf(filters),
      providers: filters.providers,
      readerOf: provider => {
        const connector = this.#providers.get(provider)?.connector
        if (connector == null) return null
        return async ({ pageToken, pageSize }, ctx) => {
          const q = { pageToken, pageSize, filters }
          if (connector.listCaseRows !== undefined) {
            const page = await connector.listCaseRows(q, ctx)
            return { items: page.rows, next: page.next }
          }
          const page = await connector.listCases(q, ctx)
          return { items: page.items.map(c => caseRow(c.createdAt, c.id, () => c)), next: page.next }
        }
      },
      accept: row => !filtered || (matches(row.toCase(), filters) && matchesTarget(row.toCase(), filters)),
      sinceMs: filters.since === undefined ? null : Date.parse(filters.since),
      ...(pace === undefined ? {} : { pace })
    }, signal, log)
    const items = page.items.map(row => row.toCase())
    // each view reads its own store and sets its own block: side by side, so a slow store costs one timeout, not one per view
    await Promise.all(this.#views.map(async view => { if (view.page !== undefined) await view.page(items, signal) }))
    const states = filters.verification
    const sla = filters.sla
    return {
      ...page,
      items: states === undefined && sla === undefined
        ? items
        : items.filter(c => (states === undefined || states.includes(c.verification?.state ?? 'not_checked')) &&
          (sla === undefined || (c.sla != null && sla.includes(c.sla.state))))
    }
  }

  async get (id: string, opts: { raw: boolean }, signal: CancelSignal, log: Logger): Promise<CaseDetail> {
    const parsed = this.#providers.resolveCaseId(id)
    if (parsed === null) {
      throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `No case ${id}: case ids look like <provider>:<id> with provider one of ${PROVIDER_IDS.join(', ')}`)
    }
    const entry = this.#providers.get(parsed.provider)
    if (entry?.connector == null) {
      throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `No case ${id}: provider ${parsed.provider} is off in this gateway`, { provider: parsed.provider })
    }
    // read beside the vendor call, not after it: the answer waits for the slower of the two
    const recorded = this.#gatewayHistory?.providers.has(parsed.provider) === true ? this.#recordedHistory(id, log) : null
    try {
      const connector = entry.connector
      const detail = await this.#providers.withContext(parsed.provider, signal, log, async ctx => await connector.getCase(parsed.providerCaseId, opts, ctx))
      this.#observer?.seen(detail, 'read', false)
      const answer = recorded === null ? detail : { ...detail, history: mergeHistory(detail.history, await recorded) }
      await Promise.all(this.#views.map(async view => { if (view.detail !== undefined) await view.detail(answer, signal) }))
      return answer
    } catch (err) {
      if (err instanceof ConnectorError) {
        if (err.kind !== 'not_found') this.#providers.recordError(parsed.provider, err)
        if (err.kind === 'not_found') {
          throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `${parsed.provider} has no case ${parsed.providerCaseId}`, { provider: parsed.provider, providerStatus: err.upstreamStatus })
        }
      }
      throw err
    }
  }

  /** The status changes the event log holds for a case; none (and a warning) when the event store does not answer. */
  async #recordedHistory (caseId: string, log: Logger): Promise<HistoryEntry[]> {
    const events = this.#gatewayHistory?.events
    if (events === undefined) return []
    const timeline: CaseEvent[] = []
    try {
      let after: string | null = null
      for (let page = 0; page < TIMELINE_PAGES; page++) {
        const { items, next } = await events.timeline(caseId, after, TIMELINE_PAGE)
        // the case's own events: target events (verified outcomes) are not status history
        for (const e of items) if (e.case !== null) timeline.push(e)
        if (items.length < TIMELINE_PAGE || next === null) break
        after = next
      }
    } catch (err) {
      log.warn({ caseId, err: (err as Error).message }, 'the event store did not answer: the case\'s history shows the vendor\'s entries only')
      return []
    }
    return gatewayHistory(timeline)
  }

  #filters (query: CaseListQuery): Filters {
    const active = this.#providers.requireSome().map(e => e.id)
    let providers: ProviderId[] = active
    if (query.provider !== undefined) {
      const names = providerList(query.provider)
      const off = names.filter(n => !active.includes(n as ProviderId))
      if (off.length > 0) {
        throw new GatewayError('GW_ERR_PROVIDER_OFF', `Provider ${off.join(', ')} is off in this gateway`, { allowed: active })
      }
      providers = PROVIDER_IDS.filter(p => names.includes(p))
    }
    let statuses: UnifiedStatus[] | undefined
    if (query.status !== undefined) {
      const names = csv(query.status)
      const bad = names.filter(n => !isUnifiedStatus(n))
      if (bad.length > 0 || names.length === 0) {
        // "open" is not a status but a question the terminal filter answers
        const hint = bad.includes('open') ? '; for open cases use terminal=false' : ''
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown status ${bad.join(', ') || '(empty)'}; allowed: ${UNIFIED_STATUSES.join(', ')}${hint}`, {
          errors: [{ path: '/status', message: `must be a comma-separated list of ${UNIFIED_STATUSES.join(', ')}${hint}` }],
          allowed: [...UNIFIED_STATUSES]
        })
      }
      statuses = UNIFIED_STATUSES.filter(s => names.includes(s))
    }
    // terminal=true|false is a set of unified statuses: the status filter (and its vendor translation) does the rest,
    // and the cursor fingerprint binds the resulting set
    if (query.terminal !== undefined) statuses = (statuses ?? [...UNIFIED_STATUSES]).filter(s => isTerminal(s) === query.terminal)
    if (query.since !== undefined && query.until !== undefined && Date.parse(query.since) >= Date.parse(query.until)) {
      throw new GatewayError('GW_ERR_VALIDATION', '`since` must be before `until`', { errors: [{ path: '/since', message: 'must be before until' }] })
    }
    const filters: Filters = { providers }
    if (statuses !== undefined) filters.statuses = statuses
    if (query.since !== undefined) filters.since = new Date(query.since).toISOString()
    if (query.until !== undefined) filters.until = new Date(query.until).toISOString()
    if (query.q !== undefined) filters.q = query.q
    if (query.targetType !== undefined) filters.targetType = query.targetType
    if (query.brand !== undefined) filters.brand = query.brand
    if (query.host !== undefined) filters.host = normalisedOrBad('host', normaliseHost(query.host), query.host)
    if (query.registrableDomain !== undefined) filters.registrableDomain = normalisedOrBad('registrableDomain', normaliseHost(query.registrableDomain), query.registrableDomain)
    if (query.verification !== undefined) filters.verification = verificationStates(query.verification)
    if (query.sla !== undefined) filters.sla = slaStates(query.sla)
    return filters
  }
}

export function csv (value: string): string[] {
  return [...new Set(value.split(',').map(s => s.trim()).filter(s => s !== ''))]
}

/** The provider ids of a comma-separated `provider` parameter; an unknown one is a 400. */
export function providerList (value: string): ProviderId[] {
  const names = csv(value)
  const bad = names.filter(n => !isProviderId(n))
  if (bad.length > 0) {
    throw new GatewayError('GW_ERR_VALIDATION', `Unknown provider ${bad.join(', ')}`, {
      errors: [{ path: '/provider', message: `must be a comma-separated list of ${PROVIDER_IDS.join(', ')}` }],
      allowed: [...PROVIDER_IDS]
    })
  }
  return names as ProviderId[]
}

function normalisedOrBad (name: string, normalised: string | null, raw: string): string {
  if (normalised !== null) return normalised
  throw new GatewayError('GW_ERR_VALIDATION', `${name} "${raw}" is not a host name or IP address`, { errors: [{ path: `/${name}`, message: 'must be a host name or IP address' }] })
}

/** an `sla=` list, or a 400 naming the allowed states */
export function slaStates (value: string): SlaState[] {
  const names = csv(value)
  const bad = names.filter(n => !isSlaState(n))
  if (bad.length > 0 || names.length === 0) {
    const allowed = SLA_STATES.join(', ')
    throw new GatewayError('GW_ERR_VALIDATION', `Unknown sla state ${bad.join(', ') || '(empty)'}; allowed: ${allowed}`, {
      errors: [{ path: '/sla', message: `must be a comma-separated list of ${allowed}` }],
      allowed: [...SLA_STATES]
    })
  }
  return SLA_STATES.filter(s => names.includes(s))
}

/** `host=` and `registrableDomain=`: the target's normalised fields (the same on every vendor) */
/** a `verification=` list, or a 400 naming the allowed states */
export function verificationStates (value: string): VerificationState[] {
  const names = csv(value)
  const bad = names.filter(n => !isVerificationState(n))
  if (bad.length > 0 || names.length === 0) {
    const allowed = VERIFICATION_STATES.join(', ')
    throw new GatewayError('GW_ERR_VALIDATION', `Unknown verification state ${bad.join(', ') || '(empty)'}; allowed: ${allowed}`, {
      errors: [{ path: '/verification', message: `must be a comma-separated list of ${allowed}` }],
      allowed: [...VERIFICATION_STATES]
    })
  }
  return VERIFICATION_STATES.filter(s => names.includes(s))
}

export function matchesTarget (c: Case, f: Pick<Filters, 'host' | 'registrableDomain'>): boolean {
  if (f.host !== undefined && c.target.host !== f.host) return false
  if (f.registrableDomain !== undefined && c.target.registrableDomain !== f.registrableDomain) return false
  return true
}

function fingerprintOf (f: Filters): string {
  const canonical = JSON.stringify([f.providers, f.statuses ?? null, f.since ?? null, f.until ?? null, f.q?.toLowerCase() ?? null, f.targetType ?? null, f.brand?.toLowerCase() ?? null,
    ...(f.host === undefined && f.registrableDomain === undefined ? [] : [f.host ?? null, f.registrableDomain ?? null]),
    ...(f.verification === undefined ? [] : [{ verification: f.verification }]),
    ...(f.sla === undefined ? [] : [{ sla: f.sla }])])
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16)
}

/** The gateway applies every filter itself; vendor-side filters are only an optimisation. */
export function matches (c: Case, f: CaseFilters): boolean {
  if (f.statuses !== undefined && !f.statuses.includes(c.status)) return false
  if (f.targetType !== undefined && c.target.type !== f.targetType) return false
  if (f.since !== undefined && Date.parse(c.createdAt) < Date.parse(f.since)) return false
  if (f.until !== undefined && Date.parse(c.createdAt) >= Date.parse(f.until)) return false
  if (f.q !== undefined && !matchesQuery(c.target, f.q)) return false
  if (f.brand !== undefined && !matchesBrand(c.brand, f.brand)) return false
  return true
}

/**
 * `q`: a case-insensitive substring of the target value or of the value as submitted; a URL also finds the domain case
 * of its host (a takedown of the whole domain covers the URL).
 */
export function matchesQuery (target: Case['target'], q: string): boolean {
  const needle = q.toLowerCase()
  if (target.value.toLowerCase().includes(needle) || target.submitted?.toLowerCase().includes(needle) === true) return true
  if (target.type !== 'domain' || !/^https?:\/\//i.test(q)) return false
  try {
    return new URL(q).hostname.toLowerCase() === target.value.toLowerCase()
  } catch {
    return false
  }
}

const WORDS = /[^\p{L}\p{N}]+/u

/**
 * `brand`, across vendors' spellings: all digits → the brand id; otherwise the brand id (case-insensitive), or every
 * word of it among the words of the brand name ("acme" finds "Acme Bank", "acme.com" and "ACME").
 */
export function matchesBrand (brand: Case['brand'], wanted: string): boolean {
  const w = wanted.trim().toLowerCase()
  const id = brand.id === null ? null : String(brand.id).toLowerCase()
  if (/^\d+$/.test(w) || id === w) return id === w
  const words = new Set((brand.name ?? '').toLowerCase().split(WORDS))
  const asked = w.split(WORDS).filter(s => s !== '')
  return asked.length > 0 && asked.every(word => words.has(word))
}
