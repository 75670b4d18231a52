/**
 * The one error handler: every failure leaves as an RFC 9457 problem (CONTRACT §5), from the catalogue in
 * domain/problems.ts. Details of 500s stay in the log; the client gets the request id to quote.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError, PROBLEMS, problemType, toGatewayError, type ProblemCode } from '../domain/problems.js'
import type { Problem } from '../schemas/problem.js'
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from '../services/writes.js'
import { MULTIPART_LIMITS } from './multipart.js'

/** The JSON body limit app.ts gives Fastify (1 MiB); larger evidence travels as multipart attachments. */
export const BODY_LIMIT_BYTES = 1_048_576

const ACCEPTED_MEDIA_TYPES = 'application/json, or multipart/form-data (a JSON `payload` field and `attachments` files) where the operation takes files'

/** Fastify and @fastify/multipart error codes → catalogue code and a detail that says what to change (data, one row each). */
const FASTIFY_CODES: Record<string, { code: ProblemCode, detail?: (req: FastifyRequest) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'GW_ERR_PAYLOAD_TOO_LARGE',
    detail: () => `The JSON body may be at most ${BODY_LIMIT_BYTES} bytes (1 MiB); send evidence as multipart/form-data attachments (at most ${MAX_ATTACHMENTS} files, ${MAX_ATTACHMENT_BYTES} bytes in all)`
  },
  FST_REQ_FILE_TOO_LARGE: { code: 'GW_ERR_PAYLOAD_TOO_LARGE', detail: () => `An attachment may be at most ${MAX_ATTACHMENT_BYTES} bytes (10 MB, also the limit of all attachments together)` },
  FST_FILES_LIMIT: { code: 'GW_ERR_PAYLOAD_TOO_LARGE', detail: () => `At most ${MAX_ATTACHMENTS} files per request, in repeated \`attachments\` fields` },
  FST_PARTS_LIMIT: { code: 'GW_ERR_PAYLOAD_TOO_LARGE', detail: () => `At most ${MULTIPART_LIMITS.parts} form parts per request: one \`payload\` field and up to ${MAX_ATTACHMENTS} \`attachments\`` },
  FST_FIELDS_LIMIT: { code: 'GW_ERR_PAYLOAD_TOO_LARGE', detail: () => `At most ${MULTIPART_LIMITS.fields} text fields per form: send the JSON body in one \`payload\` field` },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', detail: req => `Content-Type ${mediaType(req)} is not accepted; send ${ACCEPTED_MEDIA_TYPES}` },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', detail: req => `Content-Type ${mediaType(req)} is not accepted; send ${ACCEPTED_MEDIA_TYPES}` },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'GW_ERR_VALIDATION', detail: () => 'The body is not valid JSON; send a JSON object with Content-Type: application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'GW_ERR_VALIDATION', detail: () => 'The body is empty while Content-Type says application/json; send a JSON object' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'GW_ERR_VALIDATION', detail: () => 'Content-Length does not match the body that was sent' },
  FST_ERR_VALIDATION: { code: 'GW_ERR_VALIDATION' }
}

function mediaType (req: FastifyRequest): string {
  const ct = req.headers['content-type']
  return ct === undefined || ct === '' ? '(none)' : (ct.split(';')[0] ?? ct).trim()
}

/** Where a validation error was found, in the words of an HTTP request. */
const CONTEXTS: Record<string, string> = { body: 'request body', querystring: 'query string', params: 'path', headers: 'request headers' }

interface AjvIssue { instancePath?: string, message?: string, keyword?: string, params?: Record<string, unknown> }

