import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { GatewayError } from '../../domain/problems.js'
import { validationErrors } from '../../plugins/problems.js'
import {
  BatchIdParamsSchema, BatchItemPageSchema, BatchItemsQuerySchema, BatchListQuerySchema, BatchListSchema, BatchPlanSchema, BatchQuerySchema, BatchRequestSchema,
  BatchSchema, type BatchDefaults
} from '../../schemas/batch.js'
import { CreateCaseSchema } from '../../schemas/create.js'
import { CsvItemsReader, CSV_COLUMNS, type CsvItems } from './csv.js'
import { jsonField, MULTIPART_LIMITS } from '../../plugins/multipart.js'
import type { BatchService } from './service.js'
import type { ItemValidator } from './submit.js'
import type { Idempotency } from '../../services/idempotency.js'
import { IdempotencyHeaders, sendIdempotent } from '../../routes/idempotent.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export interface BatchRoutesOptions { batches: BatchService, idempotency: Idempotency }

/** 1,000 items of up to 2083-character URLs plus their fields */
const MAX_BATCH_BYTES = 8 * 1_048_576

const CsvBatchForm = Type.Object({
  file: Type.String({
    format: 'binary',
    contentMediaType: 'text/csv',
    description: 'CSV in UTF-8 (or UTF-16 with a byte-order mark) with a header line, columns separated by commas, semicolons or tabs; ' +
      `a \`target\` column is required, the others are optional: ${CSV_COLUMNS.join(', ')}. ` +
      'Without `type` the target type is read from the value (scheme → url, @ → email, leading + → phone, dotted quad → ipv4, else domain).'
  }),
  defaults: Type.Optional(Type.String({ contentMediaType: 'application/json', description: 'JSON object of create fields applied to every row (BatchDefaults)' }))
}, { additionalProperties: false })

/** CSV uploads: the file line of each item, for errors and item records */
const csvRows = new WeakMap<FastifyRequest, number[]>()

