import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { GatewayError } from '../../domain/problems.js'
import { NullableRfc3339Schema, NullableString } from '../../schemas/common.js'
import { MAX_LOGO_BYTES, MAX_SCAN_URLS, type BrandProtectionService, type MonitorBody } from './service.js'
import type { Idempotency } from '../../services/idempotency.js'
import { IdempotencyHeaders, sendIdempotent } from '../../routes/idempotent.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export interface BrandProtectionRoutesOptions { brand: BrandProtectionService, idempotency: Idempotency }

const BRAND_MONITOR_EXAMPLE = {
  id: 'domain:101', type: 'domain', tag: 'acme', patterns: ['acme', 'acme-bank'], scan: true, similarityThreshold: null, createdAt: '2026-03-01T13:59:38.123Z', updatedAt: null
}
const SCAN_INFO_EXAMPLE = {
  url: 'https://acme-login.example/',
  scanId: 9001,
  complete: true,
  lastProcessedAt: '2026-03-01T14:02:10.000Z',
  statusCode: 200,
  categories: ['phishing'],
  modelScores: [{ model: 'phishing', score: 0.97 }],
  ruleMatches: []
}

export const BrandMonitorSchema = Type.Object({
  id: Type.String({ description: '`domain:<query id>` or `logo:<query id>`', examples: ['domain:101'] }),
  type: Type.Enum(['domain', 'logo']),
  tag: Type.String(),
  patterns: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'domain queries: the string patterns' }),
  scan: Type.Union([Type.Boolean(), Type.Null()], { description: 'domain queries: whether matches are scanned' }),
  similarityThreshold: Type.Union([Type.Number(), Type.Null()], { description: 'logo queries: 0–1' }),
  createdAt: NullableRfc3339Schema,
  updatedAt: NullableRfc3339Schema
}, {
  $id: 'BrandMonitor',
  additionalProperties: false,
  examples: [BRAND_MONITOR_EXAMPLE]
})

const BrandMonitorListSchema = Type.Object({ items: Type.Array(BrandMonitorSchema) }, {
  $id: 'BrandMonitorList',
  additionalProperties: false,
  examples: [{ items: [BRAND_MONITOR_EXAMPLE] }]
})

const DomainMonitorInput = Type.Object({
  type: Type.Literal('domain'),
  tag: Type.String({ minLength: 1, maxLength: 200 }),
  patterns: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100, description: 'Strings a lookalike domain must contain' }),
  scan: Type.Optional(Type.Boolean({ description: 'Scan matching domains' }))
}, { additionalProperties: false })

const LogoMonitorInput = Type.Object({
  type: Type.Literal('logo'),
  tag: Type.String({ minLength: 1, maxLength: 200 }),
  similarityThreshold: Type.Number({ minimum: 0, maximum: 1, description: 'How similar a scanned image must be to match (0–1)' }),
  imageData: Type.Optional(Type.String({ minLength: 1, description: `JSON only: the logo as base64 or a data: URL (at most ${MAX_LOGO_BYTES} bytes decoded). In multipart, send a file field \`image\` instead.` })),
  contentType: Type.Optional(Type.String({ description: 'JSON only: the image type when imageData is bare base64 (default image/png)' }))
}, { additionalProperties: false })

const MonitorInputSchema = Type.Union([DomainMonitorInput, LogoMonitorInput], {
  $id: 'BrandMonitorInput',
  examples: [{ type: 'domain', tag: 'acme', patterns: ['acme', 'acme-bank'], scan: true }]
})

/** OpenAPI only: the multipart form of a logo query (parsed by `logoMultipart`) */
const LogoMonitorForm = Type.Object({
  type: Type.Literal('logo'),
  tag: Type.String({ minLength: 1, maxLength: 200 }),
  similarityThreshold: Type.Number({ minimum: 0, maximum: 1, description: 'How similar a scanned image must be to match (0–1)' }),
  image: Type.String({
    format: 'binary',
    contentMediaType: 'application/octet-stream',
    description: `The logo (png, jpeg, gif, webp or svg), at most ${MAX_LOGO_BYTES} bytes`
  })
}, { additionalProperties: false })

