/**
 * A stateful fake of the Google Web Risk Submission API (REST, as the public proto `webrisk.proto` and the REST
 * reference describe it) with its OAuth token endpoint:
 * - `POST /token`: the JWT-bearer grant; the RS256 assertion is verified against the simulator's test key
 *   (connectors/webrisk/sandbox-key.ts), with its key id, `iss`, the cloud-platform scope, `aud` (the path must be the
 *   token path: the simulator may sit behind a proxy), `exp - iat ≤ 3600` and, with `checkAssertionTime`, iat and exp
 *   on the simulator clock;
 *   refusals are 400 `{"error":"invalid_grant"}`. Tokens last 3599 s.
 * - `POST /v1/projects/{id or number}/uris:submit`: one URL, strict validation (unknown fields, scalars in repeated
 *   fields, unknown enums: 400 INVALID_ARGUMENT with a BadRequest detail), 100 a minute and 1,000 a day (429
 *   RESOURCE_EXHAUSTED), answers `{"name": "projects/<number>/operations/<20 digits>"}`.
 * - `GET /v1/projects/{p}/operations/{id}`; `GET /v1/projects/{p}/operations` (newest first, `pageSize`,
 *   `nextPageToken`; or 501 UNIMPLEMENTED with `listMode: 'unimplemented'`).
 * Errors are `google.rpc.Status` in Google's envelope, pretty-printed, `application/json; charset=UTF-8`.
 */
import { createPublicKey, createVerify, randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { SIMULATOR_CLIENT_EMAIL, SIMULATOR_TEST_PRIVATE_KEY } from '../../connectors/webrisk/sandbox-key.js'
import { ABUSE_TYPES, CONFIDENCE_LEVELS, JUSTIFICATION_LABELS, PLATFORMS } from '../../connectors/webrisk/wire.js'
import { createSimulatorApp, type Simulator, type SimulatorFactory, type SimulatorOptions, type SimTarget } from '../harness.js'
import { fakeUrl, Rng, spreadDates } from '../random.js'
import { OperationStore, REVIEW_MS, type Outcome } from './state.js'

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED'
}
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
const TOKEN_SECONDS = 3599
const PER_MINUTE = 100
const PER_DAY = 1000

