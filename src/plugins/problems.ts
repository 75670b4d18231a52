/**
 * The one error handler: every failure leaves as an RFC 9457 problem (CONTRACT §5), from the catalogue in
 * domain/problems.ts. Details of 500s stay in the log; the client gets the request id to quote.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError, PROBLEMS, problemType, toGatewayError, type ProblemCode } from '../domain/problems.js'
import type { Problem } from '../schemas/problem.js'

const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'GW_ERR_PAYLOAD_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'GW_ERR_PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT_ERROR: 'GW_ERR_PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT_ERROR: 'GW_ERR_PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT_ERROR: 'GW_ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'GW_ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GW_ERR_VALIDATION',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'GW_ERR_VALIDATION',
  FST_ERR_VALIDATION: 'GW_ERR_VALIDATION'
}

interface AjvIssue { instancePath?: string, message?: string, keyword?: string, params?: Record<string, unknown> }

/** Ajv issues as the problem's `errors` (JSON pointer and message). */
export function validationErrors (issues: readonly AjvIssue[]): Array<{ path: string, message: string }> {
  return issues.map(v => {
    let path = v.instancePath ?? ''
    const params = v.params ?? {}
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') path += `/${params.missingProperty}`
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { path: `${path}/${params.additionalProperty}`, message: 'is not a known field' }
    }
    let message = v.message ?? 'is invalid'
    if (Array.isArray(params.allowedValues)) message += `: ${params.allowedValues.join(', ')}`
    return { path: path === '' ? '/' : path, message }
  })
}

export function toProblem (err: unknown, req: Pick<FastifyRequest, 'url' | 'id'>): { problem: Problem, headers: Record<string, string>, gw: GatewayError } {
  let gw = toGatewayError(err)
  if (gw === null) {
    const fe = err as FastifyError & { validation?: AjvIssue[], validationContext?: string }
    const code = FASTIFY_CODES[fe.code ?? ''] ?? (fe.validation !== undefined ? 'GW_ERR_VALIDATION' : null)
    if (code === 'GW_ERR_VALIDATION' && fe.validation !== undefined) {
      const errors = validationErrors(fe.validation)
      const where = fe.validationContext === 'querystring' ? 'query string' : fe.validationContext ?? 'request'
      gw = new GatewayError('GW_ERR_VALIDATION', `The ${where} is invalid: ${errors.map(e => `${e.path} ${e.message}`).join('; ')}`, { errors })
    } else if (code !== null) {
      gw = new GatewayError(code, fe.message)
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
