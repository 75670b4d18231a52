/**
 * How route schemas become OpenAPI operations beyond what @fastify/swagger does by itself. Documentation only: the
 * route schemas that validate and serialize at run time are never changed (every function here returns copies).
 *
 * - error responses: `application/problem+json` with the one Problem component, a description per status and an
 *   example per status; 401 `WWW-Authenticate`, 429/503 `Retry-After`, 201 `Location` headers;
 * - success responses and JSON bodies: a `$ref` to their named component (not an inlined copy), with the
 *   component's first example as the media-type example;
 * - multipart routes (`config.multipart` 'payload' | 'files', or an own `config.multipartForm`): a
 *   `multipart/form-data` request body next to (or instead of) `application/json`;
 * - query parameters with a default documented as optional (Ajv fills the default in);
 * - `/openapi.json` and `/docs*` hidden; `GET /metrics`, registered before this plugin and so never seen by it,
 *   added under Operations; string enums typed `string`.
 */
import { Type, type TSchema } from 'typebox'
import { PROBLEMS, problemType, type ProblemCode } from '../domain/problems.js'
import { PROBLEM_EXAMPLE } from '../schemas/examples.js'
import { ProblemSchema } from '../schemas/problem.js'
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from '../services/writes.js'

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

const SUBSCHEMA = new Set(['items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else',
  'contentSchema', 'unevaluatedItems', 'unevaluatedProperties'])
const SUBSCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas'])

/**
 * Named components: a copy of `schema` in which every subschema with an `$id` (the TypeBox constants of src/schemas)
 * is a `$ref` to `#/components/schemas/<$id>`, registered in `components` on first sight. @fastify/swagger alone
 * inlines a route's top-level schema and does not look inside `content` maps; data keywords (`examples`, `enum`,
 * `default`, `const`) are copied, never walked.
 */
export class ComponentRegistry {
  private readonly sources = new Map<string, unknown>()
  constructor (private readonly components: Json) {}

  ref (schema: unknown): unknown {
    if (!isObject(schema)) return schema
    const id = schema.$id
    if (typeof id !== 'string') return this.copy(schema)
    const seen = this.sources.get(id)
    if (seen === undefined) {
      this.sources.set(id, schema)
      this.components[id] = this.copy(schema)
    } else if (seen !== schema && JSON.stringify(seen) !== JSON.stringify(schema)) {
      throw new Error(`swagger: two different schemas have the $id "${id}"`)
    }
    return { $ref: `#/components/schemas/${id}` }
  }

  private copy (schema: Json): Json {
    const out: Json = {}
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$id' || k === '$schema') continue
      if (SUBSCHEMA.has(k)) out[k] = Array.isArray(v) ? v.map(s => this.ref(s)) : this.ref(v)
      else if (SUBSCHEMA_LIST.has(k) && Array.isArray(v)) out[k] = v.map(s => this.ref(s))
      else if (SUBSCHEMA_MAP.has(k) && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, this.ref(s)]))
      else out[k] = v
    }
    return out
  }
}

interface ProblemDoc { description: string, examples: Array<{ code: ProblemCode, detail: string, extras?: Json }> }

