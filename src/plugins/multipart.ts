/**
 * multipart/form-data for creates with evidence and for attachments on existing cases:
 * the JSON body travels in a `payload` field, files in repeated `attachments` fields. At most 12 files and
 * 10 MB in all (the strictest vendor limit); more is a 413 before anything reaches a vendor.
 */
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TSchema } from 'typebox'
import type { Attachment } from '../connectors/connector.js'
import { GatewayError } from '../domain/problems.js'
import { jsonDepthExceeds, tooDeep } from './json-body.js'
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

/** Attachment bytes held in memory across all requests, bounded (UPLOAD_MAX_INFLIGHT_BYTES). */
export class UploadBudget {
  #held = 0
  constructor (readonly max: number) {}
  get held (): number { return this.#held }
  take (bytes: number): boolean {
    if (this.#held + bytes > this.max) return false
    this.#held += bytes
    return true
  }

  release (bytes: number): void { this.#held = Math.max(0, this.#held - bytes) }
}

declare module 'fastify' {
  interface FastifyInstance {
    uploadBudget: UploadBudget
  }
}

export async function registerMultipart (app: FastifyInstance, maxInflightBytes: number): Promise<void> {
  app.decorate('uploadBudget', new UploadBudget(maxInflightBytes))
  await app.register(multipart, {
    limits: MULTIPART_LIMITS,
    throwFileSizeLimit: true
  })
  app.decorateRequest('attachments', null as unknown as Attachment[])
  // a callback hook: an async one costs a promise and a microtask on every request, multipart or not
  app.addHook('onRequest', (req, _reply, done) => { req.attachments = []; done() })
}

/**
 * preValidation hook: turns a multipart request into `req.body` (the parsed `payload` field, or `{}`) and
 * `req.attachments`, so the route's JSON schema validates multipart and JSON bodies alike. Attachment bytes held in
 * memory count against the gateway-wide upload budget until the response is sent.
 */
export function multipartBody (opts: { payload: boolean }) {
  return async function (req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!req.isMultipart()) return
    let held = 0
    const budget = req.server.uploadBudget
    reply.raw.once('close', () => { budget.release(held) })
    // the form parser skips, without a word, parts whose name or file name holds a line break (an RFC 5987
    // `filename*` with %0D%0A): count the parts on the wire and refuse the form when one went missing
    const delimiters = delimiterCounter(req.headers['content-type'])
    if (delimiters !== null) req.raw.on('data', delimiters.feed)
    let read: { payload: unknown, parts: number }
    try {
      read = await readParts(req, opts.payload, (n) => {
        if (!budget.take(n)) {
          throw new GatewayError('GW_ERR_UNAVAILABLE', 'The gateway is holding as many upload bytes as it may (UPLOAD_MAX_INFLIGHT_BYTES); retry shortly', { retryAfter: 2 })
        }
        held += n
      })
    } catch (err) {
      // the form parser's own errors (no boundary, truncated part, missing closing boundary) are the client's
      if (err instanceof GatewayError || typeof (err as { statusCode?: unknown }).statusCode === 'number') throw err
      throw new GatewayError('GW_ERR_VALIDATION', `The multipart/form-data body is malformed (${(err as Error).message}); send a complete form whose parts end with the boundary the content-type names`,
        { errors: [{ path: '/', message: 'is not a complete multipart/form-data body' }] })
    }
    if (delimiters !== null && delimiters.parts() > read.parts) {
      throw new GatewayError('GW_ERR_VALIDATION',
        `${delimiters.parts() - read.parts} form part(s) could not be read (a name or file name holds a line break); nothing was sent, send them with plain names`,
        { errors: [{ path: '/attachments', message: 'has a part whose name or file name holds a line break' }] })
    }
    if (read.payload === undefined) {
      throw new GatewayError('GW_ERR_VALIDATION', 'Send the JSON request body in a "payload" field', { errors: [{ path: '/payload', message: 'required' }] })
    }
    req.body = read.payload
  }
}

/** Counts the parts of a multipart body as it streams by: delimiters (`CRLF--boundary`) minus the closing one. */
function delimiterCounter (contentType: string | undefined): { feed: (chunk: Buffer) => void, parts: () => number } | null {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '')
  const boundary = m?.[1] ?? m?.[2]
  if (boundary === undefined) return null
  const needle = Buffer.from(`\r\n--${boundary}`)
  let tail = Buffer.from('\r\n') // the first delimiter may open the body without a CRLF before it
  let count = 0
  return {
    feed: (chunk: Buffer) => {
      const buf = Buffer.concat([tail, chunk])
      let at = buf.indexOf(needle)
      let last = -1
      while (at >= 0) {
        count++
        last = at
        at = buf.indexOf(needle, at + needle.length)
      }
      // keep enough to find a delimiter split across chunks, never re-counting one already found
      const keepFrom = Math.max(buf.length - needle.length + 1, last < 0 ? 0 : last + needle.length)
      tail = buf.subarray(keepFrom)
    },
    parts: () => Math.max(0, count - 1)
  }
}

/** Reads every part; `hold` is told about each chunk of file bytes before it is kept. */
async function readParts (req: FastifyRequest, wantsPayload: boolean, hold: (bytes: number) => void): Promise<{ payload: unknown, parts: number }> {
  let payload: unknown = wantsPayload ? undefined : {}
  let parts = 0
  let seenPayload = false
  let total = 0
  for await (const part of req.parts()) {
    parts++
    if (part.type === 'file') {
      if (part.fieldname !== 'attachments') {
        part.file.resume()
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown file field "${part.fieldname}"; send files as "attachments"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
      }
      const chunks: Buffer[] = []
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        total += chunk.length
        if (total > MAX_ATTACHMENT_BYTES) {
          throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `Attachments may total at most ${MAX_ATTACHMENT_BYTES} bytes (10 MB)`)
        }
        hold(chunk.length)
        chunks.push(chunk)
      }
      if (part.file.truncated) throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `Attachments may total at most ${MAX_ATTACHMENT_BYTES} bytes (10 MB)`)
      req.attachments.push({ filename: safeFilename(part.filename, req.attachments.length), contentType: part.mimetype, data: Buffer.concat(chunks) })
    } else if (part.fieldname === 'payload' && wantsPayload) {
      if (seenPayload) {
        throw new GatewayError('GW_ERR_VALIDATION', 'The form has more than one "payload" field; send the JSON request body once', { errors: [{ path: '/payload', message: 'appears more than once' }] })
      }
      seenPayload = true
      payload = jsonField(part, req.server.limits.jsonMaxDepth, 'the JSON request body')
    } else {
      throw new GatewayError('GW_ERR_VALIDATION', `Unknown form field "${part.fieldname}"`, { errors: [{ path: `/${part.fieldname}`, message: 'is not a known field' }] })
    }
  }
  return { payload, parts }
}

