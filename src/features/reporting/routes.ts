/**
 * Reporting: takedown analytics over the recorded milestones, and the exports streamed as CSV or NDJSON: the case
 * listing walked to the end, the event log up to its newest event. Thin: the work is in report.ts,
 * export.ts and src/events/service.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { TakedownAnalytics } from './report.js'
import type { Clock } from '../../clock.js'
import { BackfillResultSchema, TakedownQuerySchema, TakedownReportSchema } from '../../schemas/analytics.js'
import { backfillMilestones } from './backfill.js'
import type { MilestoneRecorder } from './milestones.js'
import { CaseListQuerySchema, type Case } from '../../schemas/case.js'
import type { CaseService } from '../../services/cases.js'
import type { ListingPace } from '../../services/merged-listing.js'
import { attachment, CASE_COLUMNS, caseBatches, csvCell, EVENT_COLUMNS, EXPORT_MEDIA_TYPES, tabularStream, type Column, type ExportFormat } from './export.js'
import { CASE_EXAMPLE } from '../../schemas/examples.js'
import type { EventService } from '../../events/service.js'
import { EVENT_EXAMPLE, EventListQuerySchema, type CaseEvent } from '../../schemas/event.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export interface ReportingRoutesOptions {
  analytics: TakedownAnalytics
  recorder: MilestoneRecorder
  cases: CaseService
  events: EventService
  clock: Clock
  /** how the case export paces its vendor reads (export.ts exportPace); none: as a listing */
  exportPace?: ListingPace
}

const { limit: _limit, cursor: _cursor, ...listFilters } = CaseListQuerySchema.properties
const { limit: _eventLimit, ...feedFilters } = EventListQuerySchema.properties
const format = (row: string) =>
  Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'csv', description: `\`csv\` (RFC 4180, header row) or \`ndjson\` (one ${row} a line)` })

export const CaseExportQuerySchema = Type.Object({ format: format('case'), ...listFilters }, { additionalProperties: false })
export const EventExportQuerySchema = Type.Object({ format: format('event'), ...feedFilters }, { additionalProperties: false })

/** The 200 answer of an export: the file in either format, with an example row of each. */
function exportFile<T> (kind: string, row: string, schemaName: string, columns: ReadonlyArray<Column<T>>, example: T): Record<string, unknown> {
  return {
    description: 'The export, as an attachment (`Content-Disposition` names the file)',
    headers: { 'content-disposition': { type: 'string', description: `attachment; filename="${kind}-<time>.<csv|ndjson>"` } },
    content: {
      'text/csv': {
        schema: { type: 'string', description: `Header row, then one ${row} a row` },
        example: columns.map(c => c.header).join(',') + '\r\n' + columns.map(c => csvCell(c.get(example))).join(',') + '\r\n'
      },
      'application/x-ndjson': { schema: { type: 'string', description: `One ${schemaName} object (JSON) a line` }, example: JSON.stringify(example) + '\n' }
    }
  }
}

function exportHeaders (kind: string, format: ExportFormat, nowMs: number): Record<string, string> {
  return { 'content-type': EXPORT_MEDIA_TYPES[format], 'content-disposition': attachment(kind, format, nowMs), 'cache-control': 'no-store' }
}

