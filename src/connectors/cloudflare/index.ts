/**
 * The Cloudflare connector: Abuse Reports API v4 (Cloudflare API v4 docs 'Make API calls', Cloudflare API v4 schema, Abuse Reports). The unified status is
 * computed from the report status, its mitigation_summary and the types of its active mitigations;
 * the detail view reads every mitigation; a listing reads a report's active mitigations only when its mitigation_summary
 * changed since the gateway last saw it (seen-mitigations.ts, ADR 0028).
 */
import { mapLimit } from '../map-limit.js'
import type { Case } from '../../schemas/case.js'
import type { ReferenceItem, ReferenceKind } from '../../schemas/reference.js'
import type { TargetType } from '../../schemas/common.js'
import { GatewayError } from '../../domain/problems.js'
import type {
  AppealInput, BrandMonitor, BrandMonitorInput, BrandProtectionApi, Capabilities, ConnectorContext, ConnectorDeps, CreateCaseInput, CreateOutcome,
  DetectionPage, DetectionQuery, PreparedRequest, ProviderCaseQuery, ProviderConnector, ConnectorFactory, ProviderPage,
  ProviderSettings, ScanInfo, ScanSubmission
} from '../connector.js'
import { caseRow, mappedPage, type CaseRow, type ProviderRowPage } from '../connector.js'
import { encodeCaseId } from '../../domain/case-id.js'
import type { Detection, DetectionKind } from '../../schemas/detection.js'
import { BrandProtection, BrandProtectionClient } from './brand.js'
import { CloudflareClient, MAX_PER_PAGE } from './client.js'
import { prepareSubmit } from './create.js'
import { activeMitigations, createdAtOf, statusFacts, toCase, toCaseDetail } from './mapper.js'
import { REFERENCE } from './reference.js'
import { SeenMitigations } from './seen-mitigations.js'
import { ACT_TO_TYPE, type AbuseReport, type Mitigation } from './wire.js'

export const CLOUDFLARE_CAPABILITIES: Capabilities = {
  create: { takedown: ['url', 'domain'], monitor: [] },
  cancel: false,
  attachments: false,
  comments: false,
  appeal: true,
  actions: [],
  detections: true,
  reference: ['statuses', 'report-types', 'mitigation-types']
}

/** parallel mitigation look-ups per listing page */
const MITIGATION_CONCURRENCY = 4
/** pages findOpenCase reads (newest first) before it stops looking */
const FIND_OPEN_MAX_PAGES = 5

/** Whole seconds, for the vendor's created_after/created_before (RFC 3339 without fractions). */
/** the list filters the watcher's open-set queries name (provider.ts `watch`): report `status`, `mitigation_status` */
function vendorFilters (vendor: Readonly<Record<string, string>> | undefined): { status?: string, mitigationStatus?: string } {
  return {
    ...(vendor?.status === undefined ? {} : { status: vendor.status }),
    ...(vendor?.mitigation_status === undefined ? {} : { mitigationStatus: vendor.mitigation_status })
  }
}

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
  readonly #seen: SeenMitigations
  readonly #brand: BrandProtection

  constructor (settings: ProviderSettings & { accountId: string }, deps: ConnectorDeps) {
    this.#deps = deps
    this.#accountId = settings.accountId
    this.#seen = new SeenMitigations({ accountId: settings.accountId, clock: deps.clock, store: deps.store })
    this.#client = new CloudflareClient({
      baseUrl: settings.baseUrl,
      credential: settings.credential,
      accountId: settings.accountId,
      timeoutMs: settings.timeoutMs,
      dispatcher: deps.dispatcher,
      budget: deps.budget,
      observer: deps.observer,
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

  readonly brandProtection: BrandProtectionApi = {
    listMonitors: async (ctx: ConnectorContext): Promise<BrandMonitor[]> => await this.#brand.listMonitors(ctx),
    createMonitor: async (input: BrandMonitorInput, ctx: ConnectorContext): Promise<BrandMonitor> => await this.#brand.createMonitor(input, ctx),
    deleteMonitor: async (type: 'domain' | 'logo', nativeId: string, ctx: ConnectorContext): Promise<void> => { await this.#brand.client.deleteQuery(type, nativeId, ctx) },
    submitScans: async (urls: string[], ctx: ConnectorContext): Promise<ScanSubmission> => {
      const out: ScanSubmission = { submitted: [], skipped: [], excluded: [] }
      // Cloudflare API reference, Brand Protection v1: the submit body is [I] (`{url}` per the older SDK): one request per URL
      for (const url of urls) {
        const r = await this.#brand.client.submit(url, ctx)
        out.submitted.push(...r.submitted)
        out.skipped.push(...r.skipped)
        out.excluded.push(...r.excluded)
      }
      return out
    },
    scanInfo: async (query: { urls: string[], scanIds: number[] }, ctx: ConnectorContext): Promise<ScanInfo[]> => await this.#brand.client.urlInfo(query, ctx)
  }

  async #toCases (reports: readonly AbuseReport[], ctx: ConnectorContext): Promise<Case[]> {
    return (await this.#rows(reports, ctx)).map(r => r.toCase())
  }

  /**
   * Rows for listed reports. The unified status needs a report's active mitigations: none without a call when
   * `active_count` is 0; the recorded ones while its `mitigation_summary` is what the gateway last saw (ADR 0028);
   * otherwise read now (at most MITIGATION_CONCURRENCY at a time) and recorded. The mapping waits until the row is
   * handed out.
   */
  async #rows (reports: readonly AbuseReport[], ctx: ConnectorContext): Promise<CaseRow[]> {
    const row = (report: AbuseReport, active: readonly Mitigation[]): CaseRow => caseRow(createdAtOf(report), encodeCaseId('cloudflare', report.id),
      () => toCase(report, this.#deps.status.map('cloudflare', report.status, statusFacts(report, active)), active))
    const withActive = reports.filter(r => (r.mitigation_summary?.active_count ?? 0) > 0)
    const seen = await this.#seen.lookup(withActive, ctx.log)
    const active = new Map<string, readonly Mitigation[]>(withActive.map((r, i) => [r.id, seen[i] ?? []]))
    const unread = withActive.filter((_r, i) => seen[i] === null)
    await mapLimit(unread, MITIGATION_CONCURRENCY, async report => {
      const read = activeMitigations(await this.#client.listMitigations(report.id, { status: 'active' }, ctx))
      active.set(report.id, read)
      await this.#seen.record(report, read, ctx.log)
    })
    return reports.map(r => row(r, active.get(r.id) ?? []))
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
      ...(Number.isNaN(until) ? {} : { createdBefore: isoSeconds(Math.ceil(until / 1000) * 1000 + 1000) }),
      ...vendorFilters(query.filters.vendor)
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
    const active = activeMitigations(mitigations)
    // the detail view reads every mitigation: what it saw is what listings reuse until the summary changes
    if ((report.mitigation_summary?.active_count ?? 0) > 0) await this.#seen.record(report, active, ctx.log)
    const status = this.#deps.status.map('cloudflare', report.status, statusFacts(report, active))
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