function validationErrors (err: FastifyError & { validation?: AjvIssue[], validationContext?: string }, req: FastifyRequest): Array<{ path: string, message: string }> {
  const repeated = err.validationContext === 'querystring' ? repeatedKeys(req.url) : new Map<string, number>()
  return (err.validation ?? []).map(v => {
    let path = v.instancePath ?? ''
    const params = v.params ?? {}
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') path += `/${params.missingProperty}`
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { path: `${path}/${params.additionalProperty}`, message: 'is not a known field' }
    }
    // limit=2&limit=3 arrives as a list: say so instead of "must be integer"
    const times = repeated.get(path.slice(1))
    if (times !== undefined) return { path, message: `is given ${times} times; send it once` }
    if (path === '' && v.keyword === 'type' && err.validationContext === 'body') {
      return { path: '/', message: req.body === undefined || req.body === null ? 'is missing: send a JSON object' : `must be a JSON object, not ${Array.isArray(req.body) ? 'an array' : `a ${typeof req.body}`}` }
    }
    let message = v.message ?? 'is invalid'
    if (Array.isArray(params.allowedValues)) message += `: ${params.allowedValues.join(', ')}`
    return { path: path === '' ? '/' : path, message }
  })
}

/** Query keys given more than once, with their count. */
function repeatedKeys (url: string): Map<string, number> {
  const counts = new Map<string, number>()
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
  for (const key of new URLSearchParams(query).keys()) counts.set(key, (counts.get(key) ?? 0) + 1)
  for (const [key, n] of counts) if (n < 2) counts.delete(key)
  return counts
}

export function toProblem (err: unknown, req: FastifyRequest): { problem: Problem, headers: Record<string, string>, gw: GatewayError } {
  let gw = toGatewayError(err)
  if (gw === null) {
    const fe = err as FastifyError & { validation?: AjvIssue[], validationContext?: string }
    const known = FASTIFY_CODES[fe.code ?? '']
    const code = known?.code ?? (fe.validation !== undefined ? 'GW_ERR_VALIDATION' : null)
    if (code === 'GW_ERR_VALIDATION' && fe.validation !== undefined) {
      const errors = validationErrors(fe, req)
      const where = CONTEXTS[fe.validationContext ?? ''] ?? 'request'
      gw = new GatewayError('GW_ERR_VALIDATION', `The ${where} is invalid: ${errors.map(e => `${e.path} ${e.message}`).join('; ')}`, { errors })
    } else if (code !== null) {
      gw = new GatewayError(code, known?.detail?.(req) ?? fe.message)
    } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const byStatus = (Object.keys(PROBLEMS) as ProblemCode[]).find(c => PROBLEMS[c].status === fe.statusCode)
      gw = new GatewayError(byStatus ?? 'GW_ERR_VALIDATION', fe.message)
    } else {
      gw = new GatewayError('GW_ERR_INTERNAL', `Unexpected error; quote request id ${String(req.id)} when reporting it`)
    }
  }
  const entry = PROBLEMS[gw.code]
  const problem: Problem = {
    type: problemType(gw.code),
    title: entry.title,
    status: entry.status,
    detail: gw.message,
    instance: req.url.split('?')[0] ?? req.url,
    requestId: String(req.id),
    code: gw.code
  }
  const x = gw.extras
  if (x.errors !== undefined) problem.errors = x.errors
  if (x.provider !== undefined) problem.provider = x.provider
  if (x.providerStatus !== undefined) problem.providerStatus = x.providerStatus
  if (x.allowed !== undefined) problem.allowed = x.allowed
  if (x.existing !== undefined) problem.existing = x.existing
  const headers: Record<string, string> = { 'content-type': 'application/problem+json; charset=utf-8' }
  if (x.retryAfter !== undefined && x.retryAfter !== null) headers['retry-after'] = String(x.retryAfter)
  return { problem, headers, gw }
}

export function registerProblemHandler (app: FastifyInstance): void {
  app.setErrorHandler(async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { problem, headers, gw } = toProblem(err, req)
    if (problem.status >= 500) {
      const level = gw.code === 'GW_ERR_INTERNAL' ? 'error' : 'warn'
      req.log[level]({ err, code: gw.code, provider: problem.provider }, problem.detail)
    } else {
      req.log.info({ code: gw.code, status: problem.status }, problem.detail)
    }
    return reply.code(problem.status).headers(headers).send(problem)
  })
  app.setNotFoundHandler(async (req, reply) => {
    const { problem, headers } = toProblem(new GatewayError('GW_ERR_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0] ?? ''}`), req)
    return reply.code(404).headers(headers).send(problem)
  })
}