export function googleError (status: number, message: string, details?: unknown[]): Record<string, unknown> {
  return { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN', ...(details === undefined ? {} : { details }) } }
}

function send (reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=UTF-8').send(JSON.stringify(body, null, 2))
}

/** the key id the simulator accepts: the sandbox key file's, or the secret it was started with (providers/env.ts) */
function expectedKeyId (apiKey: string): string {
  try {
    const parsed = JSON.parse(apiKey) as { private_key_id?: unknown }
    if (typeof parsed.private_key_id === 'string') return parsed.private_key_id
  } catch {}
  return apiKey
}

export interface WebriskSimulator extends Simulator {
  readonly operations: OperationStore
  /** `list`: operations.list answers; `unimplemented`: it is 501 */
  listMode: 'list' | 'unimplemented'
  /** a project that is not allowlisted: every submit gets this status (403, 404 or 501); null = allowlisted */
  refuseSubmitWith: number | null
  /**
   * also refuse an assertion whose iat/exp do not fit the simulator clock. Off by default: a client may run on another
   * clock (a gateway process beside a manual-clock simulator); the lifetime (exp − iat ≤ 3600) is always checked.
   */
  checkAssertionTime: boolean
}

const SEED_OUTCOMES: Outcome[] = ['SUCCEEDED', 'SUCCEEDED', 'CLOSED', 'FAILED', 'CANCELLED', 'RUNNING']

export function createWebriskSimulator (opts: SimulatorOptions): WebriskSimulator {
  const { app, faults, stats } = createSimulatorApp((status, message) => googleError(status, message))
  const operations = new OperationStore(opts.clock)
  const rng = new Rng((opts.seed ?? 1) ^ 0x77726b)
  const count = Math.max(opts.count ?? 36, 1)
  for (const [i, at] of spreadDates(rng, count, opts.clock.now() - REVIEW_MS * 2, opts.spanDays).entries()) {
    const outcome = SEED_OUTCOMES[i % SEED_OUTCOMES.length] as Outcome
    operations.add(fakeUrl(rng), i % 5 === 1 ? 'MALWARE' : 'SOCIAL_ENGINEERING', at, outcome)
  }
  const kid = expectedKeyId(opts.apiKey)
  const publicKey = createPublicKey(SIMULATOR_TEST_PRIVATE_KEY)
  const tokens = new Map<string, number>()
  const submits: number[] = []
  // the small internet: a submission's page is down (blocklisted: the gateway's mitigated) once it SUCCEEDED
  const targets = (): SimTarget[] => operations.all().map(op => {
    const done = op.decideAt !== null && op.decideAt <= opts.clock.now()
    return { value: op.uri, createdAt: op.createdAt, downAt: done && op.outcome === 'SUCCEEDED' ? op.decideAt : null }
  })
  const sim: WebriskSimulator = { app, faults, stats, basePath: '', operations, listMode: 'list', refuseSubmitWith: null, checkAssertionTime: false, targets }

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.setNotFoundHandler(async (_req, reply) => send(reply, 404, googleError(404, 'Requested entity was not found.')))

  app.post<{ Body: Record<string, string> | undefined }>('/token', async (req, reply) => {
    const refuse = (description: string): FastifyReply => send(reply, 400, { error: 'invalid_grant', error_description: description })
    const body = req.body ?? {}
    if (body.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return await send(reply, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' })
    const parts = (body.assertion ?? '').split('.')
    if (parts.length !== 3) return await refuse('Invalid JWT: not a JWT')
    const [h, c, s] = parts as [string, string, string]
    let header: Record<string, unknown>
    let claims: Record<string, unknown>
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>
      claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as Record<string, unknown>
    } catch {
      return await refuse('Invalid JWT: unreadable')
    }
    if (header.alg !== 'RS256') return await refuse('Invalid JWT: alg must be RS256')
    if (!createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s, 'base64url'))) return await refuse('Invalid JWT Signature.')
    if (header.kid !== undefined && header.kid !== kid) return await refuse('Invalid JWT Signature.')
    if (claims.iss !== SIMULATOR_CLIENT_EMAIL) return await refuse('Invalid email or User ID')
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(SCOPE)) return await refuse('Invalid OAuth scope or ID token audience provided.')
    let audPath = ''
    try { audPath = new URL(String(claims.aud)).pathname } catch {}
    if (audPath !== '/token') return await refuse('Invalid JWT: aud must be the token endpoint')
    const now = Math.floor(opts.clock.now() / 1000)
    const iat = Number(claims.iat)
    const exp = Number(claims.exp)
    if (!Number.isInteger(iat) || !Number.isInteger(exp) || exp <= iat || exp - iat > 3600 || (sim.checkAssertionTime && (iat > now + 60 || exp <= now))) {
      return await refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.')
    }
    const token = `sim.${randomBytes(18).toString('base64url')}`
    tokens.set(token, opts.clock.now() + TOKEN_SECONDS * 1000)
    return await send(reply, 200, { access_token: token, expires_in: TOKEN_SECONDS, token_type: 'Bearer' })
  })

  app.register(async (api: FastifyInstance) => {
    api.addHook('onRequest', async (req, reply) => {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
      const until = m === null ? undefined : tokens.get(m[1] as string)
      if (until === undefined || opts.clock.now() >= until) {
        return await send(reply, 401, googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'))
      }
    })
    routes(api, sim, submits)
  }, { prefix: '/v1' })

  // the vendor's side: Google's review settles a submission now, with the outcome given
  app.post<{ Params: { id: string }, Body: { state?: string } }>('/__sim/operations/:id/decide', async (req, reply) => {
    const op = operations.get(req.params.id)
    if (op === undefined) return await reply.code(404).send({ error: 'no such operation' })
    const state = req.body?.state as Outcome | undefined
    if (state === undefined || !['SUCCEEDED', 'CLOSED', 'FAILED', 'CANCELLED', 'RUNNING'].includes(state)) return await reply.code(400).send({ error: 'state must be SUCCEEDED, CLOSED, FAILED, CANCELLED or RUNNING' })
    operations.decide(op, state)
    return await reply.code(204).send()
  })
  return sim
}

type Violation = { field: string, description: string }

