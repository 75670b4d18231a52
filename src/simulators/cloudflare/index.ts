/**
 * A stateful fake of the Cloudflare Abuse Reports API v4 (Cloudflare API v4 docs 'Make API calls', Cloudflare API v4 schema, Abuse Reports), under
 * `/client/v4/accounts/{account_id}/abuse-reports`. It speaks the vendor's envelopes, its bare submit shapes, its
 * 401 body, page/per_page paging with result_info, and the Ratelimit headers of Cloudflare's 'Rate limits' docs page.
 *
 * Choices where the vendor is silent (each marked [?] in the connector README):
 * - per_page: default 20, maximum 100; outside 1..100 (or page < 1) → 400 envelope, code 1001.
 * - an account id other than ours → 403 envelope, code 9109 "Unauthorized to access requested resource".
 * - an unknown report → 404 envelope, code 1002 "Abuse report not found"; an unknown path → 404, code 7003.
 * - over the rate budget → 429 envelope, code 971, with retry-after, for 5 minutes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ACT_TO_TYPE } from '../../connectors/cloudflare/wire.js'
import type { FailureEnvelope, Mitigation, ResultInfo, SubmitError } from '../../connectors/cloudflare/wire.js'
import { paced } from '../../clock.js'
import { createSimulatorApp, type Simulator, type SimulatorFactory, type SimulatorOptions, type SimTarget } from '../harness.js'
import { BrandProtectionState, registerBrandProtection, seedBrandProtection } from './brand-protection.js'
import { seedReports } from './seed.js'
import { CloudflareState, type SimMitigation, type SimReport } from './state.js'
import { isReportAct, parseUrls, validateSubmit } from './submit.js'

export const CLOUDFLARE_BASE_PATH = '/client/v4'
/** the submit route template, as the request stats name it */
export const SUBMIT_ROUTE = `${CLOUDFLARE_BASE_PATH}/accounts/:accountId/abuse-reports/:reportParam`

export interface CloudflareSimulatorOptions extends SimulatorOptions {
  /** Cloudflare API docs, 'Rate limits': 1200 requests per 5 minutes per token; over it, every call is refused for 5 minutes */
  rateLimit?: { limit: number, windowMs: number }
  /** Cloudflare API schema, get_GetDomainQueries: `GET …/domain/queries` answers the envelope (current) or the legacy bare array */
  domainQueriesShape?: 'envelope' | 'bare'
}

const DEFAULT_ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353'
const MAX_PER_PAGE = 100
const DEFAULT_PER_PAGE = 20
const BLOCK_MS = 5 * 60_000

export function failure (code: number, message: string): FailureEnvelope {
  return { success: false, errors: [{ code, message }], messages: [], result: null }
}

function ok (result: unknown, resultInfo?: ResultInfo): Record<string, unknown> {
  return { success: true, errors: [], messages: [], result, ...(resultInfo === undefined ? {} : { result_info: resultInfo }) }
}

function submitError (msg: string, code: string, act: string): SubmitError {
  return { result: 'error', msg, err_code: code, error_code: code, request: { act } }
}

type Query = Record<string, string | string[] | undefined>

function first (q: Query, key: string): string | undefined {
  const v = q[key]
  return Array.isArray(v) ? v[0] : v
}

function all (q: Query, key: string): string[] {
  const v = q[key]
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

/** page/per_page → numbers, or the error text */
function paging (q: Query): { page: number, perPage: number } | string {
  const pageRaw = first(q, 'page')
  const perRaw = first(q, 'per_page')
  const page = pageRaw === undefined ? 1 : Number(pageRaw)
  const perPage = perRaw === undefined ? DEFAULT_PER_PAGE : Number(perRaw)
  if (!Number.isInteger(page) || page < 1) return 'page must be an integer of at least 1'
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) return `per_page must be an integer between 1 and ${MAX_PER_PAGE}`
  return { page, perPage }
}

function slice<T> (items: T[], page: number, perPage: number): { items: T[], info: ResultInfo } {
  const chunk = items.slice((page - 1) * perPage, page * perPage)
  return {
    items: chunk,
    info: { page, per_page: perPage, count: chunk.length, total_count: items.length, total_pages: Math.ceil(items.length / perPage) }
  }
}

