/**
 * THE connector port. A connector is the only code that knows a vendor's wire format.
 * Everything a connector returns is already in the canonical model (schemas/); everything it throws is a ConnectorError.
 */
import type { Dispatcher } from 'undici'
import type { Case, CaseDetail } from '../schemas/case.js'
import type { Detection, DetectionKind } from '../schemas/detection.js'
import type { TargetType } from '../schemas/common.js'
import type { ProviderId } from '../schemas/provider.js'
import type { ReferenceItem, ReferenceKind } from '../schemas/reference.js'
import type { UnifiedStatus } from '../schemas/unified-status.js'
import type { StatusEngine } from '../status/engine.js'
import type { Clock } from '../clock.js'
import type { KvStore } from '../store/kv-store.js'
import type { Logger } from '../logger.js'
import type { CancelSignal } from './deadline.js'
import { timeOf, type SortKey } from '../domain/merge.js'

export interface ConnectorContext {
  /** Aborted when the caller's deadline passes or the client goes away. Every outbound call honours it. */
  readonly signal: CancelSignal
  /** Epoch ms by which the whole operation must be done. */
  readonly deadline: number
  readonly log: Logger
  /**
   * A budget this operation's vendor calls must also fit in, waiting for room until the deadline (the watcher's share
   * of a vendor's budget); the vendor's own budget applies as well.
   */
  readonly budget?: CallBudget
}

/** A budget vendor calls must fit in (connectors/outbound-budget.ts): a write waits for room until the deadline, a read fails fast. */
export interface CallBudget {
  acquire: (opts: { write: boolean, deadline: number, signal: CancelSignal }) => Promise<void>
}

/** What one vendor request ended as: `ok`, or the ConnectorError kind it raised. */
export type UpstreamOutcome = 'ok' | ConnectorErrorKind

/** Told about every request that went to the vendor and every retry; never sees headers, bodies or URLs. */
export interface UpstreamObserver {
  request (e: { provider: ProviderId, method: string, outcome: UpstreamOutcome, seconds: number }): void
  retry (e: { provider: ProviderId, method: string, kind: ConnectorErrorKind }): void
}

/** Filters of GET /v1/cases. A connector MAY translate them into vendor filters, but only into a superset: the gateway re-applies every filter. */
export interface CaseFilters {
  statuses?: UnifiedStatus[]
  since?: string
  until?: string
  q?: string
  targetType?: TargetType
  brand?: string
  /**
   * Vendor query parameters sent as they are, in place of what the connector would make of `statuses` (the open-set
   * filters of the case-events watcher, declared in each provider module's `watch`). Never set from a client request.
   */
  vendor?: Readonly<Record<string, string>>
}

export interface ProviderCaseQuery {
  /** The vendor position to read from (the connector's own token: a page number, a vendor cursor, ...). null = first page. */
  pageToken: string | null
  /** Items per vendor page. Constant for one walk through a listing, so page tokens stay valid. */
  pageSize: number
  filters: CaseFilters
}

/** One vendor page, newest first by createdAt (ties in any order). `next` is null on the last page. */
export interface ProviderPage {
  items: Case[]
  next: string | null
}

/**
 * One listed case with its mapping deferred. A merged page of `limit` cases reads up to `limit` from every provider
 * and hands out about a third of them (ADR 0004); the merge needs only the sort key (`createdAt`, `id`, both exactly
 * the Case's), so the rest of the mapping runs when a row is handed out or a filter needs it. What can fail in the
 * mapping (an unreadable timestamp) fails while the row is built, inside the provider's fetch.
 */
export interface CaseRow {
  readonly createdAt: string
  readonly id: string
  /** the merge's sort key: `createdAt` in epoch ms (NaN when unreadable) and `id`, worked out once with the row */
  readonly key: SortKey
  /** the mapped case, built at most once */
  toCase: () => Case
}

export interface ProviderRowPage {
  rows: CaseRow[]
  next: string | null
}

/** A row as a class: its key and build function in fields, no closure of its own per listed case. */
class DeferredCaseRow implements CaseRow {
  readonly key: SortKey
  #build: (() => Case) | null
  #built: Case | null = null

  constructor (readonly createdAt: string, readonly id: string, build: () => Case) {
    this.key = [timeOf(createdAt), id]
    this.#build = build
  }

  toCase (): Case {
    if (this.#built === null) {
      this.#built = (this.#build as () => Case)()
      this.#build = null
    }
    return this.#built
  }
}

export function caseRow (createdAt: string, id: string, build: () => Case): CaseRow {
  return new DeferredCaseRow(createdAt, id, build)
}

/** A row's time for `sortNewestFirst` (domain/merge.ts): the one its key already holds. */
export const rowTime = (row: CaseRow): number => row.key[0]

