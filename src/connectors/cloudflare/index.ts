/**
 * The Cloudflare connector: Abuse Reports API v4 (Cloudflare API v4 docs 'Make API calls', Cloudflare API v4 schema, Abuse Reports). The unified status is
 * computed from the report status, its mitigation_summary and the types of its active mitigations;
 * a listing fetches the active mitigations of every report that has some, so list and detail agree.
 */
import { mapLimit } from '../map-limit.js'
import type { Case } from '../../schemas/case.js'
import type { ReferenceItem, ReferenceKind } from '../../schemas/reference.js'
import type { TargetType } from '../../schemas/common.js'
import { GatewayError } from '../../domain/problems.js'
import type {
  AppealInput, BrandMonitor, BrandMonitorInput, Capabilities, ConnectorContext, ConnectorDeps, CreateCaseInput, CreateOutcome,
  DetectionPage, DetectionQuery, PreparedRequest, ProviderCaseQuery, ProviderConnector, ConnectorFactory, ProviderPage,
  ProviderSettings, ScanInfo, ScanSubmission
} from '../connector.js'
import { caseRow, mappedPage, type CaseRow, type ProviderRowPage } from '../connector.js'
import { encodeCaseId } from '../../domain/case-id.js'
import { deadlineScope } from '../deadline.js'
import type { Detection, DetectionKind } from '../../schemas/detection.js'
import { BrandProtection, BrandProtectionClient } from './brand.js'
import { CloudflareClient, MAX_PER_PAGE } from './client.js'
import { prepareSubmit } from './create.js'
import { activeMitigations, createdAtOf, statusFacts, toCase, toCaseDetail } from './mapper.js'
import { REFERENCE } from './reference.js'
import { ACT_TO_TYPE, type AbuseReport, type Mitigation } from './wire.js'

export const CLOUDFLARE_CAPABILITIES: Capabilities = {
  create: { takedown: ['url', 'domain'], monitor: [] },
  cancel: false,
  attachments: false,
  comments: false,
  appeal: true,
  actions: [],
  detections: true
}

/** active mitigations per report, keyed by id + mitigation_summary so any change in the counts misses */
const CACHE_TTL_MS = 60_000
/**
 * Past the TTL a cached answer is still used for this long while it is refreshed behind the listing (same mitigation
 * counts: a changed summary is another key and is fetched before answering). Without it, the first listing after
 * each minute waited for a mitigation call per report, four at a time (the bench saw a 350 ms p99 every minute).
 */
const CACHE_STALE_MS = 10 * 60_000
/** background refreshes in flight at once */
const REFRESH_CONCURRENCY = 2
/** enough for the watcher to keep every report with active mitigations of a large account (an entry is ~200 bytes) */
const CACHE_MAX = 20_000
/** parallel mitigation look-ups per listing page */
const MITIGATION_CONCURRENCY = 4
/** pages findOpenCase reads (newest first) before it stops looking */
const FIND_OPEN_MAX_PAGES = 5

function summaryKey (r: AbuseReport): string {
  const s = r.mitigation_summary ?? {}
  return [r.id, r.status, s.accepted_url_count, s.active_count, s.pending_count, s.in_review_count].join('|')
}

