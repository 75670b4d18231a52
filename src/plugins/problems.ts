/**
 * The one error handler: every failure leaves as an RFC 9457 problem, from the catalogue in
 * domain/problems.ts. Details of 500s stay in the log; the client gets the request id to quote.
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { GatewayError, internalError, PROBLEMS, problemOf, problemType, toGatewayError, type ProblemCode } from '../domain/problems.js'
import type { Problem } from '../schemas/problem.js'
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from '../services/writes.js'
import { MULTIPART_LIMITS } from './multipart.js'

/** The JSON body limit http/server.ts gives Fastify (1 MiB); larger evidence travels as multipart attachments. */
export const BODY_LIMIT_BYTES = 1_048_576

const ACCEPTED_MEDIA_TYPES = 'application/json, or multipart/form-data (a JSON `payload` field and `attachments` files) where the operation takes files'

/** Fastify and @fastify/multipart error codes → catalogue code and a detail that says what to change (data, one row each). */
const FASTIFY_CODES: Record<string, { code: ProblemCode, detail?: (req: ProblemRequest) => string }> = {
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
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'GW_ERR_VALIDATION', detail: () => 'Content-Length does not match the body that was sent' },
  FST_ERR_VALIDATION: { code: 'GW_ERR_VALIDATION' }
}

function mediaType (req: ProblemRequest): string {
  const ct = req.headers?.['content-type']
  return ct === undefined || ct === '' ? '(none)' : (ct.split(';')[0] ?? ct).trim()
}

/** Where a validation error was found, in the words of an HTTP request. */
const CONTEXTS: Record<string, string> = { body: 'request body', querystring: 'query string', params: 'path', headers: 'request headers' }

/** reasons spelled out in a validation detail */
const DETAIL_ERRORS = 5

interface AjvIssue {
  instancePath?: string
  schemaPath?: string
  message?: string
  keyword?: string
  params?: Record<string, unknown>
  /** with Ajv's `verbose` (http/server.ts): the schema holding the failed keyword, and the value */
  parentSchema?: unknown
  data?: unknown
}

/** An example of every date-time the API takes, shown when one is refused. */
const DATE_TIME_EXAMPLE = '2026-01-01T00:00:00Z'

/** Ajv issues as the problem's `errors` (JSON pointer and message); `where` tells repeated query keys and body shapes. */
export function validationErrors (issues: readonly AjvIssue[], where: { context?: string, url?: string, body?: unknown } = {}): Array<{ path: string, message: string }> {
  const repeated = where.context === 'querystring' && where.url !== undefined ? repeatedKeys(where.url) : new Map<string, number>()
  return withoutBranches(issues).map(v => {
    let path = v.instancePath ?? ''
    const params = v.params ?? {}
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') path += `/${params.missingProperty}`
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { path: `${path}/${params.additionalProperty}`, message: 'is not a known field' }
    }
    // limit=2&limit=3 arrives as a list: say so instead of "must be integer"
    const times = repeated.get(path.slice(1))
    if (times !== undefined) return { path, message: `is given ${times} times; send it once` }
    if (path === '' && (v.keyword === 'type' || (v.keyword === 'anyOf' && !isObject(where.body))) && where.context === 'body') {
      return { path: '/', message: where.body === undefined || where.body === null ? 'is missing: send a JSON object' : `must be a JSON object, not ${Array.isArray(where.body) ? 'an array' : `a ${typeof where.body}`}` }
    }
    return { path: path === '' ? '/' : path, message: issueMessage(v) }
  })
}

const isObject = (x: unknown): boolean => typeof x === 'object' && x !== null && !Array.isArray(x)

function issueMessage (v: AjvIssue): string {
  const params = v.params ?? {}
  if (v.keyword === 'anyOf') return `must be ${alternatives(v.parentSchema)}`
  if (v.keyword === 'const') return `must be ${JSON.stringify(params.allowedValue)}`
  if (v.keyword === 'format' && params.format === 'date-time') {
    return typeof v.data === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.data)
      ? `has no time: send a date, a time and an offset, e.g. ${DATE_TIME_EXAMPLE}`
      : `must be an RFC 3339 date-time with an offset, e.g. ${DATE_TIME_EXAMPLE}`
  }
  let message = v.message ?? 'is invalid'
  if (Array.isArray(params.allowedValues)) message += `: ${params.allowedValues.join(', ')}`
  return message
}

interface SchemaLike { const?: unknown, enum?: unknown[], type?: string | string[], required?: string[], properties?: Record<string, SchemaLike>, anyOf?: SchemaLike[] }

