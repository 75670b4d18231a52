/**
 * The BforeAI takedown endpoints the gateway calls (BforeAI Takedowns Management API docs), through VendorHttp.
 * Auth: `X-Authorization: <raw API key>` (BforeAI docs, 'Access and authentication', [I]: no "Bearer" prefix).
 * Every answer is shape-checked; a 2xx body of the wrong shape is a `protocol` error.
 */
import { parseOrFail } from '../validate.js'
import { extend } from '../../domain/objects.js'
import type { Dispatcher } from 'undici'
import type { Clock } from '../../clock.js'
import type { ConnectorContext, ConnectorDeps } from '../connector.js'
import { VendorHttp, vendorHttp, type ErrorBodyParser, type QueryValue } from '../http.js'
import {
  AlreadyDetectedSchema, AttackPageSchema, AttackSchema, CancellationReasonListSchema, CancelResultSchema, ItemsListSchema, StatusListSchema,
  StringListSchema, TakedownPageSchema, TakedownSchema, isShape,
  type AcceptBody, type AttackPage, type CancelBody, type CancellationReason, type CancelResult, type Status, type Takedown, type TakedownPage
} from './wire.js'
import type { TSchema, Static } from 'typebox'
import { vendorPath } from '../vendor-path.js'

export const BFOREAI_MAX_PAGE_SIZE = 100

export const PATHS = {
  list: '/v2/takedown/list',
  takedown: (id: string) => vendorPath`/v2/takedown/${id}`,
  attacks: '/v2/takedown/attacks',
  accept: '/v2/takedown/accept',
  cancel: (id: string) => vendorPath`/v2/takedown/${id}/cancel`,
  request: '/v2/takedown/request',
  social: '/v2/takedown/social-media',
  statuses: '/v2/takedown/statuses',
  // BforeAI API docs, reference-data endpoints: the trailing slash is part of the documented path (FastAPI answers 307 without it)
  takedownTypes: '/v2/takedown/takedown_types/',
  platforms: '/v2/takedown/social_media/platforms',
  threatTypes: '/v2/takedown/social_media/threat_types',
  cancellationReasons: '/v2/takedown/cancellation_reasons'
} as const

export interface ListParams {
  page: number
  size: number
  since?: string
  until?: string
  attackUrl?: string
  brandId?: number
}

/**
 * FastAPI error bodies (BforeAI Takedowns Management API docs, error responses): `{detail: string}`, `{detail: [{loc, msg, type}]}` (422) or `{detail: {...}}`.
 * Returns one line; never echoes the request.
 */
export const parseBforeaiError: ErrorBodyParser = (_status, body) => {
  if (typeof body === 'string') return body.trim() === '' ? null : body.trim().slice(0, 300)
  if (body === null || typeof body !== 'object') return null
  const b = body as { detail?: unknown, message?: unknown }
  const detail = b.detail
  if (typeof detail === 'string' && detail !== '') return detail
  if (Array.isArray(detail)) {
    const parts = detail.map(item => {
      if (item === null || typeof item !== 'object') return String(item)
      const { loc, msg } = item as { loc?: unknown, msg?: unknown }
      const where = Array.isArray(loc) ? loc.map(String).join('.') : ''
      const what = typeof msg === 'string' ? msg : 'invalid'
      return where === '' ? what : `${where}: ${what}`
    })
    if (parts.length > 0) return parts.join('; ')
  }
  if (detail !== null && typeof detail === 'object') {
    const inner = (detail as { message?: unknown, msg?: unknown }).message ?? (detail as { msg?: unknown }).msg
    if (typeof inner === 'string' && inner !== '') return inner
    return JSON.stringify(detail).slice(0, 300)
  }
  if (typeof b.message === 'string' && b.message !== '') return b.message
  return null
}

export type RequestOutcome =
  | { kind: 'created', takedown: Takedown }
  | { kind: 'exists', message: string }

export class BforeaiClient {
  readonly http: VendorHttp

  constructor (opts: { baseUrl: string, credential: string, timeoutMs: number, dispatcher: Dispatcher, clock: Clock } & Pick<ConnectorDeps, 'budget' | 'observer'>) {
    this.http = vendorHttp('bforeai', opts, opts, { headers: { 'x-authorization': opts.credential, accept: 'application/json' }, parseError: parseBforeaiError })
  }

