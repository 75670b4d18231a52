/**
 * Exports (ADR 0021): any async iterable of row batches becomes a CSV or NDJSON byte stream that is pulled, never
 * pushed: the next batch is read only when the client has taken the previous one (Readable.from with a one-chunk
 * buffer, piped into the socket by Fastify), so a slow client holds back the vendor walk instead of filling memory.
 * The case export walks the listing itself (CaseService.list, page after page with its cursor).
 */
import { Readable } from 'node:stream'
import type { CancelSignal } from '../../connectors/deadline.js'
import { GatewayError } from '../../domain/problems.js'
import type { Logger } from '../../logger.js'
import type { Case, CaseListQuery, CasePage } from '../../schemas/case.js'
import type { OutboundBudget } from '../../connectors/outbound-budget.js'
import type { ProviderId } from '../../schemas/provider.js'
import type { CaseService } from '../../services/cases.js'
import type { ListingPace } from '../../services/merged-listing.js'

export type ExportFormat = 'csv' | 'ndjson'

export const EXPORT_MEDIA_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8'
}

export interface Column<T> { header: string, get: (row: T) => string | number | boolean | null }

type Cell = string | number | boolean | null

/** columns headed as the field they show: `id`, `status`, … (a missing field is an empty cell) */
function fields<T> (...keys: Array<keyof T & string>): Array<Column<T>> {
  return keys.map(key => ({ header: key, get: row => (row[key] ?? null) as Cell }))
}

/** columns of a nested object, headed `<prefix><Field>`: `targetType`, `brandName`, … (`prefix` '' keeps the field's name) */
function nested<T, O> (prefix: string, of: (row: T) => O | null | undefined, ...keys: Array<keyof O & string>): Array<Column<T>> {
  return keys.map(key => ({
    header: prefix === '' ? key : prefix + key[0]!.toUpperCase() + key.slice(1),
    get: row => (of(row)?.[key] ?? null) as Cell
  }))
}

/**
 * One RFC 4180 field. A text cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
 * carriage return: OWASP's CSV injection list) gets a leading `'`, which Excel, LibreOffice and Google Sheets show
 * as text; fields with a comma, quote or line break are quoted, quotes doubled.
 */