const ScanSubmitSchema = Type.Object({
  urls: Type.Array(Type.String({ minLength: 1, maxLength: 2083 }), { minItems: 1, maxItems: MAX_SCAN_URLS })
}, { $id: 'ScanRequest', additionalProperties: false, examples: [{ urls: ['https://acme-login.example/'] }] })

const UrlRef = Type.Object({ url: Type.String(), scanId: Type.Union([Type.Integer(), Type.Null()]) }, { additionalProperties: false })
const ScanSubmissionSchema = Type.Object({
  submitted: Type.Array(UrlRef),
  skipped: Type.Array(UrlRef, { description: 'Already being scanned; `scanId` is the running scan' }),
  excluded: Type.Array(Type.String(), { description: 'On Cloudflare\'s no-scan list' })
}, {
  $id: 'ScanSubmission',
  additionalProperties: false,
  examples: [{ submitted: [{ url: 'https://acme-login.example/', scanId: 9001 }], skipped: [], excluded: [] }]
})

const ScanInfoSchema = Type.Object({
  url: NullableString,
  scanId: Type.Union([Type.Integer(), Type.Null()]),
  complete: Type.Union([Type.Boolean(), Type.Null()]),
  lastProcessedAt: NullableRfc3339Schema,
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  categories: Type.Array(Type.String()),
  modelScores: Type.Array(Type.Object({ model: Type.String(), score: Type.Union([Type.Number(), Type.Null()]) }, { additionalProperties: false })),
  ruleMatches: Type.Array(Type.String())
}, {
  $id: 'ScanInfo',
  additionalProperties: false,
  examples: [SCAN_INFO_EXAMPLE]
})

const ScanInfoListSchema = Type.Object({ items: Type.Array(ScanInfoSchema) }, {
  $id: 'ScanInfoList',
  additionalProperties: false,
  examples: [{ items: [SCAN_INFO_EXAMPLE] }]
})

const MULTIPART_FIELDS = new Set(['type', 'tag', 'similarityThreshold'])