/** listCases on top of listCaseRows: every row mapped. */
export async function mappedPage (rows: Promise<ProviderRowPage>): Promise<ProviderPage> {
  const page = await rows
  return { items: page.rows.map(r => r.toCase()), next: page.next }
}

export interface Attachment {
  filename: string
  contentType: string
  data: Buffer
}

/** A create request after edge validation (schemas/create.ts). */
export interface CreateCaseInput {
  action: 'takedown' | 'monitor'
  target: { type: TargetType, value: string }
  brand: { id: string | number | null, name: string | null }
  comment: string | null
  reportedBy: string | null
  clientId: string | null
  social: { platform: string, threatType: string } | null
  providerOptions: Record<string, unknown>
  attachments: Attachment[]
}

/** The exact vendor request a create would send, with secrets left out: used for `?dryRun=true` and sent by `submitCreate`. */
export interface PreparedRequest {
  method: 'POST'
  path: string
  contentType: 'application/json' | 'multipart/form-data' | 'application/x-www-form-urlencoded'
  /** JSON body, or the multipart text fields */
  body: Record<string, unknown>
  /** multipart file parts (names and sizes only in a dry run) */
  files: Array<{ field: string, filename: string, contentType: string, size: number }>
}

export type CreateOutcome =
  | { kind: 'created', case: Case }
  /** The vendor already knows the target (e.g. a 202 "already detected"): no new case was made. */
  | { kind: 'exists', message: string, existing: Case | null }

export interface FieldError { path: string, message: string }

/** `escalate`: an automated takedown becomes a managed one, where the vendor offers that service */
export type CaseAction = 'takedown' | 'monitor' | 'mark-safe' | 'escalate'

export interface CancelInput { reasonId: number, description: string | null }

export type AppealInput =
  | { appeals: Array<{ id: string, reason: 'removed' | 'misclassified' }> }
  | { type: 'content_removed' }
  | { type: 'counter_notice', data: Record<string, unknown> }

export interface Capabilities {
  /** target types a create accepts, per action */
  create: { takedown: TargetType[], monitor: TargetType[] }
  cancel: boolean
  attachments: boolean
  comments: boolean
  appeal: boolean
  actions: CaseAction[]
  detections: boolean
  /** the reference data kinds `listReference` answers (the others are null: not applicable) */
  reference: ReferenceKind[]
}

/** One walk through a provider's detections. */
export interface DetectionQuery {
  /** the connector's own position token; null = first page */
  pageToken: string | null
  /** items per page, constant for one walk */
  pageSize: number
  since?: string
  until?: string
}

/** One page of detections, newest first by detectedAt (ties in any order); `next` is null on the last page. */
export interface DetectionPage {
  items: Detection[]
  next: string | null
}

/** A brand-protection saved query (`/v1/brand-monitors`). */
export interface BrandMonitor {
  id: string
  type: 'domain' | 'logo'
  tag: string
  patterns: string[] | null
  scan: boolean | null
  similarityThreshold: number | null
  createdAt: string | null
  updatedAt: string | null
}

export type BrandMonitorInput =
  | { type: 'domain', tag: string, patterns: string[], scan: boolean | null }
  | { type: 'logo', tag: string, similarityThreshold: number, image: { data: Buffer, contentType: string } }

export interface ScanSubmission { submitted: Array<{ url: string, scanId: number | null }>, skipped: Array<{ url: string, scanId: number | null }>, excluded: string[] }

export interface ScanInfo {
  url: string | null
  scanId: number | null
  complete: boolean | null
  lastProcessedAt: string | null
  statusCode: number | null
  categories: string[]
  modelScores: Array<{ model: string, score: number | null }>
  ruleMatches: string[]
}

export interface WebhookRegistration {
  id: string
  url: string | null
  events: string[]
  active: boolean | null
  /** the signing secret; never logged nor answered to a client */
  secret: string | null
}

export interface ProviderConnector {
  readonly id: ProviderId
  readonly capabilities: Capabilities