function parseDate (value: string | undefined): number | null | 'bad' {
  if (value === undefined || value === '') return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? 'bad' : ms
}

/** `<field>,<asc|desc>` → the field and direction; null when the field is not one of `fields` */
function sortSpec (sort: string, fields: readonly string[]): { field: string, dir: 1 | -1 } | null {
  const m = /^([a-z_]+),(asc|desc)$/.exec(sort)
  if (m === null || !fields.includes(m[1] ?? '')) return null
  return { field: m[1] as string, dir: m[2] === 'asc' ? 1 : -1 }
}

/** Sorts by one string key per item (computed once, not per comparison); ties broken by id so pages never overlap. */
function sortedBy<T> (items: T[], keyOf: (x: T) => string, idOf: (x: T) => string, dir: 1 | -1): T[] {
  return items.map(item => ({ item, k: keyOf(item), id: idOf(item) }))
    .sort((a, b) => a.k !== b.k ? (a.k < b.k ? -dir : dir) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    .map(x => x.item)
}

/** the 5-minute window of Cloudflare's documented API limit (1200 requests per 5 minutes per token) */
const RATE_WINDOW_MS = 5 * 60_000

/** The factory simulators/index.ts finds by the provider id: the sandbox account id, and `--cloudflare-rate-limit N|off` for another budget per 5 minutes than the vendor's 1200, or none (load tests). */
export const simulator: SimulatorFactory = ({ options, flags, ...start }) => {
  const raw = flags?.['rate-limit']
  const limit = raw === undefined ? undefined : raw === 'off' ? Number.MAX_SAFE_INTEGER : Number(raw)
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new Error(`--cloudflare-rate-limit must be a positive integer or off (got "${String(raw)}")`)
  return createCloudflareSimulator({ ...start, ...(options.accountId === undefined ? {} : { accountId: options.accountId }), ...(limit === undefined ? {} : { rateLimit: { limit, windowMs: RATE_WINDOW_MS } }) })
}

export function createCloudflareSimulator (opts: CloudflareSimulatorOptions): Simulator {
  // injected faults answer with the vendor's own envelope for that status
  const { app, faults, stats } = createSimulatorApp((status, message) => {
    if (status === 401) return failure(10000, 'Authentication error')
    if (status === 403) return failure(9109, 'Unauthorized to access requested resource')
    if (status === 429) return failure(971, 'Please wait and consider throttling your request speed')
    return failure(status >= 500 ? 10001 : 1001, message)
  })
  const clock = opts.clock
  const account = opts.accountId ?? DEFAULT_ACCOUNT
  const budget = opts.rateLimit ?? { limit: 1200, windowMs: RATE_WINDOW_MS }
  const state = new CloudflareState(clock)
  for (const r of seedReports(opts.seed ?? 1, opts.count ?? 36, clock.now(), opts.spanDays)) {
    const { situation: _s, ...report } = r
    state.add(report)
  }
  const brand = new BrandProtectionState(clock)
  seedBrandProtection(brand)
  const windows = new Map<string, { start: number, used: number, blockedUntil: number }>()

  /** Cloudflare API docs, 'Rate limits': Ratelimit on every response; 429 + retry-after for 5 minutes once the budget is spent */
  function rateLimit (token: string, reply: FastifyReply): boolean {
    const now = clock.now()
    let w = windows.get(token)
    if (w === undefined || now - w.start >= budget.windowMs) {
      w = { start: now, used: 0, blockedUntil: w?.blockedUntil ?? 0 }
      windows.set(token, w)
    }
    reply.header('ratelimit-policy', `"default";q=${budget.limit};w=${Math.round(budget.windowMs / 1000)}`)
    if (now < w.blockedUntil) {
      const wait = Math.ceil((w.blockedUntil - now) / 1000)
      reply.header('ratelimit', `"default";r=0;t=${wait}`)
      reply.header('retry-after', String(wait))
      return false
    }
    w.used++
    const reset = Math.max(0, Math.ceil((w.start + budget.windowMs - now) / 1000))
    if (w.used > budget.limit) {
      w.blockedUntil = now + BLOCK_MS
      const wait = Math.ceil(BLOCK_MS / 1000)
      reply.header('ratelimit', `"default";r=0;t=${wait}`)
      reply.header('retry-after', String(wait))
      return false
    }
    reply.header('ratelimit', `"default";r=${budget.limit - w.used};t=${reset}`)
    return true
  }

  function report (req: FastifyRequest): SimReport | null {
    return state.reports.get((req.params as { reportParam: string }).reportParam) ?? null
  }
  const notFound = failure(1002, 'Abuse report not found')

  app.register(async scope => {
    scope.addHook('onRequest', async (req, reply) => {
      const header = req.headers.authorization
      const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : ''
      if (!rateLimit(token, reply)) {
        return reply.code(429).send(failure(971, 'Please wait and consider throttling your request speed'))
      }
      // Cloudflare API v4 docs, 'Make API calls': missing or wrong credentials → 401 envelope, code 10000
      if (token !== opts.apiKey) return reply.code(401).send(failure(10000, 'Authentication error'))
      const params = req.params as { accountId?: string } | undefined
      if (params?.accountId !== undefined && params.accountId !== account) {
        return reply.code(403).send(failure(9109, 'Unauthorized to access requested resource'))
      }
    })
    scope.setNotFoundHandler(async (_req, reply) => reply.code(404).send(failure(7003, 'No route for the URI')))
    scope.setErrorHandler(async (err: { statusCode?: number, message: string }, req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
      if (req.method === 'POST' && req.routeOptions.url === SUBMIT_ROUTE) {
        const act = (req.params as { reportParam?: string }).reportParam ?? ''
        return reply.code(status === 415 ? 400 : status).send(submitError(status >= 500 ? 'An unexpected error occurred' : err.message, 'bad_request', act))
      }
      return reply.code(status).send(failure(status >= 500 ? 10001 : 1001, status >= 500 ? 'Internal server error' : err.message))
    })

    // Cloudflare API schema, ListAbuseReports: envelope, result {reports}, result_info with total_pages
    scope.get('/accounts/:accountId/abuse-reports', async (req, reply) => {
      const q = req.query as Query
      const p = paging(q)
      if (typeof p === 'string') return reply.code(400).send(failure(1001, p))
      const order = sortSpec(first(q, 'sort') ?? 'cdate,desc', ['id', 'cdate', 'domain', 'type', 'status'])
      if (order === null) return reply.code(400).send(failure(1001, 'sort must be <id|cdate|domain|type|status>,<asc|desc>'))
      const after = parseDate(first(q, 'created_after'))
      const before = parseDate(first(q, 'created_before'))
      if (after === 'bad' || before === 'bad') return reply.code(400).send(failure(1001, 'created_after and created_before must be RFC 3339 timestamps'))
      const status = first(q, 'status')
      const domain = first(q, 'domain')?.toLowerCase()
      const type = first(q, 'type')
      const mitigationStatus = first(q, 'mitigation_status')
      const now = clock.now()
      // [?] bound inclusivity is undocumented: the simulator treats both bounds as inclusive
      const matches = [...state.reports.values()].filter(r =>
        r.cdate <= now &&
        (after === null || r.cdate >= after) &&
        (before === null || r.cdate <= before) &&
        (status === undefined || state.status(r, now) === status) &&
        (domain === undefined || r.domain.toLowerCase() === domain) &&
        (type === undefined || r.type === type) &&
        (mitigationStatus === undefined || state.visibleMitigations(r, now).some(m => state.mitigationStatus(m, now) === mitigationStatus)))
      // sort on the raw reports and build the wire form of the requested page only (cdate keys are zero-padded epoch ms,
      // which order like the ISO strings the vendor sorts)
      const keyOf = (r: SimReport): string => order.field === 'cdate'
        ? String(r.cdate).padStart(16, '0')
        : order.field === 'status' ? state.status(r, now) : String(r[order.field as 'id' | 'domain' | 'type'])
      const page = slice(sortedBy(matches, keyOf, r => r.id, order.dir), p.page, p.perPage)
      return ok({ reports: page.items.map(r => state.toWire(r, now)) }, page.info)
    })

    // Cloudflare API schema, GetAbuseReport: envelope, result = AbuseReport
    scope.get('/accounts/:accountId/abuse-reports/:reportParam', async (req, reply) => {
      const r = report(req)
      if (r === null) return reply.code(404).send(notFound)
      return ok(state.toWire(r))
    })

    // Cloudflare API schema, ListMitigations: envelope, result {mitigations}, result_info; `type` is repeatable
    scope.get('/accounts/:accountId/abuse-reports/:reportParam/mitigations', async (req, reply) => {
      const r = report(req)
      if (r === null) return reply.code(404).send(notFound)
      const q = req.query as Query
      const p = paging(q)
      if (typeof p === 'string') return reply.code(400).send(failure(1001, p))
      const order = sortSpec(first(q, 'sort') ?? 'effective_date,asc', ['type', 'effective_date', 'status', 'entity_type'])
      if (order === null) return reply.code(400).send(failure(1001, 'sort must be <type|effective_date|status|entity_type>,<asc|desc>'))
      const after = parseDate(first(q, 'effective_after'))
      const before = parseDate(first(q, 'effective_before'))
      if (after === 'bad' || before === 'bad') return reply.code(400).send(failure(1001, 'effective_after and effective_before must be RFC 3339 timestamps'))
      const types = all(q, 'type')
      const status = first(q, 'status')
      const entityType = first(q, 'entity_type')
      const now = clock.now()
      const list = state.visibleMitigations(r, now)
        .filter(m => (after === null || m.effectiveAt >= after) && (before === null || m.effectiveAt <= before))
        .map(m => state.mitigationToWire(m, now))
        .filter(m => (types.length === 0 || types.includes(m.type)) &&
          (status === undefined || m.status === status) &&
          (entityType === undefined || m.entity_type === entityType))
      const page = slice(sortedBy(list, m => String(m[order.field as keyof Mitigation] ?? ''), m => m.id, order.dir), p.page, p.perPage)
      return ok({ mitigations: page.items }, page.info)
    })

    // Cloudflare API schema, RequestReview: `appeals` OR `type` (+ `data` for counter_notice); answers the envelope with an ARRAY result
    scope.post('/accounts/:accountId/abuse-reports/:reportParam/mitigations/appeal', async (req, reply) => {
      const r = report(req)
      if (r === null) return reply.code(404).send(notFound)
      const body = (req.body ?? {}) as Record<string, unknown>
      const now = clock.now()
      const visible = state.visibleMitigations(r, now)
      const hasAppeals = body.appeals !== undefined
      const hasType = body.type !== undefined
      if (hasAppeals === hasType) return reply.code(400).send(failure(1001, 'Provide either appeals or type'))
      let affected: SimMitigation[] = []
      if (hasAppeals) {
        const appeals = body.appeals
        if (!Array.isArray(appeals) || appeals.length === 0) return reply.code(400).send(failure(1001, 'appeals must be a non-empty array'))
        for (const a of appeals as Array<Record<string, unknown>>) {
          if (a === null || typeof a !== 'object' || typeof a.id !== 'string' || !['removed', 'misclassified'].includes(a.reason as string)) {
            return reply.code(400).send(failure(1001, 'each appeal needs an id and a reason of removed or misclassified'))
          }
          const m = visible.find(x => x.id === a.id)
          if (m === undefined) return reply.code(400).send(failure(1003, `Mitigation ${a.id} not found on this report`))
          affected.push(m)
        }
      } else {
        if (body.type !== 'counter_notice' && body.type !== 'content_removed') {
          return reply.code(400).send(failure(1001, 'type must be counter_notice or content_removed'))
        }
        if (body.type === 'counter_notice') {
          const data = body.data as Record<string, unknown> | undefined
          const required = ['full_name', 'street_address', 'city', 'state', 'country', 'zip_code', 'phone_number', 'email', 'urls',
            'perjury_attestation', 'jurisdiction_consent', 'signature']
          if (data === undefined || data === null || typeof data !== 'object' || required.some(k => data[k] === undefined)) {
            return reply.code(400).send(failure(1001, 'counter_notice needs data with ' + required.join(', ')))
          }
        }
        affected = visible.filter(m => state.mitigationStatus(m, now) === 'active')
        if (affected.length === 0) return reply.code(400).send(failure(1004, 'No mitigations eligible for review'))
      }
      for (const m of affected) m.appealedAt = now
      r.appeals.push({ at: now, body })
      const result = affected.map(m => state.mitigationToWire(m, now))
      return ok(result, { page: 1, per_page: result.length, count: result.length, total_count: result.length, total_pages: 1 })
    })

    // Cloudflare API schema, SubmitAbuseReport: success is a BARE 200 {abuse_rand, request, result}; errors the bare {result:"error", msg, ...}
    scope.post('/accounts/:accountId/abuse-reports/:reportParam', async (req, reply) => {
      const act = (req.params as { reportParam: string }).reportParam
      if (!isReportAct(act)) return reply.code(400).send(submitError('Report has invalid type', 'invalid_type', act))
      const body = req.body
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return reply.code(400).send(submitError('Missing a required field', 'missing_field', act))
      }
      const b = body as Record<string, unknown>
      const invalid = validateSubmit(act, b)
      if (invalid !== null) return reply.code(400).send(submitError(invalid.msg, invalid.code, act))
      const urls = parseUrls(String(b.urls))
      if ('msg' in urls) return reply.code(400).send(submitError(urls.msg, urls.code, act))
      if (state.recentlySubmitted(urls.urls)) {
        return reply.code(400).send(submitError('You have already submitted this URL in the last 7 days', 'duplicate_url', act))
      }
      const str = (v: unknown): string | null => typeof v === 'string' && v !== '' ? v : null
      const created = state.create({
        domain: urls.host,
        type: ACT_TO_TYPE[act],
        urls: urls.urls,
        justification: str(b.justification),
        originalWork: str(b.original_work),
        submitter: { name: String(b.name), email: String(b.email), company: str(b.company), telephone: str(b.tele) }
      })
      return { abuse_rand: created.id, request: { act }, result: 'success' }
    })

    registerBrandProtection(scope, brand, { ...(opts.domainQueriesShape === undefined ? {} : { domainQueriesShape: opts.domainQueriesShape }) })
  }, { prefix: CLOUDFLARE_BASE_PATH })

  // Cloudflare's answer to an appeal (Cloudflare API schema, RequestReview): the reviewed mitigations are removed (appeal
  // granted) or active again (refused), `afterMs` from now; no client call decides it
  app.post<{ Params: { reportId: string } }>('/__sim/abuse-reports/:reportId/review', async (req, reply) => {
    const r = state.reports.get(req.params.reportId)
    if (r === undefined) return await reply.code(404).send(notFound)
    const body = (req.body ?? {}) as { outcome?: unknown, afterMs?: unknown }
    const afterMs = body.afterMs ?? 0
    if (!['removed', 'active'].includes(body.outcome as string) || typeof afterMs !== 'number' || !(afterMs >= 0)) {
      return await reply.code(400).send(failure(1001, 'outcome must be removed or active; afterMs a number of milliseconds, at least 0'))
    }
    const appealed = r.mitigations.filter(m => m.appealedAt !== null && m.review === undefined)
    if (appealed.length === 0) return await reply.code(400).send(failure(1004, 'No appealed mitigations to decide'))
    for (const m of appealed) m.review = { at: clock.now() + paced(clock, afterMs), status: body.outcome as string }
    return await reply.code(204).send()
  })

  // the abuse desk closes a report: accepted from now on, every mitigation lifted (unified closed); no client call asks for it
  app.post<{ Params: { reportId: string } }>('/__sim/abuse-reports/:reportId/close', async (req, reply) => {
    const r = state.reports.get(req.params.reportId)
    if (r === undefined) return await reply.code(404).send(notFound)
    const now = clock.now()
    if (r.acceptedAt === null || r.acceptedAt > now) r.acceptedAt = now
    for (const m of r.mitigations) m.review = { at: now, status: 'removed' }
    return await reply.code(204).send()
  })

  // the small internet: a reported page is down from the first of its active mitigations (an interstitial or a
  // suspension: the gateway's mitigated or taken_down) while the report is accepted
  const targets = (): SimTarget[] => [...state.reports.values()].map(r => {
    const now = clock.now()
    const active = state.status(r, now) === 'accepted' ? state.visibleMitigations(r, now).filter(m => state.mitigationStatus(m, now) === 'active') : []
    return { value: r.urls[0] ?? r.domain, createdAt: r.cdate, downAt: active.length === 0 ? null : Math.min(...active.map(m => Math.min(m.effectiveAt, now))) }
  })
  return { app, faults, stats, basePath: CLOUDFLARE_BASE_PATH, targets }
}
