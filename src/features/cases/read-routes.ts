import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { CaseDetailSchema, CaseListQuerySchema, CasePageSchema } from '../../schemas/case.js'
import type { CaseService } from '../../services/cases.js'
import { AUTH_PROBLEMS, CaseIdParamsSchema, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export interface CaseRoutesOptions { cases: CaseService }

export const caseReadRoutes: FastifyPluginAsyncTypebox<CaseRoutesOptions> = async (app, { cases }) => {
  app.get('/v1/cases', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listCases',
      tags: ['Cases'],
      summary: 'List cases across providers',
      description: 'Cases from every live provider, merged newest first by `createdAt` (ties by `id`). Providers are called concurrently; ' +
        'when some fail, the others\' cases come back with `partial: true` and one entry per failed provider in `errors`. ' +
        'When every provider fails the answer is a 502/503/504 problem. Filters the provider supports are sent to it; the gateway applies every filter itself as well. ' +
        'Pass `nextCursor` as `cursor` with the same filters to get the next page; it is `null` on the last page. ' +
        'A page may hold fewer than `limit` cases while `nextCursor` is not null (heavily filtered listings). ' +
        'Cloudflare: a case\'s `status` and `updatedAt` come from the report\'s active mitigations, which a listing reads only when the report\'s ' +
        '`mitigation_summary` (counts and status) changed since the gateway last read them, or that read is a day old; otherwise it reuses that read. ' +
        'The detail view always reads them and is the exact one.',
      security: [{ bearerAuth: [] }],
      querystring: CaseListQuerySchema,
      response: { 200: CasePageSchema, ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req) => cases.list(req.query, req.cancellation, req.log))

  app.get('/v1/cases/:id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getCase',
      tags: ['Cases'],
      summary: 'Read one case with its history',
      description: 'The detail view: history (oldest first) and, where the provider has them, mitigations (Cloudflare), state (PhishFort incidentState), ' +
        'registrar, hosting provider and takedown timestamps. `include=raw` adds the provider\'s own object under `raw`. ' +
        'Always read from the provider: for Cloudflare the status comes from every mitigation as read now, where a listing may reuse an earlier read.',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      querystring: Type.Object({
        include: Type.Optional(Type.Literal('raw', { description: '`raw` adds the provider\'s own object' }))
      }, { additionalProperties: false }),
      response: { 200: CaseDetailSchema, ...problems(...AUTH_PROBLEMS, 404, ...PROVIDER_PROBLEMS) }
    }
  }, async (req) => cases.get(req.params.id, { raw: req.query.include === 'raw' }, req.cancellation, req.log))
}