/** What an `anyOf` takes: its values when its branches are values, else the shape of each branch. */
function alternatives (schema: unknown): string {
  const branches = (schema as SchemaLike | undefined)?.anyOf ?? []
  const values = branches.flatMap(b => b.const !== undefined ? [String(b.const)] : b.enum !== undefined ? b.enum.map(String) : [])
  const types = branches.filter(b => b.const === undefined && b.enum === undefined && b.properties === undefined).flatMap(b => [b.type ?? 'any value'].flat())
  if (branches.every(b => b.properties === undefined)) {
    return types.length === 0 ? `equal to one of the allowed values: ${values.join(', ')}` : `one of: ${[...values, ...types].join(', ')}`
  }
  const shape = (b: SchemaLike): string => b.properties === undefined
    ? String(b.const ?? b.type ?? 'a value')
    : `{${(b.required ?? []).map(k => b.properties?.[k]?.const === undefined ? k : `${k}: ${JSON.stringify(b.properties[k].const)}`).join(', ')}}`
  return `one of these shapes: ${branches.map(shape).join(' or ')}`
}

/**
 * Ajv reports every failed branch of an `anyOf` ("must be equal to constant" once per value, then "must match a schema
 * in anyOf"): keep the anyOf issue, which names the alternatives, and of the branches only the closest one, the branch
 * the value is of (its type, const and enum values matched) with the fewest issues. Outer unions are read first, so an
 * inner union's branches go even inside the closest outer branch.
 */
function withoutBranches (issues: readonly AjvIssue[]): AjvIssue[] {
  const unions = issues.filter(v => v.keyword === 'anyOf' && typeof v.schemaPath === 'string').reverse()
  if (unions.length === 0) return [...issues]
  const drop = new Set<AjvIssue>()
  for (const u of unions) {
    const prefix = `${u.schemaPath ?? ''}/`
    const byBranch = new Map<string, AjvIssue[]>()
    for (const v of issues) {
      if (v === u || v.schemaPath?.startsWith(prefix) !== true) continue
      drop.add(v)
      const branch = v.schemaPath.slice(prefix.length).split('/')[0] ?? ''
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), v])
    }
    if (drop.has(u)) continue
    const other = (v: AjvIssue): boolean => v.keyword === 'const' || v.keyword === 'enum' || (v.keyword === 'type' && v.instancePath === u.instancePath)
    const scored = [...byBranch.values()].map(vs => ({ vs, score: vs.reduce((n, v) => n + (other(v) ? 1000 : 1), 0) })).sort((a, b) => a.score - b.score)
    const closest = scored[0]
    if (closest !== undefined && closest.score < 1000) for (const v of closest.vs) drop.delete(v)
  }
  return issues.filter(v => !drop.has(v))
}

/** Query keys given more than once, with their count. */
function repeatedKeys (url: string): Map<string, number> {
  const counts = new Map<string, number>()
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
  for (const key of new URLSearchParams(query).keys()) counts.set(key, (counts.get(key) ?? 0) + 1)
  for (const [key, n] of counts) if (n < 2) counts.delete(key)
  return counts
}

/** What the problem needs of a request: its url and id, and (for the details that name them) headers and body. */
export type ProblemRequest = Pick<FastifyRequest, 'url' | 'id'> & Partial<Pick<FastifyRequest, 'headers' | 'body'>>