  listCases (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderPage>
  /** The same page with the mapping deferred per row (what the merged listing uses when a connector has it). */
  listCaseRows? (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage>
  /** Throws ConnectorError kind 'not_found' when the vendor does not know the id. */
  getCase (providerCaseId: string, opts: { raw: boolean }, ctx: ConnectorContext): Promise<CaseDetail>
  /** Reference data of one kind, fetched from the vendor (or the vendor's documented static list). null = this provider has no such kind. */
  listReference (kind: ReferenceKind, ctx: ConnectorContext): Promise<ReferenceItem[] | null>

  /** Vendor-specific validation and request building; no network except reference look-ups. Throws GatewayError (400 with field paths, or 422 unsupported). */
  prepareCreate? (input: CreateCaseInput, ctx: ConnectorContext): Promise<PreparedRequest>
  /** Sends a prepared create exactly once (never retried, except a connection error before the request was sent). */
  submitCreate? (prepared: PreparedRequest, input: CreateCaseInput, ctx: ConnectorContext): Promise<CreateOutcome>
  /** An open (non-terminal) case for the same normalised target, for duplicate detection. */
  findOpenCase? (target: { type: TargetType, value: string }, ctx: ConnectorContext): Promise<Case | null>
  cancel? (providerCaseId: string, input: CancelInput, ctx: ConnectorContext): Promise<CaseDetail>
  addAttachments? (providerCaseId: string, files: Attachment[], ctx: ConnectorContext): Promise<void>
  addComment? (providerCaseId: string, comment: string, ctx: ConnectorContext): Promise<void>
  appeal? (providerCaseId: string, input: AppealInput, ctx: ConnectorContext): Promise<void>
  performAction? (providerCaseId: string, action: CaseAction, ctx: ConnectorContext): Promise<void>

  // ---- detections, where `capabilities.detections` is true ----------------------------------------------
  listDetections? (query: DetectionQuery, ctx: ConnectorContext): Promise<DetectionPage>
  /** One detection by kind and native id, or null when the provider does not know it (reads only). */
  getDetection? (kind: DetectionKind, nativeId: string, ctx: ConnectorContext): Promise<Detection | null>

  // ---- capability objects: present only where the vendor offers the API (CAPABILITY_APIS) ----------------------
  readonly detectionAcceptance?: DetectionAcceptance
  readonly webhookSubscriptions?: WebhookSubscriptions
  readonly brandProtection?: BrandProtectionApi
}

/** The vendor turns one of its own detections into a takedown (accepting a confirmed detection for a brand). */
export interface DetectionAcceptance {
  /** the detection kind it accepts */
  readonly kind: DetectionKind
  /** the takedown it starts, as a Case */
  accept (nativeId: string, brandId: number, ctx: ConnectorContext): Promise<Case>
}

/** The vendor pushes change webhooks to an endpoint registered through its API. */
export interface WebhookSubscriptions {
  /** Registers `url`; the signing secret comes back once. */
  subscribe (url: string, ctx: ConnectorContext): Promise<WebhookRegistration>
  /** A new signing secret for a subscription; the vendor may revoke the old one at once. */
  rotateSecret (subscriptionId: string, ctx: ConnectorContext): Promise<WebhookRegistration>
}

/** Brand-protection management: saved domain and logo queries, and a URL scanner. */
export interface BrandProtectionApi {
  listMonitors (ctx: ConnectorContext): Promise<BrandMonitor[]>
  createMonitor (input: BrandMonitorInput, ctx: ConnectorContext): Promise<BrandMonitor>
  /** Throws ConnectorError `not_found` when the provider does not know the monitor. */
  deleteMonitor (type: 'domain' | 'logo', nativeId: string, ctx: ConnectorContext): Promise<void>
  submitScans (urls: string[], ctx: ConnectorContext): Promise<ScanSubmission>
  scanInfo (query: { urls: string[], scanIds: number[] }, ctx: ConnectorContext): Promise<ScanInfo[]>
}

/** The connector's capability objects: their methods reach the vendor like the port's own (connectors/resilience.ts guards them too). */
export const CAPABILITY_APIS: ReadonlySet<string> = new Set(['detectionAcceptance', 'webhookSubscriptions', 'brandProtection'])

export interface ConnectorDeps {
  /** the vendor's connection pool */
  dispatcher: Dispatcher
  /** the outbound budget of this vendor credential (providers/build.ts); none = unlimited */
  budget?: CallBudget
  /** metrics hooks (src/metrics.ts) for every vendor request and retry */
  observer?: UpstreamObserver
  status: StatusEngine
  clock: Clock
  /** the gateway's key-value store (Redis when configured: shared by replicas), for what a connector remembers across calls */
  store?: KvStore
}

export interface ProviderSettings {
  baseUrl: string
  /** The vendor credential (API key / token). Never logged. */
  credential: string
  timeoutMs: number
  /** the vendor's own settings, by the keys its provider module declares (e.g. an account id) */
  options?: Readonly<Record<string, string>>
}

/** What a vendor folder's `index.ts` exports: builds its connector (connectors/provider-module.ts loads it on demand). */
export interface ConnectorFactory {
  readonly id: ProviderId
  create (settings: ProviderSettings, deps: ConnectorDeps): ProviderConnector
}

import { ConnectorError, type ConnectorErrorKind } from '../domain/connector-error.js'

/** The connector failure vocabulary lives in the domain (domain/ imports nothing from connectors/). */
export { ConnectorError, type ConnectorErrorKind }

/** true when the vendor cannot have acted on the request (refused before sending, or it said "too many") */
export function notSent (err: unknown): boolean {
  if (!(err instanceof ConnectorError)) return false
  if (err.upstreamStatus === 429) return true
  return (err.cause as { notSent?: boolean } | undefined)?.notSent === true
}
