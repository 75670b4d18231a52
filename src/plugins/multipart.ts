/**
 * multipart/form-data for creates with evidence and for attachments on existing cases (CONTRACT §4.3.1):
 * the JSON body travels in a `payload` field, files in repeated `attachments` fields. At most 12 files and
 * 10 MB in all (the strictest vendor limit, PhishFort's); more is a 413 before anything reaches a vendor.
 */
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TSchema } from 'typebox'
import type { Attachment } from '../connectors/connector.js'
import { GatewayError } from '../domain/problems.js'
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from '../services/writes.js'

declare module 'fastify' {
  interface FastifyRequest {
    attachments: Attachment[]
  }
  interface FastifyContextConfig {
    /** the route also takes multipart: `payload` (JSON in a payload field + attachments) or `files` (attachments only); drives the OpenAPI description */
    multipart?: 'payload' | 'files'
    /** OpenAPI only: the `multipart/form-data` body of a route that takes its own form (not `payload` + `attachments`) */
    multipartForm?: TSchema
  }
}

export const MULTIPART_LIMITS = {
  files: MAX_ATTACHMENTS,
  fileSize: MAX_ATTACHMENT_BYTES,
  fields: 4,
  fieldSize: 1_048_576,
  parts: MAX_ATTACHMENTS + 4
}

export async function registerMultipart (app: FastifyInstance): Promise<void> {
  await app.register(multipart, {
    limits: MULTIPART_LIMITS,
    throwFileSizeLimit: true
  })
  app.decorateRequest('attachments', null as unknown as Attachment[])
  app.addHook('onRequest', async (req) => { req.attachments = [] })
}

/**
 * preValidation hook: turns a multipart request into `req.body` (the parsed `payload` field, or `{}`) and
 * `req.attachments`, so the route's JSON schema validates multipart and JSON bodies alike.
 */
export function multipartBody (opts: { payload: boolean }) {
  return async function (req: FastifyRequest): Promise<void> {
    if (!req.isMultipart()) return
    let payload: unknown = opts.payload ? undefined : {}
    let total = 0
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'attachments') {
          part.file.resume()
          throw new GatewayError('GW_ERR_VALIDATION', `Unknown file field "${part.fieldname}"; send files as "attachments"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
        }
        const data = await part.toBuffer()
        total += data.length
        if (total > MAX_ATTACHMENT_BYTES) {
          throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `Attachments may total at most ${MAX_ATTACHMENT_BYTES} bytes (10 MB)`)
        }
        req.attachments.push({ filename: part.filename, contentType: part.mimetype, data })
      } else if (part.fieldname === 'payload' && opts.payload) {
        try {
          payload = JSON.parse(String(part.value))
        } catch {
          throw new GatewayError('GW_ERR_VALIDATION', 'The "payload" field must be the JSON request body', { errors: [{ path: '/payload', message: 'is not valid JSON' }] })
        }
      } else {
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown form field "${part.fieldname}"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
      }
    }
    if (payload === undefined) {
      throw new GatewayError('GW_ERR_VALIDATION', 'Send the JSON request body in a "payload" field', { errors: [{ path: '/payload', message: 'required' }] })
    }
    req.body = payload
  }
}
