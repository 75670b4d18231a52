import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { caseSelfLink } from '../../domain/case-id.js'
import { CaseSchema } from '../../schemas/case.js'
import { DetectionIdParamsSchema, DetectionListQuerySchema, DetectionPageSchema, DetectionSchema } from '../../schemas/detection.js'
import { DetectionTakedownSchema, type DetectionService } from './service.js'
import type { Idempotency } from '../../services/idempotency.js'
import { IdempotencyHeaders, sendIdempotent } from '../../routes/idempotent.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export interface DetectionRoutesOptions { detections: DetectionService, idempotency: Idempotency }

export const detectionRoutes: FastifyPluginAsyncTypebox<DetectionRoutesOptions> = async (app, { detections, idempotency }) => {
  app.get('/v1/detections', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listDetections',
      tags: ['Detections'],
      summary: 'List detections across providers',
      description: 'Takedown candidates the providers found: BforeAI confirmed attacks (`kind: attack`, default window the last 90 days) and ' +
        'Cloudflare Brand Protection matches of every saved domain query (`domain-match`) and logo query (`logo-match`). Merged newest first by ' +
        '`detectedAt` (ties by `id`) with one opaque cursor, exactly like GET /v1/cases: when some providers fail the others\' detections come back ' +
        'with `partial: true` and `errors`; when all fail, a 502/503/504 problem. `caseId` links a detection that already became a case ' +
        '(BforeAI says so itself; for Cloudflare the gateway remembers the case it created).',
      security: [{ bearerAuth: [] }],
      querystring: DetectionListQuerySchema,
      response: { 200: DetectionPageSchema, ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req) => detections.list(req.query, req.cancellation, req.log))

  app.get('/v1/detections/:id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getDetection',
      tags: ['Detections'],
      summary: 'Read one detection',
      description: 'One detection by id, read from its provider. 404 for an id of the wrong form (no provider call) or one the provider does not know.',
      security: [{ bearerAuth: [] }],
      params: DetectionIdParamsSchema,
      response: { 200: DetectionSchema, ...problems(...AUTH_PROBLEMS, 404, ...PROVIDER_PROBLEMS) }
    }
  }, async (req) => detections.get(req.params.id, req.cancellation, req.log))

  app.post('/v1/detections/:id/takedown', {
    config: { scope: 'write' },
    schema: {
      operationId: 'takedownDetection',
      tags: ['Detections'],
      summary: 'Turn a detection into a case',
      description: 'The body is the POST /v1/cases body without `target` (the detection gives it). A BforeAI attack is accepted at BforeAI ' +
        '(`POST /v2/takedown/accept`; `brand.id` defaults to the attack\'s protected asset) unless the body names another `provider`. ' +
        'Any other detection (or an attack sent elsewhere) becomes a new case at `provider`, ' +
        'or where the routing rules send the target, through the same validation as POST /v1/cases (a domain target, or `https://<domain>/` ' +
        'for a provider that takes URLs only). Answers 201 with the case and `Location`; afterwards the detection\'s `caseId` links to it. ' +
        'A detection that already became a case is a 409 naming it (Cloudflare matches: unless `allowDuplicate` is true). ' +
        'An unknown detection id is a 404 and nothing is sent to a provider. Honours `Idempotency-Key`.',
      security: [{ bearerAuth: [] }],
      params: DetectionIdParamsSchema,
      headers: IdempotencyHeaders,
      body: DetectionTakedownSchema,
      response: { 201: CaseSchema, ...problems(...AUTH_PROBLEMS, 404, 409, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => {
    const created = await detections.takedown(req.params.id, req.body, req.cancellation, req.log)
    return { status: 201, headers: { location: caseSelfLink(created.provider, created.providerCaseId) }, body: created }
  }))
}