/** preValidation of a CSV upload: the file read row by row as it streams in (at most `maxItems` rows), `defaults` checked like a JSON body */
function csvMultipart (maxItems: number) {
  return async function (req: FastifyRequest): Promise<void> {
    if (!req.isMultipart()) return
    let items: CsvItems | null = null
    let defaults: unknown
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume()
          throw new GatewayError('GW_ERR_VALIDATION', `Unknown file field "${part.fieldname}"; send the CSV as "file"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
        }
        const reader = new CsvItemsReader(maxItems)
        for await (const chunk of part.file as AsyncIterable<Buffer>) reader.push(chunk)
        if (part.file.truncated) throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `The CSV file may hold at most ${MULTIPART_LIMITS.fileSize} bytes`)
        items = reader.end()
      } else if (part.fieldname === 'defaults') {
        defaults = jsonField(part, req.server.limits.jsonMaxDepth, 'a JSON object')
      } else {
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown form field "${part.fieldname}"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
      }
    }
    if (items === null) throw new GatewayError('GW_ERR_VALIDATION', 'Send the CSV in a file field named "file"', { errors: [{ path: '/file', message: 'required' }] })
    csvRows.set(req, items.rows)
    req.body = defaults === undefined ? { items: items.items } : { defaults, items: items.items }
  }
}

const BATCH_PROBLEMS = [...AUTH_PROBLEMS, 404, 409, 413, 415, 422] as const

export const batchRoutes: FastifyPluginAsyncTypebox<BatchRoutesOptions> = async (app, { batches, idempotency }) => {
  const max = batches.settings.maxItems
  app.post('/v1/batches', {
    config: { scope: 'write', multipartForm: CsvBatchForm },
    bodyLimit: MAX_BATCH_BYTES,
    preValidation: csvMultipart(max),
    schema: {
      operationId: 'createBatch',
      tags: ['Batches'],
      summary: 'Submit many takedown requests at once',
      description: `JSON \`{defaults, items}\` with up to ${max} create bodies (BATCH_MAX_ITEMS), or \`multipart/form-data\` with a CSV \`file\` and optional JSON \`defaults\`. ` +
        'Every item is merged over `defaults` and validated exactly like POST /v1/cases (schema, target rules, routing, provider options). ' +
        'Any invalid item: 400 listing each one by `/items/<index>/...` (CSV: `/rows/<line>/...`, the header is line 1) and nothing is stored or sent; ' +
        'with `skipInvalid=true` the valid items are accepted and the others listed in `rejected`. `dryRun=true` answers 200 with the plan per item. ' +
        'The same target at the same provider twice in one batch is sent once (the later item is `duplicate` with `duplicateOf`). ' +
        'The answer is 202 with the batch; items are worked off in the background by every replica, each through the single-create path ' +
        '(an open case for the target → `duplicate` naming it; a vendor error → `failed` with the problem), within BATCH_BUDGET_SHARE of each vendor\'s outbound budget, ' +
        'with exactly one vendor create per item even across retries and replica crashes. Honors `Idempotency-Key`.',
      security: [{ bearerAuth: [] }],
      querystring: BatchQuerySchema,
      headers: IdempotencyHeaders,
      body: BatchRequestSchema,
      response: { 202: BatchSchema, 200: BatchPlanSchema, ...problems(...BATCH_PROBLEMS, ...PROVIDER_PROBLEMS) }
    }
  }, async (req, reply) => {
    // the single-create schema, compiled by the same validator as POST /v1/cases
    const check = req.compileValidationSchema(CreateCaseSchema)
    const validate: ItemValidator = body => check(body) ? null : validationErrors(check.errors ?? [])
    const input = { defaults: req.body.defaults as BatchDefaults | undefined, items: req.body.items as Array<Record<string, unknown>>, rows: csvRows.get(req) ?? null }
    const opts = { skipInvalid: req.query.skipInvalid === true, dryRun: req.query.dryRun === true, client: req.client ?? 'anonymous' }
    if (opts.dryRun) {
      const result = await batches.submit(input, opts, validate, req.cancellation, req.log)
      return result.kind === 'plan' ? result.plan : result.batch
    }
    return await sendIdempotent(req, reply, idempotency, async () => {
      const result = await batches.submit(input, opts, validate, req.cancellation, req.log)
      if (result.kind !== 'batch') throw new Error('unreachable: a batch without dryRun returned a plan')
      return { status: 202, headers: { location: result.batch.links.self }, body: result.batch }
    })
  })

  app.get('/v1/batches', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listBatches',
      tags: ['Batches'],
      summary: 'The batches this key submitted, newest first',
      description: 'Each batch as `GET /v1/batches/{id}` gives it; `status` filters; `nextCursor` continues with older ones. ' +
        'A page looks at up to 500 batches, so a filtered page may hold fewer than `limit` while `nextCursor` is not null. ' +
        'Batches are kept BATCH_RETENTION_DAYS (default 30).',
      security: [{ bearerAuth: [] }],
      querystring: BatchListQuerySchema,
      response: { 200: BatchListSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async (req) => await batches.list(req.client ?? 'anonymous', req.query))

  app.get('/v1/batches/:id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getBatch',
      tags: ['Batches'],
      summary: 'A batch: status and counts',
      description: '`queued` until the first item is worked, `running`, then `completed` when no item is pending (or `cancelled`). ' +
        'Counts are read from the item records. Batches are kept BATCH_RETENTION_DAYS (default 30).',
      security: [{ bearerAuth: [] }],
      params: BatchIdParamsSchema,
      response: { 200: BatchSchema, ...problems(...AUTH_PROBLEMS, 404, 410) }
    }
  }, async (req) => await batches.get(req.params.id))

  app.get('/v1/batches/:id/items', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listBatchItems',
      tags: ['Batches'],
      summary: 'Per-item outcomes of a batch',
      description: 'In item order; `outcome` filters; `nextCursor` continues. `created` items carry `caseId`, `duplicate` ones `existing` (the open case at the provider) ' +
        'or `duplicateOf` (an earlier item of the batch), `failed` ones the `problem`.',
      security: [{ bearerAuth: [] }],
      params: BatchIdParamsSchema,
      querystring: BatchItemsQuerySchema,
      response: { 200: BatchItemPageSchema, ...problems(...AUTH_PROBLEMS, 404, 410) }
    }
  }, async (req) => await batches.items(req.params.id, req.query))

  app.post('/v1/batches/:id/cancel', {
    config: { scope: 'write' },
    schema: {
      operationId: 'cancelBatch',
      tags: ['Batches'],
      summary: 'Stop the pending items of a batch',
      description: 'Items not yet sent become `cancelled`; items already at a vendor keep their outcome (cancel those cases with POST /v1/cases/{id}/cancel). ' +
        'Cancelling a finished batch changes nothing.',
      security: [{ bearerAuth: [] }],
      params: BatchIdParamsSchema,
      response: { 200: BatchSchema, ...problems(...AUTH_PROBLEMS, 404, 410) }
    }
  }, async (req) => await batches.cancel(req.params.id, req.log))
}