/**
 * A form field holding JSON, through the checks of a JSON body: its size (a value cut at the field limit is a 413, not
 * a parse error), its nesting depth (before parsing, JSON_MAX_DEPTH), then the parse.
 */
export function jsonField (part: { fieldname: string, value: unknown, valueTruncated: boolean }, maxDepth: number, expected: string): unknown {
  const path = `/${part.fieldname}`
  if (part.valueTruncated) {
    throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `The "${part.fieldname}" field may hold at most ${MULTIPART_LIMITS.fieldSize} bytes`)
  }
  const text = String(part.value)
  if (jsonDepthExceeds(text, maxDepth)) throw tooDeep(maxDepth, path)
  try {
    return JSON.parse(text)
  } catch {
    throw new GatewayError('GW_ERR_VALIDATION', `The "${part.fieldname}" field must be ${expected}`, { errors: [{ path, message: 'is not valid JSON' }] })
  }
}

/**
 * The file name kept with the evidence: control characters (CR/LF from an RFC 5987 `filename*`), path separators and
 * quotes become `_`, so the name can travel in the vendor's own multipart header; an empty name gets a numbered one.
 */
export function safeFilename (name: string | undefined, index: number): string {
  let cleaned = ''
  for (const ch of name ?? '') cleaned += ch.charCodeAt(0) < 0x20 || ch === '\u007f' || ch === '"' || ch === '\\' || ch === '/' ? '_' : ch
  cleaned = cleaned.trim().slice(0, 255)
  return cleaned === '' || /^\.+$/.test(cleaned) ? `attachment-${index + 1}` : cleaned
}