export function csvCell (value: string | number | boolean | null): string {
  if (value === null) return ''
  let s = String(value)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** The byte stream of an export: CSV (header row, CRLF line ends) or NDJSON (one JSON object a line). */
export function tabularStream<T> (batches: AsyncIterable<readonly T[]>, format: ExportFormat, columns: ReadonlyArray<Column<T>>): Readable {
  async function * lines (): AsyncGenerator<string> {
    if (format === 'csv') yield columns.map(c => csvCell(c.header)).join(',') + '\r\n'
    for await (const batch of batches) {
      if (batch.length === 0) continue
      let chunk = ''
      for (const row of batch) {
        chunk += format === 'csv' ? columns.map(c => csvCell(c.get(row))).join(',') + '\r\n' : JSON.stringify(row) + '\n'
      }
      yield chunk
    }
  }
  return Readable.from(lines(), { objectMode: false, highWaterMark: 1 })
}

export const CASE_COLUMNS: ReadonlyArray<Column<Case>> = [
  ...fields<Case>('id', 'provider', 'providerCaseId'),
  ...nested('target', (c: Case) => c.target, 'type', 'value', 'domain'),
  ...fields<Case>('status', 'terminal', 'providerStatus'),
  ...nested('brand', (c: Case) => c.brand, 'id', 'name'),
  ...nested('threat', (c: Case) => c.threat, 'class', 'name', 'platform'),
  ...fields<Case>('reportedBy', 'createdAt', 'updatedAt'),
  { header: 'providerLink', get: c => c.links.provider },
  // the gateway's own probes (the case's verification block; not_checked without one)
  { header: 'verificationState', get: c => c.verification?.state ?? 'not_checked' },
  { header: 'verifiedDownAt', get: c => c.verification?.verifiedDownAt ?? null },
  ...nested('verification', (c: Case) => c.verification, 'lastCheckedAt'),
  // the case's service level (empty without one)
  ...nested('sla', (c: Case) => c.sla, 'policy', 'state', 'downDueAt', 'breachedAt')
]

/** A case-change event as the event log holds it (the events export writes these; a structural type). */
/** An event of the log as exported: a case event, or a gateway event (`batch.completed`, `endpoint.disabled`) without a case. */
export interface ExportEvent {
  id: string
  type: string
  sequence?: number
  occurredAt: string | null
  observedAt: string
  observedVia: string
  case: Case | null
  previous?: { status: string, providerStatus: string | null } | null
  data?: unknown
}

export const EVENT_COLUMNS: ReadonlyArray<Column<ExportEvent>> = [
  ...fields<ExportEvent>('id', 'type'),
  { header: 'caseId', get: e => e.case?.id ?? null },
  ...fields<ExportEvent>('sequence', 'occurredAt', 'observedAt', 'observedVia'),
  ...nested('', (e: ExportEvent) => e.case, 'provider', 'status', 'providerStatus'),
  ...nested('previous', (e: ExportEvent) => e.previous, 'status', 'providerStatus'),
  ...nested('target', (e: ExportEvent) => e.case?.target, 'type', 'value'),
  // gateway events (no case): their payload as JSON
  { header: 'data', get: e => e.data === undefined ? null : JSON.stringify(e.data) }
]

/** `Content-Disposition` of an export: `attachment; filename="<kind>-<UTC time>.<format>"` */
export function attachment (kind: string, format: ExportFormat, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
  return `attachment; filename="${kind}-${stamp}.${format}"`
}

export type CaseExportQuery = Omit<CaseListQuery, 'limit' | 'cursor'>

/** The share of each vendor's outbound budget an export's reads may spend: the rest stays for listings and reads. */
export const EXPORT_BUDGET_SHARE = 0.5

/**
 * The export's pacing (ListingPace): its reads of a vendor with an outbound budget fit in EXPORT_BUDGET_SHARE of it,
 * counted apart, and wait for room there (up to the budget's window) instead of failing once it is spent. A first
 * export of a vendor whose cases need a read each beyond the listing (ADR 0028) can take several budgets' worth: it
 * then streams at the share's pace instead of ending the transfer.
 */
export function exportPace (budgets: Partial<Record<ProviderId, OutboundBudget>>): ListingPace {
  const shares = Object.entries(budgets) as Array<[ProviderId, OutboundBudget]>
  return {
    budgets: Object.fromEntries(shares.map(([id, b]) => [id, b.share('export', EXPORT_BUDGET_SHARE)])),
    waitMs: Math.max(0, ...shares.map(([, b]) => b.windowMs))
  }
}

/**
 * Every case the listing filters select, one listing page (100 cases) at a time. The first page is read before the
 * answer starts, so a bad filter or failing providers are still a problem response; a provider failing later ends
 * the stream with an error (the client sees a cut transfer, never a silently shorter file). With `pace`, vendor
 * reads wait for room in the export's budget share (the transfer slows down meanwhile).
 */
export async function caseBatches (cases: CaseService, query: CaseExportQuery, signal: CancelSignal, log: Logger, pace?: ListingPace): Promise<AsyncIterable<Case[]>> {
  const pageOf = async (cursor: string | undefined): Promise<CasePage> => {
    const page = await cases.list({ ...query, limit: 100, ...(cursor === undefined ? {} : { cursor }) }, signal, log, pace)
    if (page.partial) {
      const providers = page.errors.map(e => e.provider)
      throw new GatewayError('GW_ERR_PROVIDER_ERROR', `The export stopped: ${page.errors.map(e => `${e.provider}: ${e.detail}`).join('; ')}; a file without their cases would be incomplete`,
        providers.length === 1 ? { provider: providers[0]! } : {})
    }
    return page
  }
  const first = await pageOf(undefined)
  return (async function * () {
    let page = first
    for (;;) {
      yield page.items
      if (page.nextCursor === null) return
      page = await pageOf(page.nextCursor)
    }
  })()
}