/** Whole seconds, for the vendor's created_after/created_before (RFC 3339 without fractions). */
function isoSeconds (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function hostnameOf (target: { type: TargetType, value: string }): string | null {
  if (target.type === 'domain') return target.value.trim().toLowerCase().replace(/\.$/, '')
  try {
    return new URL(target.value).hostname.toLowerCase()
  } catch {
    return null
  }
}

class CloudflareConnector implements ProviderConnector {
  readonly id = 'cloudflare' as const
  readonly capabilities = CLOUDFLARE_CAPABILITIES
  readonly #client: CloudflareClient
  readonly #deps: ConnectorDeps
  readonly #accountId: string
  readonly #cache = new Map<string, { at: number, active: Mitigation[] }>()
  /** keys being refreshed or waiting for it, and the waiting refreshes */
  readonly #refreshing = new Set<string>()
  readonly #refreshQueue: Array<() => Promise<void>> = []
  #refreshRunning = 0
  readonly #timeoutMs: number
  readonly #brand: BrandProtection

  constructor (settings: ProviderSettings & { accountId: string }, deps: ConnectorDeps) {
    this.#deps = deps
    this.#accountId = settings.accountId
    this.#timeoutMs = settings.timeoutMs
    this.#client = new CloudflareClient({
      baseUrl: settings.baseUrl,
      credential: settings.credential,
      accountId: settings.accountId,
      timeoutMs: settings.timeoutMs,
      dispatcher: deps.dispatcher,
      clock: deps.clock
    })
    this.#brand = new BrandProtection(new BrandProtectionClient(this.#client.http, settings.accountId))
  }

  // ---- brand protection (Cloudflare API reference, Brand Protection v1 and v2) ---------------------------------------

  async listDetections (query: DetectionQuery, ctx: ConnectorContext): Promise<DetectionPage> {
    return await this.#brand.listDetections(query, ctx)
  }

  async getDetection (kind: DetectionKind, nativeId: string, ctx: ConnectorContext): Promise<Detection | null> {
    return await this.#brand.getDetection(kind, nativeId, ctx)
  }

  async listBrandMonitors (ctx: ConnectorContext): Promise<BrandMonitor[]> {
    return await this.#brand.listMonitors(ctx)
  }

  async createBrandMonitor (input: BrandMonitorInput, ctx: ConnectorContext): Promise<BrandMonitor> {
    return await this.#brand.createMonitor(input, ctx)
  }

  async deleteBrandMonitor (type: 'domain' | 'logo', nativeId: string, ctx: ConnectorContext): Promise<void> {
    await this.#brand.client.deleteQuery(type, nativeId, ctx)
  }

  async submitScans (urls: string[], ctx: ConnectorContext): Promise<ScanSubmission> {
    const out: ScanSubmission = { submitted: [], skipped: [], excluded: [] }
    // Cloudflare API reference, Brand Protection v1: the submit body is [I] (`{url}` per the older SDK): one request per URL
    for (const url of urls) {
      const r = await this.#brand.client.submit(url, ctx)
      out.submitted.push(...r.submitted)
      out.skipped.push(...r.skipped)
      out.excluded.push(...r.excluded)
    }
    return out
  }

  async scanInfo (query: { urls: string[], scanIds: number[] }, ctx: ConnectorContext): Promise<ScanInfo[]> {
    return await this.#brand.client.urlInfo(query, ctx)
  }

  /**
   * The active mitigations when they are known without a call: none (active_count 0), or cached (a copy past its TTL
   * is used and refreshed in the background); null when the report needs a call.
   */
  #cachedActive (report: AbuseReport, log: ConnectorContext['log'], cachedOk = false): Mitigation[] | null {
    if ((report.mitigation_summary?.active_count ?? 0) <= 0) return []
    const key = summaryKey(report)
    const hit = this.#cache.get(key)
    if (hit === undefined) return null
    // the watcher's polls: same summary, same answer, no call (its budget share pays only for changed reports)
    if (cachedOk) return hit.active
    const age = this.#deps.clock.now() - hit.at
    if (age < CACHE_TTL_MS) return hit.active
    if (age >= CACHE_TTL_MS + CACHE_STALE_MS) return null
    this.#refreshBehind(report, key, log)
    return hit.active
  }

  #refreshBehind (report: AbuseReport, key: string, log: ConnectorContext['log']): void {
    if (this.#refreshing.has(key)) return
    this.#refreshing.add(key)
    this.#refreshQueue.push(async () => {
      const scope = deadlineScope(null, this.#timeoutMs)
      try {
        await this.#fetchActive(report, key, { signal: scope.signal, deadline: scope.deadline, log })
      } catch (err) {
        log.debug({ provider: 'cloudflare', reportId: report.id, err: (err as Error).message }, 'background refresh of active mitigations failed; the cached copy stays')
      } finally {
        scope.end()
        this.#refreshing.delete(key)
      }
    })
    this.#drainRefreshes()
  }

  #drainRefreshes (): void {
    while (this.#refreshRunning < REFRESH_CONCURRENCY && this.#refreshQueue.length > 0) {
      const job = this.#refreshQueue.shift()!
      this.#refreshRunning++
      job().finally(() => { this.#refreshRunning--; this.#drainRefreshes() }).catch(() => {})
    }
  }

  /** Active mitigations of a report with active_count > 0 (cached, see CACHE_TTL_MS); [] otherwise without a call. */
  async #active (report: AbuseReport, ctx: ConnectorContext): Promise<Mitigation[]> {
    return this.#cachedActive(report, ctx.log, ctx.cachedOk) ?? await this.#fetchActive(report, summaryKey(report), ctx)
  }

  async #fetchActive (report: AbuseReport, key: string, ctx: ConnectorContext): Promise<Mitigation[]> {
    const now = this.#deps.clock.now()
    const active = activeMitigations(await this.#client.listMitigations(report.id, { status: 'active' }, ctx))
    this.#cache.delete(key)
    this.#cache.set(key, { at: now, active })
    while (this.#cache.size > CACHE_MAX) {
      const oldest = this.#cache.keys().next().value
      if (oldest === undefined) break
      this.#cache.delete(oldest)
    }
    return active
  }

  async #toCases (reports: readonly AbuseReport[], ctx: ConnectorContext): Promise<Case[]> {
    return (await this.#rows(reports, ctx)).map(r => r.toCase())
  }

  /**
   * Rows for listed reports: the active mitigations (the unified status needs them) are read now, from the cache
   * when it has them (no promise per report then); the mapping waits until the row is handed out.
   */
  async #rows (reports: readonly AbuseReport[], ctx: ConnectorContext): Promise<CaseRow[]> {
    const row = (report: AbuseReport, active: Mitigation[]): CaseRow => caseRow(createdAtOf(report), encodeCaseId('cloudflare', report.id),
      () => toCase(report, this.#deps.status.map('cloudflare', report.status, statusFacts(report, active)), active))
    const cached = reports.map(r => this.#cachedActive(r, ctx.log, ctx.cachedOk))
    if (cached.every(a => a !== null)) return reports.map((r, i) => row(r, cached[i]!))
    return await mapLimit(reports, MITIGATION_CONCURRENCY, async report => row(report, await this.#active(report, ctx)))
  }

  async listCases (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderPage> {
    return await mappedPage(this.listCaseRows(query, ctx))
  }

  async listCaseRows (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage> {
    const page = query.pageToken === null ? 1 : Number(query.pageToken)
    if (!Number.isSafeInteger(page) || page < 1) {
      throw new GatewayError('GW_ERR_BAD_CURSOR', 'the cursor holds an invalid cloudflare page; start the listing again without a cursor')
    }
    const perPage = Math.max(1, Math.min(query.pageSize, MAX_PER_PAGE))
    const since = query.filters.since === undefined ? NaN : Date.parse(query.filters.since)
    const until = query.filters.until === undefined ? NaN : Date.parse(query.filters.until)
    // the vendor's bound inclusivity is not documented [?]: widen each bound by one second (the gateway re-filters)
    const { reports, info } = await this.#client.listReports({
      page,
      perPage,
      sort: 'cdate,desc',
      ...(Number.isNaN(since) ? {} : { createdAfter: isoSeconds(Math.floor(since / 1000) * 1000 - 1000) }),
      ...(Number.isNaN(until) ? {} : { createdBefore: isoSeconds(Math.ceil(until / 1000) * 1000 + 1000) })
    }, ctx)
    const rows = await this.#rows(reports, ctx)
    rows.sort((a, b) => a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)
    const totalPages = info?.total_pages
    const more = totalPages === undefined ? reports.length >= perPage : page < totalPages
    return { rows, next: more ? String(page + 1) : null }
  }

  async getCase (providerCaseId: string, opts: { raw: boolean }, ctx: ConnectorContext) {
    const [report, mitigations] = await Promise.all([
      this.#client.getReport(providerCaseId, ctx),
      this.#client.listMitigations(providerCaseId, {}, ctx)
    ])
    const status = this.#deps.status.map('cloudflare', report.status, statusFacts(report, activeMitigations(mitigations)))
    return toCaseDetail(report, status, mitigations, opts.raw)
  }

  async listReference (kind: ReferenceKind): Promise<ReferenceItem[] | null> {
    if (kind === 'statuses') {
      return REFERENCE.statuses.map(s => {
        const mapped = this.#deps.status.map('cloudflare', s.id, {})
        return { provider: 'cloudflare', kind, id: s.id, name: s.id, description: s.description, unifiedStatus: mapped.status, terminal: mapped.terminal }
      })
    }
    const list = kind === 'report-types' ? REFERENCE.reportTypes : kind === 'mitigation-types' ? REFERENCE.mitigationTypes : null
    if (list === null) return null
    return list.map(item => ({ provider: 'cloudflare', kind, id: item.id, name: item.name, description: item.description }))
  }

  async prepareCreate (input: CreateCaseInput): Promise<PreparedRequest> {
    return prepareSubmit(input, this.#accountId)
  }

  async submitCreate (prepared: PreparedRequest, input: CreateCaseInput, ctx: ConnectorContext): Promise<CreateOutcome> {
    const submittedAt = this.#deps.clock.now()
    const res = await this.#client.submit(prepared.path, prepared.body, ctx)
    const id = res.abuse_rand
    try {
      const detail = await this.getCase(id, { raw: false }, ctx)
      const { history: _h, mitigations: _m, raw: _r, ...created } = detail
      return { kind: 'created', case: created }
    } catch (err) {
      ctx.log.warn({ provider: 'cloudflare', providerCaseId: id, err: (err as Error).message }, 'created abuse report could not be read back')
      return { kind: 'created', case: this.#knownCase(id, input, prepared, submittedAt) }
    }
  }

  /** The created report as far as we know it without reading it back: status unknown, createdAt = submit time. */
  #knownCase (id: string, input: CreateCaseInput, prepared: PreparedRequest, submittedAt: number): Case {
    const status = this.#deps.status.map('cloudflare', null, {})
    const urls = typeof prepared.body.urls === 'string' ? prepared.body.urls : input.target.value
    const act = String(prepared.body.act)
    const report: AbuseReport = {
      id,
      cdate: new Date(submittedAt).toISOString(),
      domain: hostnameOf(input.target) ?? '',
      type: (ACT_TO_TYPE as Record<string, string>)[act] ?? act,
      status: '',
      original_work: typeof prepared.body.original_work === 'string' ? prepared.body.original_work : null,
      submitter: { email: typeof prepared.body.email === 'string' ? prepared.body.email : null },
      urls: input.target.type === 'url' ? [urls] : []
    }
    return { ...toCase(report, status, []), providerStatus: null }
  }

  async findOpenCase (target: { type: TargetType, value: string }, ctx: ConnectorContext): Promise<Case | null> {
    const domain = hostnameOf(target)
    if (domain === null || domain === '') return null
    for (let page = 1; page <= FIND_OPEN_MAX_PAGES; page++) {
      const { reports, info } = await this.#client.listReports({ page, perPage: MAX_PER_PAGE, sort: 'cdate,desc', domain }, ctx)
      const cases = await this.#toCases(reports, ctx)
      const open = cases.find(c => !c.terminal)
      if (open !== undefined) return open
      const totalPages = info?.total_pages
      if (totalPages === undefined ? reports.length < MAX_PER_PAGE : page >= totalPages) break
    }
    return null
  }

  async appeal (providerCaseId: string, input: AppealInput, ctx: ConnectorContext): Promise<void> {
    // Cloudflare API schema, RequestReview: either `appeals` or `type` (+ `data` for counter_notice), never both; the vendor checks the ids
    await this.#client.appeal(providerCaseId, input, ctx)
  }
}

export const cloudflareModule: ConnectorFactory = {
  id: 'cloudflare',
  create (settings: ProviderSettings, deps: ConnectorDeps): ProviderConnector {
    const accountId = settings.options?.accountId
    if (accountId === undefined || accountId.trim() === '') {
      throw new Error('cloudflare: an account id is required (CLOUDFLARE_ACCOUNT_ID); every Abuse Reports path is under /accounts/{account_id}')
    }
    return new CloudflareConnector({ ...settings, accountId: accountId.trim() }, deps)
  }
}
