/**
 * PhishFort connector (vendor facts: PhishFort Client API docs, phishfort.github.io/unified-client-api-docs).
 * Listing is one vendor page per call on PhishFort's own cursor; writes follow the report rules of the docs'
 * 'Report Incident' page.
 */
import { sortNewestFirst } from '../../domain/merge.js'
import type { Case, CaseDetail } from '../../schemas/case.js'
import type { TargetType } from '../../schemas/common.js'
import type { ReferenceItem, ReferenceKind } from '../../schemas/reference.js'
import type { UnifiedStatus } from '../../schemas/unified-status.js'
import { GatewayError } from '../../domain/problems.js'
import type { StatusEngine } from '../../status/engine.js'
import { normaliseStatusName } from '../../status/table.js'
import type {
  Attachment, Capabilities, CaseAction, CaseFilters, ConnectorContext, ConnectorDeps, CreateCaseInput, CreateOutcome,
  PreparedRequest, ProviderCaseQuery, ProviderConnector, ConnectorFactory, ProviderPage, ProviderRowPage, ProviderSettings,
  WebhookRegistration, WebhookSubscriptions
} from '../connector.js'
import { mappedPage, rowTime } from '../connector.js'
import { PhishfortClient, type IncidentAction } from './client.js'
import { statusValueOf, toCase, toCaseDetail, toRow } from './mapper.js'
import { PHISHFORT_LEGACY_LABELS } from './status-map.js'
import {
  ALLOWED_ATTACHMENT_TYPES, MAX_ATTACHMENTS, MAX_LIMIT, MAX_REQUEST_BYTES, PHISHFORT_STATUS_DESCRIPTIONS, PHISHFORT_STATUSES,
  SUBJECT_INCIDENT_TYPES, WEBHOOK_EVENTS, type PhishfortStatus, type ReportBody, type SubjectIncidentType, type WebhookSubscription
} from './wire.js'

const PROVIDER = 'phishfort'
const ALL_TYPES: TargetType[] = ['url', 'domain', 'email', 'phone', 'ipv4', 'social']
const E164 = /^\+[1-9]\d{1,14}$/
/** a conservative allowance for multipart boundaries and part headers, so "under 10 MB" holds for the whole request */
const PART_OVERHEAD_BYTES = 256

export const PHISHFORT_CAPABILITIES: Capabilities = {
  create: { takedown: [...ALL_TYPES], monitor: [...ALL_TYPES] },
  cancel: false,
  attachments: true,
  comments: true,
  appeal: false,
  actions: ['takedown', 'monitor', 'mark-safe'],
  detections: false,
  reference: ['statuses']
}

const ACTION_PATHS = { takedown: 'tkd', monitor: 'monitor', 'mark-safe': 'safe' } as const satisfies Record<Exclude<CaseAction, 'escalate'>, IncidentAction>
const REPORT_PATHS = { takedown: '/v1/incident/tkd', monitor: '/v1/incident/monitor' } as const

/**
 * The one PhishFort `status` value to send for a unified-status filter, or undefined when the filter does not map back
 * to exactly one vendor status (then the gateway filters alone). Overrides from STATUS_MAP_FILE are honoured: if any
 * other vendor name maps into the wanted set, a vendor-side filter could drop matches, so nothing is sent.
 */
export function vendorStatusFilter (statuses: readonly UnifiedStatus[] | undefined, engine: StatusEngine): PhishfortStatus | undefined {
  if (statuses === undefined || statuses.length === 0) return undefined
  const wanted = new Set<UnifiedStatus>(statuses)
  const hits = PHISHFORT_STATUSES.filter(s => wanted.has(engine.map(PROVIDER, s).status))
  if (hits.length !== 1) return undefined
  const only = hits[0] as PhishfortStatus
  // names that are spellings of a documented status, or its legacy verbose labels, are the same vendor status
  const aliases = new Set<string>([...PHISHFORT_STATUSES, ...Object.keys(PHISHFORT_LEGACY_LABELS)].map(normaliseStatusName))
  const strays = engine.entries(PROVIDER).filter(e => wanted.has(e.status) && !aliases.has(normaliseStatusName(e.providerStatus)))
  return strays.length === 0 ? only : undefined
}

/** filters.since/until widened by one second each way: the vendor's bound inclusivity is unknown (PhishFort Client API docs, 'Incidents' page). */
function widen (iso: string | undefined, deltaMs: number): string | undefined {
  if (iso === undefined) return undefined
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : new Date(ms + deltaMs).toISOString()
}

function validationError (path: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_VALIDATION', message, { provider: PROVIDER, errors: [{ path, message }] })
}

function baseContentType (contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase()
}