export function toProblem (err: unknown, req: ProblemRequest): { problem: Problem, headers: Record<string, string>, gw: GatewayError } {
  let gw = toGatewayError(err)
  if (gw === null) {
    const fe = err as FastifyError & { validation?: AjvIssue[], validationContext?: string }
    const known = FASTIFY_CODES[fe.code ?? '']
    const code = known?.code ?? (fe.validation !== undefined ? 'GW_ERR_VALIDATION' : null)
    if (code === 'GW_ERR_VALIDATION' && fe.validation !== undefined) {
      const errors = validationErrors(fe.validation, { ...(fe.validationContext === undefined ? {} : { context: fe.validationContext }), url: req.url, body: req.body })
      const where = CONTEXTS[fe.validationContext ?? ''] ?? 'request'
      const shown = errors.slice(0, DETAIL_ERRORS).map(e => `${e.path} ${e.message}`).join('; ')
      gw = new GatewayError('GW_ERR_VALIDATION', `The ${where} is invalid: ${shown}${errors.length > DETAIL_ERRORS ? `; and ${errors.length - DETAIL_ERRORS} more` : ''}`, { errors })
    } else if (code !== null) {
      gw = new GatewayError(code, known?.detail?.(req) ?? fe.message)
    } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const byStatus = (Object.keys(PROBLEMS) as ProblemCode[]).find(c => PROBLEMS[c].status === fe.statusCode)
      gw = new GatewayError(byStatus ?? 'GW_ERR_VALIDATION', fe.message)
    } else {
      gw = internalError(String(req.id))
    }
  }
  return { ...problemOf(gw, req), gw }
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
  // every route's path as a pattern, so a path that exists under other methods answers 405 with Allow, not 404
  const routes: Array<{ methods: string[], pattern: RegExp }> = []
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String)
    const source = route.url.split('/').map(seg => seg === '*' ? '.*' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/')
    routes.push({ methods, pattern: new RegExp(`^${source}$`) })
  })
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? ''
    const allowed = new Set<string>()
    for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m)
    if (allowed.size > 0) {
      const allow = [...allowed].sort()
      const { problem, headers } = toProblem(new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${path} does not take ${req.method}; use ${allow.join(', ')}`, { allowed: allow }), req)
      return reply.code(405).headers(headers).header('allow', allow.join(', ')).send(problem)
    }
    const { problem, headers } = toProblem(new GatewayError('GW_ERR_NOT_FOUND', `No route ${req.method} ${path}; the API is under /v1 (see /openapi.json)`), req)
    return reply.code(404).headers(headers).send(problem)
  })
}

/** Longest id a route takes (case ids 512, detection ids 1024 characters, as the OpenAPI document says). */
export const MAX_ID_LENGTH = 1024
/** The router's parameter limit is counted on the raw path: an id of MAX_ID_LENGTH characters, every one percent-encoded. */
export const MAX_RAW_PARAM_LENGTH = 3 * MAX_ID_LENGTH

/** Router errors (bad percent-encoding, an over-long parameter) that never reach the error handler, as problems. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = function (err, req, reply) {
  const path = (req.raw.url ?? '').split('?')[0] ?? ''
  const gw = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? new GatewayError('GW_ERR_URI_TOO_LONG', `A path parameter is longer than ${MAX_RAW_PARAM_LENGTH} characters (ids have at most ${MAX_ID_LENGTH}); shorten it`)
    : new GatewayError('GW_ERR_VALIDATION', 'The path is not valid percent-encoding; write each reserved or non-ASCII byte as %XX with two hex digits')
  const { problem, headers } = toProblem(gw, req)
  problem.instance = path.length > 256 ? path.slice(0, 256) + '…' : path
  req.log.info({ code: gw.code, status: problem.status }, problem.detail)
  const out = reply as unknown as FastifyReply
  out.code(problem.status).headers(headers).header('x-request-id', String(req.id)).send(problem)
}

const CLIENT_ERRORS: Record<string, { code: ProblemCode, detail: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'GW_ERR_HEADERS_TOO_LARGE', detail: 'The request headers exceed the server\'s limit (16 KB in all); send fewer or shorter headers' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'GW_ERR_REQUEST_TIMEOUT', detail: 'The request was not received in time; send the headers and the body without pauses' },
  ERR_HTTP_HEADERS_TIMEOUT: { code: 'GW_ERR_REQUEST_TIMEOUT', detail: 'The request headers were not received in time; send them without pauses' }
}

/**
 * Requests Node's HTTP parser refuses (raw bytes outside the URL grammar, broken framing, oversized headers, deadlines)
 * never become Fastify requests: they are answered here, on the socket, as problems with a request id of their own.
 */
/** The path of the request line the parser refused, as far as it can be read (printable ASCII, 256 characters at most). */
function requestPath (err: Error & { rawPacket?: Buffer }): string {
  const line = err.rawPacket?.subarray(0, 2048).toString('latin1').split('\r\n')[0] ?? ''
  const target = (line.split(' ')[1] ?? '').split('?')[0] ?? ''
  return target.replace(/[^\x21-\x7e]/g, '').slice(0, 256)
}

export function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  // a response already under way on this socket (a refusal sent while the body still trickles in): just close
  if ((socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true) {
    socket.destroy()
    return
  }
  const known = CLIENT_ERRORS[err.code ?? '']
  const code: ProblemCode = known?.code ?? 'GW_ERR_VALIDATION'
  const entry = PROBLEMS[code]
  const requestId = randomUUID()
  const body = JSON.stringify({
    type: problemType(code),
    title: entry.title,
    status: entry.status,
    detail: known?.detail ?? 'The request is not valid HTTP/1.1 (percent-encode non-ASCII and reserved characters in the URL, e.g. ü as %C3%BC; no control characters in headers)',
    instance: requestPath(err),
    requestId,
    code
  })
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${entry.status} ${STATUS_CODES[entry.status] ?? ''}\r\ncontent-type: application/problem+json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`)
  }
  socket.destroySoon()
}
