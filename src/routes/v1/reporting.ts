/**
 * Reporting: takedown analytics over the recorded milestones, and the case export (the listing walked to the end,
 * streamed as CSV or NDJSON). Thin: the work is in analytics/report.ts and services/export.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { TakedownAnalytics } from '../../analytics/report.js'
import type { Clock } from '../../clock.js'
import { BackfillResultSchema, TakedownQuerySchema, TakedownReportSchema } from '../../schemas/analytics.js'
import { backfillMilestones } from '../../analytics/backfill.js'
import type { MilestoneRecorder } from '../../analytics/milestones.js'
import { CaseListQuerySchema, type Case } from '../../schemas/case.js'
import type { CaseService } from '../../services/cases.js'
import { attachment, CASE_COLUMNS, caseBatches, csvCell, EXPORT_MEDIA_TYPES, tabularStream } from '../../services/export.js'
import { CASE_EXAMPLE } from '../../schemas/examples.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../responses.js'

export interface ReportingRoutesOptions { analytics: TakedownAnalytics, recorder: MilestoneRecorder, cases: CaseService, clock: Clock }

const { limit: _limit, cursor: _cursor, ...listFilters } = CaseListQuerySchema.properties

export const CaseExportQuerySchema = Type.Object({
  format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'csv', description: '`csv` (RFC 4180, header row) or `ndjson` (one case a line)' }),
  ...listFilters
}, { additionalProperties: false })

export const reportingRoutes: FastifyPluginAsyncTypebox<ReportingRoutesOptions> = async (app, { analytics, recorder, cases, clock }) => {
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
        200: {
          description: 'The export, as an attachment (`Content-Disposition` names the file)',
          headers: { 'content-disposition': { type: 'string', description: 'attachment; filename="cases-<time>.<csv|ndjson>"' } },
          content: {
            'text/csv': {
              schema: { type: 'string', description: 'Header row, then one case a row' },
              example: CASE_COLUMNS.map(c => c.header).join(',') + '\r\n' + CASE_COLUMNS.map(c => csvCell(c.get(CASE_EXAMPLE as Case))).join(',') + '\r\n'
            },
            'application/x-ndjson': {
              schema: { type: 'string', description: 'One Case object (JSON) a line' },
              example: JSON.stringify(CASE_EXAMPLE) + '\n'
            }
          }
        },
        ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS)
      }
    }
  }, async (req, reply) => {
    const { format, ...filters } = req.query
    const batches = await caseBatches(cases, filters, req.cancellation, req.log)
    return await reply
      .header('content-type', EXPORT_MEDIA_TYPES[format])
      .header('content-disposition', attachment('cases', format, clock.now()))
      .header('cache-control', 'no-store')
      // a stream, not the documented string: Fastify pipes it (the typed reply only knows the schema's `string`)
      .send(tabularStream(batches, format, CASE_COLUMNS) as unknown as string)
  })
}