/** PhishFort Client API docs, 'Add Attachments' page: at most 12 files, allowed types only, whole request under 10485760 bytes. */
export function checkAttachments (files: readonly Attachment[], textBytes: number, pathPrefix = '/attachments'): void {
  if (files.length > MAX_ATTACHMENTS) {
    throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `PhishFort accepts at most ${MAX_ATTACHMENTS} attachments; got ${files.length}`, {
      provider: PROVIDER, errors: [{ path: pathPrefix, message: `at most ${MAX_ATTACHMENTS} files` }]
    })
  }
  const allowed: ReadonlySet<string> = new Set(ALLOWED_ATTACHMENT_TYPES)
  const errors: Array<{ path: string, message: string }> = []
  files.forEach((file, i) => {
    if (!allowed.has(baseContentType(file.contentType))) {
      errors.push({ path: `${pathPrefix}/${i}`, message: `content type ${file.contentType} is not accepted by PhishFort` })
    }
  })
  if (errors.length > 0) {
    throw new GatewayError('GW_ERR_VALIDATION', `PhishFort does not accept ${errors.length === 1 ? 'an attachment type' : `${errors.length} attachment types`} (${errors[0]?.path} ${errors[0]?.message}); it takes ${ALLOWED_ATTACHMENT_TYPES.join(', ')}`, { provider: PROVIDER, errors })
  }
  let total = textBytes
  for (const file of files) total += file.data.length + Buffer.byteLength(file.filename) + PART_OVERHEAD_BYTES
  if (total >= MAX_REQUEST_BYTES) {
    throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `PhishFort requests must stay under ${MAX_REQUEST_BYTES} bytes including attachments`, {
      provider: PROVIDER, errors: [{ path: pathPrefix, message: `total size must be under ${MAX_REQUEST_BYTES} bytes` }]
    })
  }
}

class PhishfortConnector implements ProviderConnector {
  readonly id = PROVIDER
  readonly capabilities = PHISHFORT_CAPABILITIES
  readonly #client: PhishfortClient
  readonly #deps: ConnectorDeps

  readonly #map: { dashboardUrl: string | null }

  constructor (settings: ProviderSettings, deps: ConnectorDeps) {
    this.#client = new PhishfortClient(settings, deps)
    this.#deps = deps
    this.#map = { dashboardUrl: settings.options?.dashboardUrl ?? null }
  }