/** SubmitUriRequest checks; strict: unknown fields and scalars in repeated fields are refused as Google's transcoder does */
export function violations (body: unknown): Violation[] {
  const out: Violation[] = []
  const b = (body ?? {}) as Record<string, unknown>
  const known = (obj: Record<string, unknown>, keys: string[], where: string): void => {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) out.push({ field: `${where}${k}`, description: `Invalid JSON payload received. Unknown name "${k}"` })
  }
  const enumOf = (value: unknown, allowed: readonly string[], field: string): void => {
    if (typeof value !== 'string' || !allowed.includes(value)) out.push({ field, description: `Invalid value at '${field}'` })
  }
  const list = (value: unknown, field: string): unknown[] => {
    if (value === undefined) return []
    if (!Array.isArray(value)) { out.push({ field, description: `Invalid value at '${field}': repeated field needs a list` }); return [] }
    return value
  }
  known(b, ['submission', 'threatInfo', 'threatDiscovery'], '')
  const submission = (b.submission ?? {}) as Record<string, unknown>
  known(submission, ['uri'], 'submission.')
  const uri = submission.uri
  if (typeof uri !== 'string' || uri === '') out.push({ field: 'submission.uri', description: 'uri is required' })
  else if (!/^https?:\/\/[^\s/]+/i.test(uri) || uri.length > 2083) out.push({ field: 'submission.uri', description: 'uri must be a valid URL' })
  const info = (b.threatInfo ?? {}) as Record<string, unknown>
  known(info, ['abuseType', 'threatConfidence', 'threatJustification'], 'threatInfo.')
  if (info.abuseType !== undefined) enumOf(info.abuseType, ABUSE_TYPES, 'threatInfo.abuseType')
  const confidence = (info.threatConfidence ?? {}) as Record<string, unknown>
  if (confidence.score !== undefined && confidence.level !== undefined) out.push({ field: 'threatInfo.threatConfidence', description: 'only one of score and level' })
  if (confidence.score !== undefined && (typeof confidence.score !== 'number' || confidence.score < 0 || confidence.score > 1)) out.push({ field: 'threatInfo.threatConfidence.score', description: 'score must be from 0 to 1' })
  if (confidence.level !== undefined) enumOf(confidence.level, CONFIDENCE_LEVELS, 'threatInfo.threatConfidence.level')
  const justification = (info.threatJustification ?? {}) as Record<string, unknown>
  for (const [i, l] of list(justification.labels, 'threatInfo.threatJustification.labels').entries()) enumOf(l, JUSTIFICATION_LABELS, `threatInfo.threatJustification.labels[${i}]`)
  for (const [i, c] of list(justification.comments, 'threatInfo.threatJustification.comments').entries()) if (typeof c !== 'string') out.push({ field: `threatInfo.threatJustification.comments[${i}]`, description: 'must be a string' })
  const discovery = (b.threatDiscovery ?? {}) as Record<string, unknown>
  known(discovery, ['platform', 'regionCodes'], 'threatDiscovery.')
  if (discovery.platform !== undefined) enumOf(discovery.platform, PLATFORMS, 'threatDiscovery.platform')
  list(discovery.regionCodes, 'threatDiscovery.regionCodes')
  return out
}

function routes (api: FastifyInstance, sim: WebriskSimulator, submits: number[]): void {
  const ops = sim.operations
  const clock = ops.clock

  api.post<{ Params: { project: string } }>('/projects/:project/uris::submit', async (req, reply) => {
    if (sim.refuseSubmitWith !== null) {
      return await send(reply, sim.refuseSubmitWith, googleError(sim.refuseSubmitWith, sim.refuseSubmitWith === 501 ? 'Method not found.' : `Permission denied on resource project ${req.params.project}.`))
    }
    const wrong = violations(req.body)
    if (wrong.length > 0) {
      return await send(reply, 400, googleError(400, wrong[0]?.description ?? 'Invalid argument', [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: wrong }]))
    }
    const now = clock.now()
    while (submits.length > 0 && (submits[0] as number) <= now - 24 * 3600_000) submits.shift()
    const lastMinute = submits.filter(t => t > now - 60_000).length
    if (lastMinute >= PER_MINUTE || submits.length >= PER_DAY) {
      return await send(reply, 429, googleError(429, `Quota exceeded for quota metric 'SubmitUri requests' and limit 'SubmitUri requests per ${lastMinute >= PER_MINUTE ? 'minute' : 'day'}' of service 'webrisk.googleapis.com'.`))
    }
    submits.push(now)
    const b = req.body as { submission: { uri: string }, threatInfo?: { abuseType?: string } }
    const op = ops.add(b.submission.uri, b.threatInfo?.abuseType ?? 'ABUSE_TYPE_UNSPECIFIED')
    return await send(reply, 200, { name: ops.wire(op).name })
  })

  api.get<{ Params: { project: string, id: string } }>('/projects/:project/operations/:id', async (req, reply) => {
    const op = ops.get(req.params.id)
    if (op === undefined) return await send(reply, 404, googleError(404, 'Requested entity was not found.'))
    return await send(reply, 200, ops.wire(op))
  })

  api.get<{ Params: { project: string }, Querystring: { pageSize?: string, pageToken?: string } }>('/projects/:project/operations', async (req, reply) => {
    if (sim.listMode === 'unimplemented') return await send(reply, 501, googleError(501, 'Method not found.'))
    const size = Math.min(Math.max(Number(req.query.pageSize ?? '50') || 50, 1), 1000)
    const all = ops.all()
    let start = 0
    if (req.query.pageToken !== undefined && req.query.pageToken !== '') {
      const after = Buffer.from(req.query.pageToken, 'base64url').toString('utf8')
      const i = all.findIndex(o => o.id === after)
      if (i < 0) return await send(reply, 400, googleError(400, 'Invalid page token.'))
      start = i + 1
    }
    const page = all.slice(start, start + size)
    const last = page.at(-1)
    const more = start + size < all.length && last !== undefined
    return await send(reply, 200, { operations: page.map(o => ops.wire(o)), ...(more ? { nextPageToken: Buffer.from(last.id).toString('base64url') } : {}) })
  })
}

/** The factory simulators/index.ts finds by the provider id. */
export const simulator: SimulatorFactory = createWebriskSimulator
