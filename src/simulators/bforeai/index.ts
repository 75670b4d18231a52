/**
 * BforeAI takedown API simulator (FastAPI look-alike). Paths, envelopes and error bodies follow
 * BforeAI's Takedowns Management API docs; choices for the [?] items are listed in src/connectors/bforeai/README.md.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ValidationItem } from '../../connectors/bforeai/wire.js'
import { bforeaiStatusTable } from '../../connectors/bforeai/status-map.js'
import { normaliseStatusName } from '../../status/table.js'
import { createSimulatorApp, type Simulator, type SimulatorFactory, type SimulatorOptions, type SimTarget } from '../harness.js'
import { parsePlan } from '../plan.js'
import { Rng } from '../random.js'
import { seedAttacks, seedState } from './seed.js'
import {
  BRANDS, CANCELLATION_REASONS, COMPANY_ID, FINAL_STATUS_IDS, PLATFORMS, STATUSES, TAKEDOWN_TYPES, THREAT_TYPES, BforeaiState,
  type TakedownRecord
} from './state.js'

export const BFOREAI_BASE_PATH = '/api'
const MAX_URL = 2083
export const ALREADY_DETECTED_MESSAGE = 'Domain already detected. It is followed up through the confirmed attacks workflow.'

type Query = Record<string, string | string[] | undefined>

/** FastAPI `HTTPException` body (BforeAI Takedowns Management API docs, error responses) */
function detail (message: string): { detail: string } {
  return { detail: message }
}

class Validation {
  readonly items: ValidationItem[] = []
  add (loc: Array<string | number>, msg: string, type: string, ctx?: Record<string, unknown>): void {
    this.items.push(ctx === undefined ? { loc, msg, type } : { loc, msg, type, ctx })
  }

  get failed (): boolean { return this.items.length > 0 }
  send (reply: FastifyReply): FastifyReply {
    return reply.code(422).send({ detail: this.items })
  }
}

/** Starlette keeps the last value of a repeated scalar query key */
function last (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v
}

function toInt (v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v)
  return null
}

function intQuery (v: Validation, q: Query, name: string, bounds: { ge?: number, le?: number }): number | undefined {
  const raw = last(q[name])
  if (raw === undefined) return undefined
  const n = toInt(raw)
  if (n === null) {
    v.add(['query', name], 'value is not a valid integer', 'type_error.integer')
    return undefined
  }
  if (bounds.ge !== undefined && n < bounds.ge) {
    v.add(['query', name], `ensure this value is greater than or equal to ${bounds.ge}`, 'value_error.number.not_ge', { limit_value: bounds.ge })
    return undefined
  }
  if (bounds.le !== undefined && n > bounds.le) {
    v.add(['query', name], `ensure this value is less than or equal to ${bounds.le}`, 'value_error.number.not_le', { limit_value: bounds.le })
    return undefined
  }
  return n
}

function dateQuery (v: Validation, q: Query, name: string): number | undefined {
  const raw = last(q[name])
  if (raw === undefined) return undefined
  let s = raw.trim()
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s += 'Z'
  const ms = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN
  if (Number.isNaN(ms)) {
    v.add(['query', name], 'invalid datetime format', 'value_error.datetime')
    return undefined
  }
  return ms
}

function enumValue<T extends string> (v: Validation, loc: Array<string | number>, raw: unknown, allowed: readonly T[]): T | undefined {
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T
  v.add(loc, `value is not a valid enumeration member; permitted: ${allowed.map(a => `'${a}'`).join(', ')}`, 'type_error.enum',
    { enum_values: [...allowed] })
  return undefined
}

/** pydantic v1-style body checks */
function bodyObject (v: Validation, body: unknown): Record<string, unknown> | null {
  if (body === undefined || body === null) {
    v.add(['body'], 'field required', 'value_error.missing')
    return null
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    v.add(['body'], 'value is not a valid dict', 'type_error.dict')
    return null
  }
  return body as Record<string, unknown>
}