/** Every error status a route declares, described once. The first example of each is the one Swagger UI shows. */
export const PROBLEM_DOCS: Record<number, ProblemDoc> = {
  400: {
    description: 'Invalid request: `errors` lists each offending field (JSON pointer and message); or a tampered, expired or foreign cursor',
    examples: [
      { code: 'GW_ERR_VALIDATION', detail: PROBLEM_EXAMPLE.detail, extras: { errors: PROBLEM_EXAMPLE.errors } },
      { code: 'GW_ERR_BAD_CURSOR', detail: 'The cursor is not valid for this listing; start again without it' }
    ]
  },
  401: {
    description: 'Missing or unknown gateway key (`WWW-Authenticate: Bearer`); on inbound webhooks: a missing, stale or wrong vendor signature',
    examples: [
      { code: 'GW_ERR_UNAUTHENTICATED', detail: 'Send a gateway key as `Authorization: Bearer <key>`' },
      { code: 'GW_ERR_BAD_SIGNATURE', detail: 'the signature does not match' }
    ]
  },
  403: {
    description: 'The gateway key lacks the scope this operation needs (`read` or `write`; `admin` has both)',
    examples: [{ code: 'GW_ERR_FORBIDDEN', detail: 'The key "reader" lacks the "write" scope this route needs' }]
  },
  404: {
    description: 'No such case, detection or brand monitor (at the provider, or an id of the wrong form)',
    examples: [{ code: 'GW_ERR_CASE_NOT_FOUND', detail: 'phishfort has no case 054zKkjCnR1I3B3U812z', extras: { provider: 'phishfort', providerStatus: 404 } }]
  },
  409: {
    description: 'Conflict: an open case for the same target exists at the provider (`existing` names it; send `allowDuplicate: true` to create anyway), ' +
      'or a request with the same `Idempotency-Key` is still in flight',
    examples: [
      { code: 'GW_ERR_DUPLICATE_CASE', detail: 'phishfort already has an open case for https://login-acme.example.io/secure', extras: { provider: 'phishfort', existing: 'phishfort:054zKkjCnR1I3B3U812z' } },
      { code: 'GW_ERR_IDEMPOTENCY_IN_FLIGHT', detail: 'The first request with this Idempotency-Key is still running; retry later' }
    ]
  },
  410: {
    description: 'The event id is past the retention window (`EVENTS_RETENTION_DAYS`) and the log no longer holds what followed it: re-list cases, then follow the feed from now',
    examples: [{ code: 'GW_ERR_EVENTS_GONE', detail: 'Event 1795997335436-0 is older than the 30-day retention: re-list cases with GET /v1/cases, then follow GET /v1/events without `after`' }]
  },
  413: {
    description: `Too large: the JSON body (1 MB), or the attachments (at most ${MAX_ATTACHMENTS} files, 10 MB in all), checked before anything reaches a provider`,
    examples: [{ code: 'GW_ERR_PAYLOAD_TOO_LARGE', detail: `Attachments may total at most ${MAX_ATTACHMENT_BYTES} bytes (10 MB)` }]
  },
  415: {
    description: 'Unsupported `Content-Type` (send `application/json`, or `multipart/form-data` where the operation takes it)',
    examples: [{ code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', detail: 'Content-Type text/plain is not accepted; send application/json, or multipart/form-data (a JSON `payload` field and `attachments` files) where the operation takes files' }]
  },
  422: {
    description: 'The provider cannot do this, is off (no credentials), or rejected the request; or an `Idempotency-Key` was reused with a different request',
    examples: [
      { code: 'GW_ERR_UNSUPPORTED', detail: 'phishfort cannot cancel a case; ask for a review with POST /v1/cases/{id}/actions/mark-safe', extras: { provider: 'phishfort' } },
      { code: 'GW_ERR_PROVIDER_REJECTED', detail: 'cloudflare rejected the report: justification is required for abuse_phishing', extras: { provider: 'cloudflare', providerStatus: 400 } }
    ]
  },
  429: {
    description: 'Rate limited per gateway key (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS, shared by replicas); `Retry-After` says when to retry',
    examples: [{ code: 'GW_ERR_RATE_LIMITED', detail: 'The key "ops" may send 6000 requests per 60 s; retry in 12 seconds' }]
  },
  500: {
    description: 'Unexpected error; the details stay in the gateway log under `requestId`',
    examples: [{ code: 'GW_ERR_INTERNAL', detail: 'Unexpected error; quote request id 5f0c6d1e-8a4b-4c1f-9d7e-2b3a4c5d6e7f when reporting it' }]
  },
  502: {
    description: 'The provider failed (for listings: every provider failed)',
    examples: [{ code: 'GW_ERR_PROVIDER_ERROR', detail: 'phishfort answered 500', extras: { provider: 'phishfort', providerStatus: 500 } }]
  },
  503: {
    description: 'The gateway sheds load (event loop overloaded), the provider is unavailable (circuit open, vendor rate limit, queue full), or (event routes) the event store is down; ' +
      '`Retry-After` when known',
    examples: [
      { code: 'GW_ERR_UNAVAILABLE', detail: 'The gateway is overloaded (eventLoopDelay 1250); retry in 5 s' },
      { code: 'GW_ERR_PROVIDER_UNAVAILABLE', detail: 'cloudflare is unavailable (circuit open); retry in 10 s', extras: { provider: 'cloudflare', providerStatus: null } },
      { code: 'GW_ERR_EVENTS_UNAVAILABLE', detail: 'The event store is unavailable; the case API keeps working. Retry shortly: nothing recorded is lost.' }
    ]
  },
  504: {
    description: 'The provider did not answer in time (`<PROVIDER>_TIMEOUT_MS`)',
    examples: [{ code: 'GW_ERR_PROVIDER_TIMEOUT', detail: 'bforeai did not answer within 10000 ms', extras: { provider: 'bforeai', providerStatus: null } }]
  }
}

const SUCCESS_DESCRIPTIONS: Record<number, string> = {
  200: 'OK',
  201: 'Created; `Location` is its URL',
  202: 'Accepted by the provider',
  204: 'No content',
  304: 'Not modified',
  503: 'Not ready; `reason` says why'
}

const HEADERS = {
  location: Type.String({ description: 'URL of the created resource', examples: ['/v1/cases/phishfort:054zKkjCnR1I3B3U812z'] }),
  retryAfter: Type.Integer({ minimum: 0, description: 'Seconds to wait before retrying' }),
  wwwAuthenticate: Type.String({ description: 'Bearer challenge (RFC 6750)' })
}

/** example `instance` (the request path) of a route URL like `/v1/cases/:id/cancel` */
function examplePath (url: string): string {
  const id = url.startsWith('/v1/detections') ? 'bforeai:attack:70000' : url.startsWith('/v1/brand-monitors') ? 'logo:201' : 'phishfort:054zKkjCnR1I3B3U812z'
  return url.replace(/:id\b/, id).replace(/:kind\b/, 'statuses').replace(/:action\b/, 'takedown')
}

export function problemExample (status: number, code: ProblemCode, detail: string, instance: string, extras: Json = {}): Json {
  return {
    type: problemType(code),
    title: PROBLEMS[code].title,
    status,
    detail,
    instance,
    requestId: '5f0c6d1e-8a4b-4c1f-9d7e-2b3a4c5d6e7f',
    code,
    ...extras
  }
}

const isProblemSchema = (s: unknown): boolean => (s as Json | null)?.$id === 'Problem'

function problemResponse (status: number, url: string, reg: ComponentRegistry): Json {
  const doc = PROBLEM_DOCS[status]
  if (doc === undefined) throw new Error(`swagger: no description of a ${status} problem (route ${url}); add one to PROBLEM_DOCS`)
  const headers: Json = {}
  if (status === 401) headers['www-authenticate'] = HEADERS.wwwAuthenticate
  if (status === 429 || status === 503) headers['retry-after'] = HEADERS.retryAfter
  const examples = Object.fromEntries(doc.examples.map(e => [e.code, {
    summary: PROBLEMS[e.code].title,
    value: problemExample(status, e.code, e.detail, examplePath(url), e.extras)
  }]))
  return {
    description: doc.description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: { 'application/problem+json': { schema: reg.ref(ProblemSchema), examples } }
  }
}

function firstExample (schema: unknown): unknown {
  const examples = (schema as Json | null)?.examples
  return Array.isArray(examples) ? examples[0] : undefined
}

/** the first example; for an error status (/readyz 503) the last one */
function media (schema: unknown, reg: ComponentRegistry, status = 200): Json {
  const examples = (schema as Json | null)?.examples
  const example = Array.isArray(examples) ? examples[status >= 400 ? examples.length - 1 : 0] : undefined
  return example === undefined ? { schema: reg.ref(schema) } : { schema: reg.ref(schema), example }
}

function successResponse (status: number, schema: Json, reg: ComponentRegistry): Json {
  const description = typeof schema.description === 'string' && schema.type !== 'null'
    ? schema.description
    : SUCCESS_DESCRIPTIONS[status] ?? 'OK'
  if (schema.type === 'null' || 'content' in schema) return { ...schema, description }
  return {
    description,
    ...(status === 201 ? { headers: { location: HEADERS.location } } : {}),
    content: { 'application/json': media(schema, reg, status) }
  }
}

const attachmentsField = Type.Array(Type.String({ format: 'binary', contentMediaType: 'application/octet-stream' }), {
  maxItems: MAX_ATTACHMENTS,
  description: `Evidence files, one repeated \`attachments\` field per file: at most ${MAX_ATTACHMENTS} files, 10 MB in all (${MAX_ATTACHMENT_BYTES} bytes)`
})

function multipartPayload (body: unknown): TSchema {
  return Type.Object({
    payload: Type.String({
      contentMediaType: 'application/json',
      contentSchema: body,
      description: 'The JSON request body (the same object as `application/json`), as a string'
    }),
    attachments: Type.Optional(attachmentsField)
  }, { additionalProperties: false })
}

const multipartFiles = Type.Object({ attachments: attachmentsField }, { additionalProperties: false })

/** Request bodies by operation id, for `transformObject` to add as media examples (@fastify/swagger keeps only the schema). */
export type BodyExamples = Map<string, unknown>

interface TransformInput { schema: unknown, url: string, route: { config?: unknown }, openapiObject: unknown }

const registries = new WeakMap<object, ComponentRegistry>()

/** The @fastify/swagger `transform`: returns the documentation view of one route. */
export function transformRoute ({ schema: raw, url, route, openapiObject }: TransformInput, bodyExamples: BodyExamples): { schema: Json, url: string } {
  const schema = { ...(raw as Json | undefined) }
  if (url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/')) return { schema: { ...schema, hide: true }, url }
  const config = (route.config ?? {}) as { multipart?: 'payload' | 'files', multipartForm?: TSchema }
  // one registry per generated document: @fastify/swagger builds a fresh openapiObject each time
  const doc = openapiObject as { components: { schemas: Json } }
  let reg = registries.get(doc)
  if (reg === undefined) {
    reg = new ComponentRegistry(doc.components.schemas)
    registries.set(doc, reg)
  }

  if (schema.response !== undefined) {
    const response: Json = {}
    for (const [status, s] of Object.entries(schema.response as Json)) {
      response[status] = isProblemSchema(s) ? problemResponse(Number(status), url, reg) : successResponse(Number(status), s as Json, reg)
    }
    schema.response = response
  }

  // Ajv fills in defaults (useDefaults), so a query parameter with a default is optional for the client
  if (isObject(schema.querystring) && Array.isArray(schema.querystring.required)) {
    const qs = schema.querystring as { required: string[], properties?: Record<string, Json> }
    schema.querystring = { ...qs, required: qs.required.filter(name => qs.properties?.[name]?.default === undefined) }
  }

  const body = schema.body as TSchema | undefined
  const content: Json = {}
  if (body !== undefined) {
    content['application/json'] = { schema: reg.ref(body) }
    const example = firstExample(body)
    if (typeof schema.operationId === 'string' && example !== undefined) bodyExamples.set(schema.operationId, example)
  }
  if (config.multipart === 'payload' && body !== undefined) content['multipart/form-data'] = { schema: reg.ref(multipartPayload(reg.ref(body))) }
  if (config.multipart === 'files') content['multipart/form-data'] = { schema: reg.ref(multipartFiles) }
  if (config.multipartForm !== undefined) content['multipart/form-data'] = { schema: reg.ref(config.multipartForm) }
  if (Object.keys(content).length > 0) schema.body = { content }
  return { schema, url }
}

/**
 * The @fastify/swagger `transformObject`: adds the JSON request-body examples collected by `transformRoute`, and
 * `GET /metrics` (registered before the swagger plugin, so @fastify/swagger never sees the route) after `/readyz`.
 */
export function finishDocument (doc: Json, bodyExamples: BodyExamples): Json {
  const paths = doc.paths as Record<string, Record<string, Json>>
  if (paths['/metrics'] === undefined) {
    doc.paths = Object.fromEntries(Object.entries(paths).flatMap(([k, v]) => k === '/readyz' ? [[k, v], ['/metrics', { get: METRICS_OPERATION }]] : [[k, v]]))
  }
  typeStringEnums(doc)
  for (const item of Object.values(doc.paths as Record<string, Record<string, Json>>)) {
    for (const op of Object.values(item)) {
      const json = ((op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined)?.['application/json']
      const example = typeof op.operationId === 'string' ? bodyExamples.get(op.operationId) : undefined
      if (json !== undefined && example !== undefined && json.example === undefined && json.examples === undefined) json.example = example
      // a body of optional fields may be left out (plugins/json-body.ts takes none as {})
      if (json !== undefined && optionalFields(json.schema, doc)) (op.requestBody as Json).required = false
    }
  }
  return doc
}

/** true for an object schema (or a `$ref` to one) whose fields are all optional */
function optionalFields (schema: unknown, doc: Json): boolean {
  const ref = isObject(schema) && typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : null
  const target = ref === null ? schema : (doc.components as { schemas: Json }).schemas[ref]
  return isObject(target) && target.type === 'object' && (!Array.isArray(target.required) || target.required.length === 0)
}

const DATA_KEYWORDS = new Set(['example', 'examples', 'default', 'enum', 'const'])

/**
 * TypeBox `Type.Enum` emits `{enum: [...]}` without `type`; where every value is a string the document says
 * `type: string` too, so Swagger UI and generated clients show a string enum rather than "any".
 */
function typeStringEnums (node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) typeStringEnums(item)
    return
  }
  if (!isObject(node)) return
  if (Array.isArray(node.enum) && node.type === undefined && node.enum.every(v => typeof v === 'string')) node.type = 'string'
  for (const [k, v] of Object.entries(node)) if (!DATA_KEYWORDS.has(k)) typeStringEnums(v)
}

const METRICS_OPERATION: Json = {
  operationId: 'metrics',
  tags: ['Operations'],
  summary: 'Prometheus metrics',
  description: 'Prometheus text exposition format: inbound requests by route template and status, upstream calls per provider, ' +
    'circuit states, cache outcomes, idempotent replays, unmapped provider statuses, and the Node.js process metrics. No auth.',
  security: [],
  responses: {
    200: {
      description: 'Prometheus text format 0.0.4',
      content: {
        'text/plain': {
          schema: { type: 'string' },
          example: '# TYPE takedown_gateway_http_request_duration_seconds histogram\n' +
            'takedown_gateway_http_request_duration_seconds_count{method="GET",route="/v1/cases",status_code="200"} 42\n'
        }
      }
    }
  }
}