  async listCases (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderPage> {
    return await mappedPage(this.listCaseRows(query, ctx))
  }

  async listCaseRows (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage> {
    const filters: CaseFilters = query.filters
    const page = await this.#client.listIncidents({
      limit: Math.max(1, Math.min(query.pageSize, MAX_LIMIT)),
      cursor: query.pageToken ?? undefined,
      status: filters.vendor?.status ?? vendorStatusFilter(filters.statuses, this.#deps.status),
      fromDate: widen(filters.since, -1000),
      toDate: widen(filters.until, 1000)
    }, ctx)
    const rows = page.data.map(incident => toRow(incident, this.#deps.status, this.#map))
    // The sort order is undocumented (PhishFort Client API docs, 'Incidents' page [?]); we rely on newest first and say so when it is not.
    if (sortNewestFirst(rows, rowTime)) {
      ctx.log.warn({ provider: PROVIDER, cursor: query.pageToken }, 'phishfort returned a page that was not sorted newest first; sorted it')
    }
    const next = page.paging?.next ?? null
    // a vendor that hands back the cursor it was given would make the walk loop forever
    return { rows, next: next === '' || next === query.pageToken ? null : next }
  }

  async getCase (providerCaseId: string, opts: { raw: boolean }, ctx: ConnectorContext): Promise<CaseDetail> {
    const incident = await this.#client.getIncident(providerCaseId, ctx)
    return toCaseDetail(incident, this.#deps.status, { ...this.#map, raw: opts.raw })
  }

  async listReference (kind: ReferenceKind, _ctx: ConnectorContext): Promise<ReferenceItem[] | null> {
    if (kind !== 'statuses') return null
    const legacy = Object.keys(PHISHFORT_LEGACY_LABELS).map(label => [statusValueOf(label),
      `Legacy statusVerbose label "${label}" (no status value); seen on incidents that carry only statusVerbose.`] as const)
    return [...PHISHFORT_STATUSES.map(s => [s, PHISHFORT_STATUS_DESCRIPTIONS[s]] as const), ...legacy].map(([s, description]) => {
      const mapped = this.#deps.status.map(PROVIDER, s)
      return { provider: PROVIDER, kind: 'statuses', id: s, name: s, description, unifiedStatus: mapped.status, terminal: mapped.terminal }
    })
  }

  async prepareCreate (input: CreateCaseInput, _ctx: ConnectorContext): Promise<PreparedRequest> {
    const body: ReportBody = {}
    const { type, value } = input.target
    if ((SUBJECT_INCIDENT_TYPES as readonly string[]).includes(type)) {
      if (type === 'phone' && !E164.test(value)) throw validationError('/target/value', 'PhishFort needs phone numbers in E.164 format (+<country><number>)')
      body.incidentType = type as SubjectIncidentType
      body.subject = value
    } else {
      // url, domain and social go as `url` only: incidentType must never be sent with them (PhishFort Client API
      // docs, 'Report Incident' page; the live 400 message quoted in the polarityio/phishfort integration, commit 4f834ed)
      body.url = value
    }
    if (input.reportedBy !== null) body.reportedBy = input.reportedBy
    if (input.clientId !== null) body.clientId = input.clientId
    // PhishFort Client API docs, 'Report Incident' page: `comment`, if present, must be a non-null string
    if (typeof input.comment === 'string') body.comment = input.comment
    const fields = body as Record<string, unknown>
    if (input.attachments.length > 0) {
      const textBytes = Object.entries(fields)
        .reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)) + PART_OVERHEAD_BYTES, 0)
      checkAttachments(input.attachments, textBytes)
    }
    return {
      method: 'POST',
      path: REPORT_PATHS[input.action],
      contentType: input.attachments.length === 0 ? 'application/json' : 'multipart/form-data',
      body: fields,
      files: input.attachments.map(f => ({ field: 'attachments', filename: f.filename, contentType: f.contentType, size: f.data.length }))
    }
  }

  async submitCreate (prepared: PreparedRequest, input: CreateCaseInput, ctx: ConnectorContext): Promise<CreateOutcome> {
    const files = prepared.contentType === 'multipart/form-data' ? input.attachments : []
    const created = await this.#client.report(prepared.path, prepared.body, files, ctx)
    // the dashboard link of the answer is logged, not returned: links.provider comes from PHISHFORT_DASHBOARD_URL on
    // every route (one look at this line tells an operator the template to set)
    if (created.url !== null && this.#map.dashboardUrl === null) {
      ctx.log.info({ provider: PROVIDER, incidentId: created.id, dashboardUrl: created.url }, 'phishfort dashboard link (set PHISHFORT_DASHBOARD_URL to return such links)')
    }
    try {
      const incident = await this.#client.getIncident(created.id, ctx)
      return { kind: 'created', case: toCase(incident, this.#deps.status, this.#map) }
    } catch (err) {
      ctx.log.warn({ provider: PROVIDER, incidentId: created.id, err: (err as Error).message }, 'phishfort: created incident could not be read back')
      return { kind: 'created', case: this.#knownCase(created.id, input) }
    }
  }

  /** The case as far as the create answer tells it: no vendor status, so the engine answers `unknown`. */
  #knownCase (id: string, input: CreateCaseInput): Case {
    const timestamp = new Date(this.#deps.clock.now()).toISOString()
    return toCase({ id, timestamp, reportedBy: input.reportedBy, ...targetFields(input) }, this.#deps.status, this.#map)
  }

  async findOpenCase (target: { type: TargetType, value: string }, ctx: ConnectorContext): Promise<Case | null> {
    const incident = await this.#client.findBySubject(target.value, ctx)
    if (incident === null) return null
    const found = toCase(incident, this.#deps.status, this.#map)
    return found.terminal ? null : found
  }

  async addAttachments (providerCaseId: string, files: Attachment[], ctx: ConnectorContext): Promise<void> {
    if (files.length === 0) throw validationError('/attachments', 'at least one file is needed')
    checkAttachments(files, 0)
    await this.#client.attach(providerCaseId, files, ctx)
  }

  async addComment (providerCaseId: string, comment: string, ctx: ConnectorContext): Promise<void> {
    if (comment.trim() === '') throw validationError('/comment', 'PhishFort needs a non-empty comment')
    await this.#client.comment(providerCaseId, comment, ctx)
  }

  async performAction (providerCaseId: string, action: CaseAction, ctx: ConnectorContext): Promise<void> {
    if (action === 'escalate') throw new GatewayError('GW_ERR_UNSUPPORTED', 'PhishFort has no escalate action', { provider: PROVIDER })
    await this.#client.action(providerCaseId, ACTION_PATHS[action], ctx)
  }

  readonly webhookSubscriptions: WebhookSubscriptions = {
    subscribe: async (url: string, ctx: ConnectorContext): Promise<WebhookRegistration> =>
      registration(await this.#client.createWebhook({ url, events: [...WEBHOOK_EVENTS], description: 'takedown-gateway change events' }, ctx)),
    rotateSecret: async (subscriptionId: string, ctx: ConnectorContext): Promise<WebhookRegistration> =>
      registration(await this.#client.rotateWebhookSecret(subscriptionId, ctx))
  }
}

function registration (w: WebhookSubscription): WebhookRegistration {
  return { id: w.id, url: w.url ?? null, events: w.events ?? [], active: w.active ?? null, secret: w.secret ?? null }
}

/** The wire fields a report of this target produces, for a Case built without a read-back. */
function targetFields (input: CreateCaseInput): { incidentType?: string, subject?: string, url?: string } {
  const { type, value } = input.target
  if ((SUBJECT_INCIDENT_TYPES as readonly string[]).includes(type)) return { incidentType: type, subject: value }
  if (type === 'social') return { incidentType: 'social', url: value }
  if (type === 'domain') return { subject: value }
  return { url: value }
}

export const phishfortModule: ConnectorFactory = {
  id: PROVIDER,
  create (settings: ProviderSettings, deps: ConnectorDeps): ProviderConnector {
    return new PhishfortConnector(settings, deps)
  }
}