function requiredStr (v: Validation, b: Record<string, unknown>, name: string): string | undefined {
  const value = b[name]
  if (value === undefined || value === null) {
    v.add(['body', name], value === null ? 'none is not an allowed value' : 'field required', value === null ? 'type_error.none.not_allowed' : 'value_error.missing')
    return undefined
  }
  if (typeof value !== 'string') {
    v.add(['body', name], 'str type expected', 'type_error.str')
    return undefined
  }
  return value
}

function requiredUrl (v: Validation, b: Record<string, unknown>, name: string): string | undefined {
  const value = requiredStr(v, b, name)
  if (value === undefined) return undefined
  if (value.length < 1) {
    v.add(['body', name], 'ensure this value has at least 1 characters', 'value_error.any_str.min_length', { limit_value: 1 })
    return undefined
  }
  if (value.length > MAX_URL) {
    v.add(['body', name], `ensure this value has at most ${MAX_URL} characters`, 'value_error.any_str.max_length', { limit_value: MAX_URL })
    return undefined
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    v.add(['body', name], 'invalid or missing URL scheme', 'value_error.url.scheme')
    return undefined
  }
  try {
    const host = new URL(value).hostname
    if (host === '') throw new Error('no host')
  } catch {
    v.add(['body', name], 'URL host invalid', 'value_error.url.host')
    return undefined
  }
  return value
}

function requiredInt (v: Validation, b: Record<string, unknown>, name: string): number | undefined {
  const value = b[name]
  if (value === undefined || value === null) {
    v.add(['body', name], 'field required', 'value_error.missing')
    return undefined
  }
  const n = toInt(value)
  if (n === null) {
    v.add(['body', name], 'value is not a valid integer', 'type_error.integer')
    return undefined
  }
  return n
}