/** multipart logo upload → `req.body` (the text fields) and `req.attachments` (the `image` file). */
async function logoMultipart (req: FastifyRequest): Promise<void> {
  if (!req.isMultipart()) return
  const body: Record<string, unknown> = {}
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'image') {
        part.file.resume()
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown file field "${part.fieldname}"; send the logo as "image"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
      }
      const data = await part.toBuffer()
      if (data.length > MAX_LOGO_BYTES) throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `The image may be at most ${MAX_LOGO_BYTES} bytes`, { errors: [{ path: '/image', message: 'too large' }] })
      req.attachments.push({ filename: part.filename, contentType: part.mimetype, data })
    } else if (MULTIPART_FIELDS.has(part.fieldname)) {
      const value = String(part.value)
      body[part.fieldname] = part.fieldname === 'similarityThreshold' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value
    } else {
      throw new GatewayError('GW_ERR_VALIDATION', `Unknown form field "${part.fieldname}"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
    }
  }
  req.body = body
}

export const brandProtectionRoutes: FastifyPluginAsyncTypebox<BrandProtectionRoutesOptions> = async (app, { brand, idempotency }) => {
  app.get('/v1/brand-monitors', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listBrandMonitors',
      tags: ['Brand protection'],
      summary: 'List Cloudflare brand-protection queries',
      description: 'Saved Cloudflare Brand Protection v2 domain queries (`type: domain`) and logo queries (`type: logo`). Their matches are listed by GET /v1/detections.',
      security: [{ bearerAuth: [] }],
      response: { 200: BrandMonitorListSchema, ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req) => ({ items: await brand.listMonitors(req.cancellation, req.log) }))

  app.post('/v1/brand-monitors', {
    config: { scope: 'write', multipartForm: LogoMonitorForm },
    bodyLimit: Math.ceil(MAX_LOGO_BYTES * 4 / 3) + 65_536,
    preValidation: logoMultipart,
    schema: {
      operationId: 'createBrandMonitor',
      tags: ['Brand protection'],
      summary: 'Save a Cloudflare brand-protection query',
      description: 'A domain query `{type: "domain", tag, patterns[], scan?}`, or a logo query `{type: "logo", tag, similarityThreshold, imageData}` ' +
        `in JSON, or as \`multipart/form-data\` with text fields \`type\`, \`tag\`, \`similarityThreshold\` and the logo in a file field \`image\` (at most ${MAX_LOGO_BYTES} bytes; png, jpeg, gif, webp, svg). ` +
        'Checked before anything reaches Cloudflare: an empty tag or pattern list is 400, a threshold outside 0–1 is 400, an image over the limit is 413.',
      security: [{ bearerAuth: [] }],
      body: MonitorInputSchema,
      response: { 201: BrandMonitorSchema, ...problems(...AUTH_PROBLEMS, 409, 413, 415, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => {
    const created = await brand.createMonitor(req.body as MonitorBody, req.attachments, req.cancellation, req.log)
    return { status: 201, headers: { location: `/v1/brand-monitors/${created.id}` }, body: created }
  }))

  app.delete('/v1/brand-monitors/:id', {
    config: { scope: 'write' },
    schema: {
      operationId: 'deleteBrandMonitor',
      tags: ['Brand protection'],
      summary: 'Delete a Cloudflare brand-protection query',
      description: 'Deletes the domain or logo query; its matches leave GET /v1/detections.',
      security: [{ bearerAuth: [] }],
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, examples: ['logo:201'] }) }),
      response: { 204: Type.Null({ description: 'Deleted' }), ...problems(...AUTH_PROBLEMS, 404, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req, reply) => {
    await brand.deleteMonitor(req.params.id, req.cancellation, req.log)
    return await reply.code(204).send(null)
  })

  app.post('/v1/scans', {
    config: { scope: 'write' },
    schema: {
      operationId: 'submitScans',
      tags: ['Brand protection'],
      summary: 'Submit URLs to the Cloudflare URL scanner',
      description: `Up to ${MAX_SCAN_URLS} http(s) URLs, each sent to Cloudflare Brand Protection v1 \`submit\` as \`{url}\` (the request body is undocumented; ` +
        'the gateway sends the shape the Cloudflare SDK used). Answers 202 with what was submitted, skipped (already scanning) or excluded (no-scan list).',
      security: [{ bearerAuth: [] }],
      headers: IdempotencyHeaders,
      body: ScanSubmitSchema,
      response: { 202: ScanSubmissionSchema, ...problems(...AUTH_PROBLEMS, 409, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req, reply) => sendIdempotent(req, reply, idempotency, async () => ({
    status: 202, headers: {}, body: await brand.submitScans(req.body.urls, req.cancellation, req.log)
  })))

  app.get('/v1/scans', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getScans',
      tags: ['Brand protection'],
      summary: 'Read URL scan results',
      description: 'Cloudflare Brand Protection v1 `url-info` for the given URLs and/or scan ids (sent as repeated `url` / `url_id` query parameters).',
      security: [{ bearerAuth: [] }],
      querystring: Type.Object({
        url: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2083 }), { maxItems: MAX_SCAN_URLS })),
        scanId: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: MAX_SCAN_URLS }))
      }, { additionalProperties: false }),
      response: { 200: ScanInfoListSchema, ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req) => ({ items: await brand.scanInfo({ urls: req.query.url ?? [], scanIds: req.query.scanId ?? [] }, req.cancellation, req.log) }))
}