export const reportingRoutes: FastifyPluginAsyncTypebox<ReportingRoutesOptions> = async (app, { analytics, recorder, cases, events, clock, exportPace }) => {
  app.get('/v1/analytics/takedowns', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getTakedownAnalytics',
      tags: ['Reporting'],
      summary: 'Time to takedown, success rate and backlog per provider, target type or month',
      description: 'Computed over the milestones the gateway recorded for each case (created, first in_progress, first mitigated, first taken_down, ' +
        'first terminal status, reopenings), dated by the vendor\'s own timestamps where it gives them and by the gateway\'s observation otherwise ' +
        '(`vendorTimed` and `worstPrecisionSeconds` say how exact the figures are). `from`/`to` select cases by creation time. ' +
        'Durations are seconds; medians and p90 are exact over the cases (linear between the two nearest ranks, as Excel\'s PERCENTILE.INC), never bucketed. ' +
        'Counts per status, `takenDown`, `failed`, `cancelled`, `successRate` and the open backlog use each case\'s current status; the backlog ages are measured from now. ' +
        'With Redis configured and unreachable the answer is a 503 problem.',
      security: [{ bearerAuth: [] }],
      querystring: TakedownQuerySchema,
      response: { 200: TakedownReportSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async (req) => await analytics.report(req.query))

  app.post('/v1/analytics/backfill', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'backfillTakedownAnalytics',
      tags: ['Reporting'],
      summary: 'Record the milestones of cases the gateway never recorded',
      description: 'Walks every case of every live provider (as the export does) and records the ones without milestones, e.g. cases created ' +
        'before the gateway watched the vendor. Their milestones are dated by vendor timestamps only (PhishFort takedown times, read from each ' +
        'case\'s detail; Cloudflare mitigation dates; BforeAI update times); cases already recorded are left as they are. Answers when done: ' +
        'it costs the vendor calls of a full listing plus one detail read per PhishFort case. Sandbox mode runs it once at start.',
      security: [{ bearerAuth: [] }],
      response: { 200: BackfillResultSchema, ...problems(...AUTH_PROBLEMS, ...PROVIDER_PROBLEMS) }
    }
  }, async (req) => await backfillMilestones({ cases, recorder, clock }, req.cancellation, req.log))

  app.get('/v1/cases/export', {
    config: { scope: 'read' },
    schema: {
      operationId: 'exportCases',
      tags: ['Reporting'],
      summary: 'Every case the filters select, as one CSV or NDJSON file',
      description: 'The listing of `GET /v1/cases` with the same filters, walked through every page of every provider and streamed as it is read: ' +
        'memory stays bounded and a slow reader slows the walk instead of making the gateway buffer. CSV: RFC 4180 with a header row and CRLF line ends; ' +
        'a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `\'` so spreadsheets show it instead of running it. ' +
        'Failing providers on the first page give a problem answer; a provider failing later cuts the transfer (the file is never silently shorter).',
      security: [{ bearerAuth: [] }],
      querystring: CaseExportQuerySchema,
      response: {
        200: exportFile('cases', 'case', 'Case', CASE_COLUMNS, CASE_EXAMPLE as Case),
        ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS)
      }
    }
  }, async (req, reply) => {
    const { format, ...filters } = req.query
    const batches = await caseBatches(cases, filters, req.cancellation, req.log, exportPace)
    // a stream, not the documented string: Fastify pipes it (the typed reply only knows the schema's `string`)
    return await reply.headers(exportHeaders('cases', format, clock.now())).send(tabularStream(batches, format, CASE_COLUMNS) as unknown as string)
  })

  app.get('/v1/events/export', {
    config: { scope: 'read' },
    schema: {
      operationId: 'exportEvents',
      tags: ['Reporting'],
      summary: 'The case change events the filters select, as one CSV or NDJSON file',
      description: 'The event log of `GET /v1/events` with the same filters (`after`, `types`, `provider`, `caseId`, `terminal`), oldest first, ' +
        'from `after` (or the oldest event kept) up to the newest event when the export starts; events recorded meanwhile are for the next export ' +
        '(pass the last id of this file as `after`). Streamed as it is read, at the client\'s pace, in bounded memory. ' +
        'CSV: RFC 4180 with a header row and CRLF line ends, the case as it was after the change (`status`, `providerStatus`, target) and the state before it ' +
        '(`previousStatus`, `previousProviderStatus`); text cells starting with `=`, `+`, `-`, `@`, tab or carriage return are prefixed with `\'`. ' +
        'NDJSON: one CaseEvent a line. An event store that is down gives a 503 problem before the first byte; failing later, it cuts the transfer.',
      security: [{ bearerAuth: [] }],
      querystring: EventExportQuerySchema,
      response: {
        200: exportFile('events', 'event', 'CaseEvent', EVENT_COLUMNS, EVENT_EXAMPLE as CaseEvent),
        ...problems(...AUTH_PROBLEMS, 410)
      }
    }
  }, async (req, reply) => {
    const { format, ...filters } = req.query
    const batches = await events.walk(filters)
    return await reply.headers(exportHeaders('events', format, clock.now())).send(tabularStream(batches, format, EVENT_COLUMNS) as unknown as string)
  })
}