export function createBforeaiSimulator (opts: SimulatorOptions): Simulator {
  const { app, faults, stats } = createSimulatorApp((_status, message) => detail(message))
  const rng = new Rng(opts.seed ?? 1)
  const state = new BforeaiState(opts.clock, () => rng.id(24, '0123456789abcdef'))
  seedState(state, rng, Math.max(1, opts.count ?? 36), opts.spanDays)
  seedAttacks(state, new Rng((opts.seed ?? 1) + 7919), 14)

  app.register(async (api: FastifyInstance) => {
    // BforeAI docs, 'Access and authentication': the 401 status and body are [?]; FastAPI HTTPException style is assumed
    api.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const key = req.headers['x-authorization']
      if (key === undefined || key === '') return await reply.code(401).send(detail('Not authenticated'))
      if (key !== opts.apiKey) return await reply.code(401).send(detail('Invalid API key'))
    })
    api.setNotFoundHandler(async (_req, reply) => reply.code(404).send(detail('Not Found')))
    api.setErrorHandler(async (err: { code?: string, statusCode?: number, message: string }, _req, reply) => {
      if (typeof err.code === 'string' && err.code.startsWith('FST_ERR_CTP')) {
        // FastAPI answers an unreadable JSON body with 422 value_error.jsondecode
        return await reply.code(422).send({ detail: [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }] })
      }
      return await reply.code(500).send(detail('Internal Server Error'))
    })

    // ---- list (BforeAI API docs, GET /v2/takedown/list, fastapi-pagination Page) ----
    api.get('/v2/takedown/list', async (req, reply) => {
      const q = req.query as Query
      const v = new Validation()
      const since = dateQuery(v, q, 'since')
      const until = dateQuery(v, q, 'until')
      const sortRaw = last(q.sort)
      const orderRaw = last(q.order)
      // sort values are [?] (BforeAI API docs, GET /v2/takedown/list): created (documented default) and updated_at are accepted here
      const sort = sortRaw === undefined ? 'created' : enumValue(v, ['query', 'sort'], sortRaw, ['created', 'updated_at'] as const)
      const order = orderRaw === undefined ? 'descending' : enumValue(v, ['query', 'order'], orderRaw, ['ascending', 'descending'] as const)
      const brandId = intQuery(v, q, 'brand_id', {})
      const page = intQuery(v, q, 'page', { ge: 1 }) ?? 1
      const size = intQuery(v, q, 'size', { ge: 1, le: 100 }) ?? 50
      const companyIds: number[] = []
      const rawCompanies = q.company_ids === undefined ? [] : ([] as string[]).concat(q.company_ids)
      rawCompanies.forEach((c, i) => {
        const n = toInt(c)
        if (n === null) v.add(['query', 'company_ids', i], 'value is not a valid integer', 'type_error.integer')
        else companyIds.push(n)
      })
      if (v.failed) return v.send(reply)
      const attackUrl = last(q.attack_url)
      const brandName = last(q.brand_name)?.toLowerCase()
      const all = state.sorted(sort ?? 'created', order ?? 'descending').filter(r =>
        (since === undefined || r.createdMs >= since) &&
        (until === undefined || r.createdMs <= until) &&
        (attackUrl === undefined || r.attackUrl === attackUrl) &&
        // brand_name: exact, case-insensitive (the gateway's own `brand` semantics)
        (brandName === undefined || r.brand.name.toLowerCase() === brandName) &&
        (brandId === undefined || r.brand.id === brandId) &&
        (companyIds.length === 0 || companyIds.includes(COMPANY_ID)))
      return pageOf(all, page, size, r => state.toWire(r))
    })

    // ---- confirmed attacks (BforeAI API docs, GET /v2/takedown/attacks): from/until required, Page + warning ----
    api.get('/v2/takedown/attacks', async (req, reply) => {
      const q = req.query as Query
      const v = new Validation()
      for (const name of ['from', 'until']) {
        if (last(q[name]) === undefined) v.add(['query', name], 'field required', 'value_error.missing')
      }
      const from = dateQuery(v, q, 'from')
      const until = dateQuery(v, q, 'until')
      const sortRaw = last(q.sort)
      const orderRaw = last(q.order)
      // sort values are [?]: updated_at (documented default) and detection_date are accepted here
      const sort = sortRaw === undefined ? 'updated_at' : enumValue(v, ['query', 'sort'], sortRaw, ['updated_at', 'detection_date'] as const)
      const order = orderRaw === undefined ? 'descending' : enumValue(v, ['query', 'order'], orderRaw, ['ascending', 'descending'] as const)
      const brandId = intQuery(v, q, 'brand_id', {})
      const page = intQuery(v, q, 'page', { ge: 1 }) ?? 1
      const size = intQuery(v, q, 'size', { ge: 1, le: 100 }) ?? 50
      if (v.failed || from === undefined || until === undefined) return v.send(reply)
      const name = last(q.attack_name)?.toLowerCase()
      const key = (a: (typeof state.attacks)[number]): number => sort === 'detection_date' ? a.detectionMs : a.updatedMs
      const all = state.attacks
        // [?] which date from/until apply to: detection_date here
        .filter(a => a.detectionMs >= from && a.detectionMs <= until &&
          (name === undefined || a.name.toLowerCase() === name) &&
          (brandId === undefined || a.brand.id === brandId))
        .sort((a, b) => (key(b) - key(a)) || (b.attackId - a.attackId))
      if (order === 'ascending') all.reverse()
      return { ...pageOf(all, page, size, a => state.attackToWire(a)), warning: 'Only confirmed attacks are listed' }
    })

    // ---- accept a confirmed attack (BforeAI API docs, POST /v2/takedown/accept) ----
    api.post('/v2/takedown/accept', async (req, reply) => {
      const v = new Validation()
      const b = bodyObject(v, req.body)
      if (b === null) return v.send(reply)
      const attackId = requiredInt(v, b, 'attack_id')
      const brandId = requiredInt(v, b, 'brand_id')
      if (v.failed || attackId === undefined || brandId === undefined) return v.send(reply)
      const attack = state.attacks.find(a => a.attackId === attackId)
      if (attack === undefined) return await reply.code(404).send(detail('Attack not found'))
      const brand = BRANDS.find(x => x.id === brandId)
      if (brand === undefined) return await reply.code(400).send(detail(`Brand ${brandId} not found for this company`))
      // [?] the real answer for an attack that already has a takedown is undocumented
      if (attack.takedownId !== null) return await reply.code(400).send(detail('A takedown already exists for this attack'))
      const rec = state.add({
        attackUrl: `https://${attack.name}`,
        valueType: 'domain',
        brand,
        description: 'Takedown of a confirmed attack',
        takedownType: 'Infrastructure',
        platform: null,
        threatType: null,
        createdMs: state.clock.now(),
        userId: 'api-user-0001',
        attackId: attack.attackId,
        fixed: null,
        omitStatusName: false,
        cancelled: null
      })
      attack.takedownId = rec.id
      return state.toWire(rec)
    })

    // ---- reference data (BforeAI API docs, reference-data endpoints) ----
    api.get('/v2/takedown/statuses', async () => STATUSES)
    api.get('/v2/takedown/takedown_types/', async () => TAKEDOWN_TYPES)
    // FastAPI redirect_slashes: the slash-less path answers 307 to the documented one
    api.get('/v2/takedown/takedown_types', async (_req, reply) =>
      reply.code(307).header('location', `${BFOREAI_BASE_PATH}/v2/takedown/takedown_types/`).send())
    api.get('/v2/takedown/social_media/platforms', async () => ({ items: PLATFORMS }))
    api.get('/v2/takedown/social_media/threat_types', async () => ({ items: THREAT_TYPES }))
    api.get('/v2/takedown/cancellation_reasons', async () => CANCELLATION_REASONS)

    // ---- one takedown ----
    api.get<{ Params: { takedown_id: string } }>('/v2/takedown/:takedown_id', async (req, reply) => {
      const rec = state.get(req.params.takedown_id)
      if (rec === undefined) return await reply.code(404).send(detail('Takedown not found'))
      return state.toWire(rec)
    })

    // ---- infrastructure request (BforeAI API docs, POST /v2/takedown/request) ----
    api.post('/v2/takedown/request', async (req, reply) => {
      const v = new Validation()
      const b = bodyObject(v, req.body)
      if (b === null) return v.send(reply)
      const url = requiredUrl(v, b, 'url')
      const brandId = requiredInt(v, b, 'brand_id')
      const comment = requiredStr(v, b, 'comment')
      if (v.failed || url === undefined || brandId === undefined || comment === undefined) return v.send(reply)
      const brand = BRANDS.find(x => x.id === brandId)
      // [?] the real answer for a brand outside the company is undocumented
      if (brand === undefined) return await reply.code(400).send(detail(`Brand ${brandId} not found for this company`))
      // BforeAI API docs, POST /v2/takedown/request: an already-detected target answers 202 with a message, not a Takedown
      if (state.detected.has(url) || state.records.some(r => r.attackUrl === url)) {
        return await reply.code(202).send({ message: ALREADY_DETECTED_MESSAGE })
      }
      const u = new URL(url)
      const bare = (u.pathname === '' || u.pathname === '/') && u.search === ''
      const rec = create(state, {
        attackUrl: url, valueType: bare ? 'domain' : 'url', brand, description: comment, takedownType: 'Infrastructure', platform: null, threatType: null
      })
      return state.toWire(rec)
    })

    // ---- social media (BforeAI API docs, POST /v2/takedown/social-media: new takedowns start as "pending") ----
    api.post('/v2/takedown/social-media', async (req, reply) => {
      const v = new Validation()
      const b = bodyObject(v, req.body)
      if (b === null) return v.send(reply)
      const threatType = b.threat_type === undefined
        ? (v.add(['body', 'threat_type'], 'field required', 'value_error.missing'), undefined)
        : enumValue(v, ['body', 'threat_type'], b.threat_type, THREAT_TYPES)
      const platform = b.platform === undefined
        ? (v.add(['body', 'platform'], 'field required', 'value_error.missing'), undefined)
        : enumValue(v, ['body', 'platform'], b.platform, PLATFORMS)
      const url = requiredUrl(v, b, 'malicious_url')
      const brandId = requiredInt(v, b, 'brand_id')
      const comment = requiredStr(v, b, 'comment')
      if (v.failed) return v.send(reply)
      if (threatType === undefined || platform === undefined || url === undefined || brandId === undefined || comment === undefined) {
        return v.send(reply)
      }
      const brand = BRANDS.find(x => x.id === brandId)
      if (brand === undefined) return await reply.code(400).send(detail(`Brand ${brandId} not found for this company`))
      const rec = create(state, { attackUrl: url, valueType: 'social', brand, description: comment, takedownType: 'Social Media', platform, threatType })
      return state.toWire(rec)
    })

    // ---- cancel (BforeAI API docs, POST /v2/takedown/{takedown_id}/cancel) ----
    api.post<{ Params: { takedown_id: string } }>('/v2/takedown/:takedown_id/cancel', async (req, reply) => {
      const v = new Validation()
      const b = bodyObject(v, req.body)
      if (b === null) return v.send(reply)
      const reasonId = requiredInt(v, b, 'cancel_reason_id')
      const description = b.description
      if (description !== undefined && description !== null && typeof description !== 'string') v.add(['body', 'description'], 'str type expected', 'type_error.str')
      if (v.failed || reasonId === undefined) return v.send(reply)
      const rec = state.get(req.params.takedown_id)
      if (rec === undefined) return await reply.code(404).send(detail('Takedown not found'))
      const reason = CANCELLATION_REASONS.find(r => r.id === reasonId && r.is_active === true)
      if (reason === undefined) return await reply.code(400).send(detail('Invalid cancellation reason'))
      // [?] the real refusal is undocumented; final statuses refuse with 400 here
      if (FINAL_STATUS_IDS.has(state.statusOf(rec).status.id)) {
        return await reply.code(400).send(detail('Takedown cannot be cancelled in its current status'))
      }
      rec.cancelled = { atMs: opts.clock.now(), reason: reason.reason }
      return {
        message: 'Takedown cancellation requested successfully',
        takedown_id: rec.id,
        new_status: 'Cancelled',
        description: typeof description === 'string' ? description : null
      }
    })
  }, { prefix: BFOREAI_BASE_PATH })

  // the analysts' side: approval requests, monitoring, rejection, failure and closing are BforeAI's decisions, which
  // no client call asks for (BforeAI API docs, GET /v2/takedown/statuses lists them); the plan replaces the lifecycle
  app.post<{ Params: { takedown_id: string } }>('/__sim/takedowns/:takedown_id/plan', async (req, reply) => {
    const rec = state.get(req.params.takedown_id)
    if (rec === undefined) return await reply.code(404).send(detail('Takedown not found'))
    const plan = parsePlan(req.body, STATUSES.map(s => s.name))
    if (typeof plan === 'string') return await reply.code(400).send(detail(plan))
    state.replan(rec, plan)
    return await reply.code(204).send()
  })

  // the small internet: a takedown's page is down while its status is one the gateway maps to taken_down (Taken Down);
  // social-media takedowns have no page of their own
  const entries = bforeaiStatusTable.kind === 'lookup' ? bforeaiStatusTable.entries : {}
  const targets = (): SimTarget[] => state.records.filter(r => r.platform === null).map(r => {
    const { status, atMs } = state.statusOf(r)
    const unified = entries[normaliseStatusName(status.name)]
    return { value: r.attackUrl, createdAt: r.createdMs, downAt: unified === 'taken_down' || unified === 'mitigated' ? atMs ?? r.createdMs : null }
  })
  return { app, faults, stats, basePath: BFOREAI_BASE_PATH, targets }
}

type NewTakedown = Pick<TakedownRecord, 'attackUrl' | 'valueType' | 'brand' | 'description' | 'takedownType' | 'platform' | 'threatType'>

function create (state: BforeaiState, r: NewTakedown): TakedownRecord {
  return state.add({
    ...r,
    createdMs: state.clock.now(),
    userId: 'api-user-0001',
    attackId: null,
    fixed: null,
    omitStatusName: false,
    cancelled: null
  })
}

/** fastapi-pagination `Page` (BforeAI Takedowns Management API docs, paged responses): `{items, total, page, size, pages}`. */
function pageOf<T, W> (all: T[], page: number, size: number, toWire: (item: T) => W): { items: W[], total: number, page: number, size: number, pages: number } {
  const start = (page - 1) * size
  return { items: all.slice(start, start + size).map(toWire), total: all.length, page, size, pages: Math.ceil(all.length / size) }
}

/** The factory simulators/index.ts finds by the provider id. */
export const simulator: SimulatorFactory = createBforeaiSimulator