  async listTakedowns (params: ListParams, ctx: ConnectorContext): Promise<TakedownPage> {
    const query: Record<string, QueryValue> = {
      page: params.page,
      size: params.size,
      sort: 'created',
      order: 'descending',
      since: params.since,
      until: params.until,
      attack_url: params.attackUrl,
      brand_id: params.brandId
    }
    const res = await this.http.call({ method: 'GET', path: PATHS.list, query }, ctx)
    const body = expect(TakedownPageSchema, res.body, 'a takedown page')
    return extend(body, { items: body.items.map(item => expect(TakedownSchema, item, 'a takedown')) })
  }

  /** One page of confirmed attacks (BforeAI API docs, GET /v2/takedown/attacks): `from`/`until` are required; the vendor's default sort is kept. */
  async listAttacks (params: { from: string, until: string, page: number, size: number }, ctx: ConnectorContext): Promise<AttackPage> {
    const res = await this.http.call({
      method: 'GET',
      path: PATHS.attacks,
      query: { from: params.from, until: params.until, page: params.page, size: params.size }
    }, ctx)
    const body = expect(AttackPageSchema, res.body, 'an attack page')
    return extend(body, { items: body.items.map(item => expect(AttackSchema, item, 'a confirmed attack')) })
  }

  /** Accept a confirmed attack (BforeAI API docs, POST /v2/takedown/accept); sent once, never retried. */
  async accept (body: AcceptBody, ctx: ConnectorContext): Promise<Takedown> {
    const res = await this.http.call({ method: 'POST', path: PATHS.accept, json: body, idempotent: false }, ctx)
    return expect(TakedownSchema, res.body, 'a takedown')
  }

  async getTakedown (id: string, ctx: ConnectorContext): Promise<Takedown> {
    const res = await this.http.call({ method: 'GET', path: PATHS.takedown(id) }, ctx)
    return expect(TakedownSchema, res.body, 'a takedown')
  }

  async statuses (ctx: ConnectorContext): Promise<Status[]> {
    const res = await this.http.call({ method: 'GET', path: PATHS.statuses }, ctx)
    return expect(StatusListSchema, res.body, 'a status list')
  }

  async takedownTypes (ctx: ConnectorContext): Promise<string[]> {
    const res = await this.http.call({ method: 'GET', path: PATHS.takedownTypes }, ctx)
    return expect(StringListSchema, res.body, 'a list of takedown types')
  }

  async platforms (ctx: ConnectorContext): Promise<string[]> {
    const res = await this.http.call({ method: 'GET', path: PATHS.platforms }, ctx)
    return expect(ItemsListSchema, res.body, 'a platform list').items
  }

  async threatTypes (ctx: ConnectorContext): Promise<string[]> {
    const res = await this.http.call({ method: 'GET', path: PATHS.threatTypes }, ctx)
    return expect(ItemsListSchema, res.body, 'a threat-type list').items
  }

  async cancellationReasons (ctx: ConnectorContext): Promise<CancellationReason[]> {
    const res = await this.http.call({ method: 'GET', path: PATHS.cancellationReasons }, ctx)
    return expect(CancellationReasonListSchema, res.body, 'a cancellation-reason list')
  }

  /**
   * One create, sent once (never retried after it may have reached the vendor). 200 → Takedown; 202 → "already
   * detected" with a message (BforeAI API docs, POST /v2/takedown/request: a 202 is never parsed as a Takedown).
   */
  async create (path: string, body: Record<string, unknown>, ctx: ConnectorContext): Promise<RequestOutcome> {
    const res = await this.http.call({ method: 'POST', path, json: body, idempotent: false }, ctx)
    if (res.status === 202) {
      const message = isShape(AlreadyDetectedSchema, res.body) && typeof res.body.message === 'string' && res.body.message !== ''
        ? res.body.message
        : (parseBforeaiError(202, res.body) ?? 'BforeAI already detected this target')
      return { kind: 'exists', message }
    }
    return { kind: 'created', takedown: expect(TakedownSchema, res.body, 'a takedown') }
  }

  async cancel (id: string, body: CancelBody, ctx: ConnectorContext): Promise<CancelResult> {
    const res = await this.http.call({ method: 'POST', path: PATHS.cancel(id), json: body, idempotent: false }, ctx)
    return expect(CancelResultSchema, res.body ?? {}, 'a cancel result')
  }
}

function expect<T extends TSchema> (schema: T, value: unknown, what: string): Static<T> {
  return parseOrFail('bforeai', schema, value, what)
}
