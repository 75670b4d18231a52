import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { caseSelfLink } from '../../domain/case-id.js'
import { multipartBody } from '../../plugins/multipart.js'
import { CaseDetailSchema } from '../../schemas/case.js'
import {
  ActionResultSchema, AppealSchema, CancelSchema, CASE_ACTIONS, CommentSchema, CreateCaseSchema, CreatedCaseSchema, CreatePlanSchema, CreateQuerySchema, type Companion
} from '../../schemas/create.js'
import type { Idempotency } from '../../services/idempotency.js'
import type { CaseWriteService } from '../../services/writes.js'
import { IdempotencyHeaders, oncePerKey, sendIdempotent } from '../../routes/idempotent.js'
import { AUTH_PROBLEMS, CaseIdParamsSchema, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export interface CaseWriteRoutesOptions { writes: CaseWriteService, idempotency: Idempotency }

const WRITE_PROBLEMS = [...AUTH_PROBLEMS, 404, 409, 413, 415, 422, ...PROVIDER_PROBLEMS] as const

export const caseWriteRoutes: FastifyPluginAsyncTypebox<CaseWriteRoutesOptions> = async (app, { writes, idempotency }) => {
  // a provider that cannot do the write says so before the body is read or validated (an id naming no case: 404)
  const able = (what: Parameters<CaseWriteService['assertAble']>[1]) => async (req: { params: unknown }): Promise<void> => {
    writes.assertAble((req.params as { id: string }).id, what)
  }
  app.post('/v1/cases', {
    config: { scope: 'write', multipart: 'payload' },
    preValidation: multipartBody({ payload: true }),
    schema: {
      operationId: 'createCase',
      tags: ['Cases'],
      summary: 'Create a takedown or monitoring case at one provider',
      description: 'JSON, or `multipart/form-data` with the same JSON in a `payload` field and up to 12 files (10 MB in all) in repeated `attachments` fields. ' +
        'Without `provider`, routing rules pick the first provider that is on and can take the target (default: social → bforeai; email, phone, ipv4 → phishfort; ' +
        'url, domain → phishfort, bforeai, cloudflare; see ROUTING_RULES). Vendor-specific fields go in `providerOptions` and are validated before any vendor call. ' +
        'Unless `allowDuplicate` is true, an open case for the same target at that provider is a 409 naming it. `dryRun=true` runs every check the create runs, ' +
        'the duplicate look-up included (a would-be 409 is that 409), and returns the plan: the provider and the exact vendor request, secrets removed. Vendor creates are never retried automatically; send an `Idempotency-Key` to retry safely. ' +
        'A routing rule with `also` (ROUTING_RULES `{"providers": [...], "also": [...]}`) files the same target at each `also` provider that is on and can take it ' +
        'after the create succeeds (companions, e.g. a blocklist while the takedown runs): the answer\'s `companions` says what each did; a companion failure never ' +
        'fails the create, and a retry with the same `Idempotency-Key` never files a companion twice. A create that names its `provider` gets no companions. ' +
        'Dry runs list the companion requests in the plan. ' +
        'A `measured` rule (ROUTING_RULES `{"url": {"strategy": "measured", "providers": [...]}}`) ranks its providers by measured time to takedown and success rate; ' +
        'the plan\'s `routing` says why it chose the provider, with the numbers it used. Its exploration share is drawn from the `Idempotency-Key` when one is sent, ' +
        'so a dry run with the key the create will use shows the provider the create will get.',
      security: [{ bearerAuth: [] }],
      querystring: CreateQuerySchema,
      headers: IdempotencyHeaders,
      body: CreateCaseSchema,
      response: { 201: CreatedCaseSchema, 200: CreatePlanSchema, ...problems(...WRITE_PROBLEMS) }
    }
  }, async (req, reply) => {
    // a measured routing rule's exploration draw follows the Idempotency-Key: a retry, and a dry run sent with the key the create will use, route alike
    const key = req.headers['idempotency-key']
    const routingKey = key === undefined ? {} : { routingKey: key }
    if (req.query.dryRun === true) {
      const result = await writes.create(req.body, req.attachments, { dryRun: true, companions: true, ...routingKey }, req.cancellation, req.log)
      return result.kind === 'plan' ? result.plan : result.case
    }
    return await sendIdempotent(req, reply, idempotency, async () => {
      const once = oncePerKey<Companion>(req, idempotency, c => c.id !== null)
      const result = await writes.create(req.body, req.attachments,
        { dryRun: false, companions: true, ...routingKey, ...(once === undefined ? {} : { companionOnce: async (p, run) => await once(`companion:${p}`, run) }) }, req.cancellation, req.log)
      if (result.kind !== 'created') throw new Error('unreachable: a create without dryRun returned a plan')
      const body = result.companions === undefined ? result.case : { ...result.case, companions: result.companions }
      return { status: 201, headers: { location: caseSelfLink(result.case.provider, result.case.providerCaseId) }, body }
    })
  })

  app.post('/v1/cases/:id/cancel', {
    config: { scope: 'write' },
    preValidation: able('cancel'),
    schema: {
      operationId: 'cancelCase',
      tags: ['Cases'],
      summary: 'Cancel a case',
      description: 'BforeAI takedowns, with a `reasonId` from GET /v1/reference/cancellation-reasons. Providers that cannot cancel answer 422 saying so ' +
        '(PhishFort: ask for a review with `actions/mark-safe`). The answer is the case after the cancel request; the vendor may still refuse later.',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      headers: IdempotencyHeaders,
      body: CancelSchema,
      response: { 200: CaseDetailSchema, ...problems(...WRITE_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => ({
    status: 200,
    headers: {},
    body: await writes.cancel(req.params.id, req.body.reasonId, req.body.description ?? null, req.cancellation, req.log)
  })))

  app.post('/v1/cases/:id/attachments', {
    config: { scope: 'write', multipart: 'files' },
    // an id that names no case is refused before megabytes of evidence are read (and the connection closed)
    preValidation: [able('attachments'), multipartBody({ payload: false })],
    schema: {
      operationId: 'addAttachments',
      tags: ['Cases'],
      summary: 'Add evidence files to a case',
      description: '`multipart/form-data` with up to 12 files (10 MB in all) in repeated `attachments` fields (PhishFort; allowed types: png, jpg, pdf, eml, txt, msg, csv, doc(x), xls(x)).',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      headers: IdempotencyHeaders,
      response: { 202: ActionResultSchema, ...problems(...WRITE_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => {
    const n = await writes.attach(req.params.id, req.attachments, req.cancellation, req.log)
    return { status: 202, headers: {}, body: { caseId: req.params.id, action: 'attachments', accepted: true as const, detail: `${n} file(s) accepted by the provider` } }
  }))

  app.post('/v1/cases/:id/comments', {
    config: { scope: 'write' },
    preValidation: able('comments'),
    schema: {
      operationId: 'addComment',
      tags: ['Cases'],
      summary: 'Add a comment for the vendor analyst',
      description: 'PhishFort only; other providers answer 422.',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      headers: IdempotencyHeaders,
      body: CommentSchema,
      response: { 202: ActionResultSchema, ...problems(...WRITE_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => {
    await writes.comment(req.params.id, req.body.comment, req.cancellation, req.log)
    return { status: 202, headers: {}, body: { caseId: req.params.id, action: 'comment', accepted: true as const, detail: 'comment accepted by the provider' } }
  }))

  app.post('/v1/cases/:id/appeal', {
    config: { scope: 'write' },
    preValidation: able('appeal'),
    schema: {
      operationId: 'appealCase',
      tags: ['Cases'],
      summary: 'Request a review of mitigations',
      description: 'Cloudflare abuse reports: either `appeals` per mitigation id (`removed` or `misclassified`), or a report-level `type` ' +
        '(`content_removed`, or `counter_notice` with its `data`). Other providers answer 422.',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      headers: IdempotencyHeaders,
      body: AppealSchema,
      response: { 202: ActionResultSchema, ...problems(...WRITE_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => {
    await writes.appeal(req.params.id, req.body as Parameters<CaseWriteService['appeal']>[1], req.cancellation, req.log)
    return { status: 202, headers: {}, body: { caseId: req.params.id, action: 'appeal', accepted: true as const, detail: 'review requested' } }
  }))

  app.post('/v1/cases/:id/actions/:action', {
    config: { scope: 'write' },
    schema: {
      operationId: 'caseAction',
      tags: ['Cases'],
      summary: 'Ask the provider to take down, monitor, mark safe or escalate an existing case',
      description: 'The actions a provider offers are its `capabilities.actions` in `GET /v1/providers` (PhishFort: `takedown`, ' +
        '`monitor`, `mark-safe` as its `tkd`, `monitor`, `safe`; `escalate` turns an automated takedown into a managed one where ' +
        'the vendor has that service). Any other action answers 422.',
      security: [{ bearerAuth: [] }],
      params: Type.Object({ id: CaseIdParamsSchema.properties.id, action: Type.Enum(CASE_ACTIONS) }),
      headers: IdempotencyHeaders,
      response: { 202: ActionResultSchema, ...problems(...WRITE_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => {
    await writes.action(req.params.id, req.params.action, req.cancellation, req.log)
    return { status: 202, headers: {}, body: { caseId: req.params.id, action: req.params.action, accepted: true as const, detail: `${req.params.action} requested` } }
  }))
}
