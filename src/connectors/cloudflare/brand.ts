/**
 * Cloudflare Brand Protection (Cloudflare API reference, Brand Protection v1 and v2): the v2 saved domain and logo queries, their
 * matches as Detections, and the v1 URL scanner. Every body is parsed per endpoint (envelope or bare: the current
 * Cloudflare API schema and older SDK releases differ).
 */
import { withIdentity } from '../../domain/target-identity.js'
import { toRfc3339 } from '../../domain/time.js'
import { mapLimit } from '../map-limit.js'
import { byId, sortNewestFirst } from '../../domain/merge.js'
import type { TSchema, Static } from 'typebox'
import { parseOrFail } from '../validate.js'
import { GatewayError } from '../../domain/problems.js'
import { encodeDetectionId } from '../../domain/detection-id.js'
import { detectionSelfLink, type Detection, type DetectionKind } from '../../schemas/detection.js'
import {
  ConnectorError, type BrandMonitor, type BrandMonitorInput, type ConnectorContext, type DetectionPage, type DetectionQuery,
  type ScanInfo, type ScanSubmission
} from '../connector.js'
import type { VendorHttp } from '../http.js'
import {
  DomainMatchSchema, DomainQueriesEnvelopeSchema, DomainQuerySchema, LogoMatchSchema, LogoQueryListSchema, LogoQuerySchema,
  MatchListSchema, MutationResultSchema, SubmitResultSchema, UrlInfoSchema,
  type DomainMatch, type DomainQuery, type DomainQueryBody, type LogoMatch, type LogoQuery, type LogoQueryBody, type MutationResult
} from './brand-wire.js'
import { vendorPath } from '../vendor-path.js'

/** Cloudflare API schema, get_DomainMatchList and get_LogoMatchList give no maximum for `limit` [?]; 100 is what we ask for at most */
export const MAX_MATCH_LIMIT = 100
/** pages of logo matches read to find one match by id */
const FIND_LOGO_MAX_PAGES = 10
/** parallel match look-ups per listing page */
const CONCURRENCY = 4

function parse<S extends TSchema> (schema: S, body: unknown, what: string): Static<S> {
  return parseOrFail('cloudflare', schema, body, what)
}

function patternsOf (q: DomainQuery): string[] {
  return (q.parameters?.string_matches ?? []).map(m => m.pattern).filter(p => p !== '')
}

export function domainMonitor (q: DomainQuery): BrandMonitor {
  return {
    id: `domain:${String(q.query_id)}`,
    type: 'domain',
    tag: q.query_tag ?? '',
    patterns: patternsOf(q),
    scan: q.scan ?? null,
    similarityThreshold: null,
    createdAt: toRfc3339(q.created),
    updatedAt: toRfc3339(q.updated)
  }
}

export function logoMonitor (q: LogoQuery): BrandMonitor {
  return {
    id: `logo:${String(q.id)}`,
    type: 'logo',
    tag: q.tag ?? '',
    patterns: null,
    scan: null,
    similarityThreshold: q.similarity_threshold ?? null,
    createdAt: toRfc3339(q.uploaded_at),
    updatedAt: null
  }
}

function links (id: string, caseId: string | null): Detection['links'] {
  return { self: detectionSelfLink(id), takedown: `${detectionSelfLink(id)}/takedown`, case: caseId === null ? null : `/v1/cases/${caseId}` }
}

/** A domain match of one saved query; null when dismissed or without a readable first_seen. */
export function domainMatchDetection (q: DomainQuery, m: DomainMatch): Detection | null {
  const detectedAt = toRfc3339(m.first_seen)
  if (detectedAt === null || m.dismissed === true) return null
  const domain = m.domain.trim().toLowerCase().replace(/\.$/, '')
  const id = encodeDetectionId('cloudflare', 'domain-match', `${String(q.query_id)}:${domain}`)
  const patterns = patternsOf(q)
  return {
    id,
    provider: 'cloudflare',
    kind: 'domain-match',
    target: withIdentity({ type: 'domain', value: domain, domain }),
    source: m.source ?? null,
    score: null,
    similarity: null,
    detectedAt,
    matched: { queryId: String(q.query_id), queryTag: q.query_tag ?? null, asset: patterns.length === 0 ? null : patterns.join(', ') },
    caseId: null,
    links: links(id, null)
  }
}

/** A logo match; null without a domain (nothing to take down) or a readable matched_at. */
export function logoMatchDetection (q: LogoQuery, m: LogoMatch): Detection | null {
  const detectedAt = toRfc3339(m.matched_at)
  const domain = m.domain?.trim().toLowerCase().replace(/\.$/, '') ?? ''
  if (detectedAt === null || domain === '') return null
  const id = encodeDetectionId('cloudflare', 'logo-match', `${String(q.id)}:${String(m.id)}`)
  return {
    id,
    provider: 'cloudflare',
    kind: 'logo-match',
    target: withIdentity({ type: 'domain', value: domain, domain }),
    source: null,
    score: null,
    similarity: m.similarity_score ?? null,
    detectedAt,
    matched: { queryId: String(q.id), queryTag: q.tag ?? null, asset: q.tag ?? null },
    caseId: null,
    links: links(id, null)
  }
}

/** Per saved query: its next offset, -1 once every match was handed out. Keys: `d<query id>` / `l<query id>`. */
interface MatchToken { o: Record<string, number> }

function encodeToken (t: MatchToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url')
}

function decodeToken (token: string): MatchToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as MatchToken
    if (t !== null && typeof t === 'object' && t.o !== null && typeof t.o === 'object' &&
      Object.entries(t.o).every(([k, v]) => /^[dl]\d{1,15}$/.test(k) && Number.isSafeInteger(v) && v >= -1)) return t
  } catch {}
  throw new GatewayError('GW_ERR_BAD_CURSOR', 'the cloudflare position in the cursor is not a set of match offsets; start the listing again without a cursor')
}

interface Entry { det: Detection | null, t: number | null }

export class BrandProtectionClient {
  readonly #http: VendorHttp
  readonly #v1: string
  readonly #v2: string

  constructor (http: VendorHttp, accountId: string) {
    this.#http = http
    const account = vendorPath`/accounts/${accountId}`
    this.#v1 = `${account}/brand-protection`
    this.#v2 = `${account}/cloudforce-one/v2/brand-protection`
  }

  // ---- saved queries --------------------------------------------------------------------------------------------

  /** Cloudflare API schema, get_GetDomainQueries: the envelope (current) or a bare array (legacy); `result` is one object when `id` is given. */
  async domainQueries (ctx: ConnectorContext, id?: string): Promise<DomainQuery[]> {
    const res = await this.#http.call({ method: 'GET', path: `${this.#v2}/domain/queries`, query: { id } }, ctx)
    let items: unknown
    if (Array.isArray(res.body)) {
      items = res.body
    } else {
      const env = parse(DomainQueriesEnvelopeSchema, res.body, 'domain query list')
      if (!env.success) throw new ConnectorError('cloudflare', 'protocol', 'the domain query list answered success=false')
      items = env.result === null ? [] : Array.isArray(env.result) ? env.result : [env.result]
    }
    return (items as unknown[]).map(q => parse(DomainQuerySchema, q, 'domain query'))
  }

  /** Cloudflare API schema, get_GetLogoQueries: a bare array */
  async logoQueries (ctx: ConnectorContext, id?: string): Promise<LogoQuery[]> {
    const res = await this.#http.call({ method: 'GET', path: `${this.#v2}/logo/queries`, query: { id } }, ctx)
    const body = res.body !== null && typeof res.body === 'object' && !Array.isArray(res.body) && 'id' in res.body ? [res.body] : res.body
    return parse(LogoQueryListSchema, body, 'logo query list').map(q => parse(LogoQuerySchema, q, 'logo query'))
  }

  async createDomainQuery (body: DomainQueryBody, ctx: ConnectorContext): Promise<MutationResult> {
    const res = await this.#http.call({ method: 'POST', path: `${this.#v2}/domain/queries`, json: body, idempotent: false }, ctx)
    return this.#mutation(res.body, 'domain query create')
  }

  async createLogoQuery (body: LogoQueryBody, ctx: ConnectorContext): Promise<MutationResult> {
    const res = await this.#http.call({ method: 'POST', path: `${this.#v2}/logo/queries`, json: body, idempotent: false }, ctx)
    return this.#mutation(res.body, 'logo query create')
  }

  async deleteQuery (type: 'domain' | 'logo', id: string, ctx: ConnectorContext): Promise<void> {
    const res = await this.#http.call({ method: 'DELETE', path: this.#v2 + vendorPath`/${type}/queries/${id}`, idempotent: true }, ctx)
    this.#mutation(res.body ?? { success: true }, `${type} query delete`)
  }

  #mutation (body: unknown, what: string): MutationResult {
    const r = parse(MutationResultSchema, body, what)
    if (!r.success) throw new ConnectorError('cloudflare', 'rejected', `${what}: ${r.message ?? 'success=false'}`)
    return r
  }

  // ---- matches --------------------------------------------------------------------------------------------------

  /** Cloudflare API schema, get_DomainMatchList: bare `{matches, total}`; newest first by first_seen */
  async domainMatches (queryId: string, page: { offset: number, limit: number, domainSearch?: string }, ctx: ConnectorContext): Promise<{ matches: DomainMatch[], total: number | null }> {
    const res = await this.#http.call({
      method: 'GET',
      path: `${this.#v2}/domain/matches`,
      query: { query_id: queryId, offset: String(page.offset), limit: String(page.limit), orderBy: 'first_seen', order: 'desc', domain_search: page.domainSearch }
    }, ctx)
    const body = parse(MatchListSchema, res.body, 'domain match list')
    return { matches: body.matches.map(m => parse(DomainMatchSchema, m, 'domain match')), total: body.total ?? null }
  }

  /** Cloudflare API schema, get_LogoMatchList: bare `{matches, total}`; newest first by matchedAt */
  async logoMatches (queryId: string, page: { offset: number, limit: number }, ctx: ConnectorContext): Promise<{ matches: LogoMatch[], total: number | null }> {
    const res = await this.#http.call({
      method: 'GET',
      path: `${this.#v2}/logo/matches`,
      query: { query_id: queryId, offset: String(page.offset), limit: String(page.limit), orderBy: 'matchedAt', order: 'desc' }
    }, ctx)
    const body = parse(MatchListSchema, res.body, 'logo match list')
    return { matches: body.matches.map(m => parse(LogoMatchSchema, m, 'logo match')), total: body.total ?? null }
  }

  // ---- v1 URL scanner (Cloudflare API reference, Brand Protection v1: request shapes are [I]) ------------------------

  async submit (url: string, ctx: ConnectorContext): Promise<ScanSubmission> {
    const res = await this.#http.call({ method: 'POST', path: `${this.#v1}/submit`, json: { url }, idempotent: false }, ctx)
    // older SDKs unwrapped `result`; accept both
    const raw = res.body !== null && typeof res.body === 'object' && 'result' in res.body ? (res.body as { result: unknown }).result : res.body
    const body = parse(SubmitResultSchema, raw ?? {}, 'scan submit')
    const item = (i: { url?: string | null, url_id?: number | null }): { url: string, scanId: number | null } => ({ url: i.url ?? url, scanId: i.url_id ?? null })
    return {
      submitted: (body.submitted_urls ?? []).map(item),
      skipped: (body.skipped_urls ?? []).map(item),
      excluded: (body.excluded_urls ?? []).map(i => i.url ?? url)
    }
  }

  async urlInfo (query: { urls: string[], scanIds: number[] }, ctx: ConnectorContext): Promise<ScanInfo[]> {
    const res = await this.#http.call({
      method: 'GET',
      path: `${this.#v1}/url-info`,
      query: { url: query.urls, url_id: query.scanIds }
    }, ctx)
    const raw = Array.isArray(res.body) ? res.body : (res.body as { result?: unknown } | null)?.result
    if (!Array.isArray(raw)) throw new ConnectorError('cloudflare', 'protocol', 'unexpected url-info body: no result list')
    return raw.map(r => {
      const i = parse(UrlInfoSchema, r, 'url-info item')
      return {
        url: i.url ?? null,
        scanId: i.scan_status?.submission_id ?? null,
        complete: i.scan_status?.scan_complete ?? null,
        lastProcessedAt: toRfc3339(i.scan_status?.last_processed),
        statusCode: i.scan_status?.status_code ?? null,
        categories: (i.categorizations ?? []).map(c => c.category ?? '').filter(c => c !== ''),
        modelScores: (i.model_results ?? []).map(m => ({ model: m.model_name ?? '', score: m.model_score ?? null })),
        ruleMatches: (i.rule_matches ?? []).map(m => m.name ?? '').filter(n => n !== '')
      }
    })
  }
}

/**
 * Detections over every saved query: one stream of matches per query (domain: newest first by first_seen, logo: by
 * matchedAt, Cloudflare API schema, get_DomainMatchList and get_LogoMatchList), merged here. The page token carries each query's offset, so a walk resumes exactly
 * where it stood. A page hands out every fetched match at or above the newest "last fetched" time among the
 * streams that still have more, so pages come out newest first across all queries.
 */
export class BrandProtection {
  constructor (readonly client: BrandProtectionClient) {}

  async listDetections (query: DetectionQuery, ctx: ConnectorContext): Promise<DetectionPage> {
    const limit = Math.max(1, Math.min(MAX_MATCH_LIMIT, Math.floor(query.pageSize)))
    const [domainQs, logoQs] = await Promise.all([this.client.domainQueries(ctx), this.client.logoQueries(ctx)])
    const domains = new Map(domainQs.map(q => [`d${String(q.query_id)}`, q]))
    const logos = new Map(logoQs.map(q => [`l${String(q.id)}`, q]))
    // the first page walks today's queries; later pages the queries of the token (a query deleted since has no matches)
    const offsets: Record<string, number> = query.pageToken === null
      ? Object.fromEntries([...domains.keys(), ...logos.keys()].map(k => [k, 0]))
      : { ...decodeToken(query.pageToken).o }
    const live = Object.keys(offsets).filter(k => (offsets[k] ?? -1) >= 0)

    const fetched = await mapLimit(live, CONCURRENCY, async key => {
      const offset = offsets[key] as number
      const id = key.slice(1)
      let entries: Entry[] = []
      let more = false
      try {
        if (key.startsWith('d')) {
          const q = domains.get(key)
          if (q !== undefined) {
            const page = await this.client.domainMatches(id, { offset, limit }, ctx)
            entries = page.matches.map(m => ({ det: domainMatchDetection(q, m), t: timeOf(m.first_seen) }))
            more = page.total === null ? page.matches.length >= limit : offset + page.matches.length < page.total
          }
        } else {
          const q = logos.get(key)
          if (q !== undefined) {
            const page = await this.client.logoMatches(id, { offset, limit }, ctx)
            entries = page.matches.map(m => ({ det: logoMatchDetection(q, m), t: timeOf(m.matched_at) }))
            more = page.total === null ? page.matches.length >= limit : offset + page.matches.length < page.total
          }
        }
      } catch (err) {
        // a query deleted between listing the queries and reading its matches has none
        if (!(err instanceof ConnectorError && err.kind === 'not_found')) throw err
      }
      return { key, offset, entries, more }
    })

    let threshold = Number.NEGATIVE_INFINITY
    for (const f of fetched) {
      if (!f.more) continue
      const times = f.entries.map(e => e.t).filter((t): t is number => t !== null)
      if (times.length > 0) threshold = Math.max(threshold, Math.min(...times))
    }
    const items: Detection[] = []
    const next: Record<string, number> = { ...offsets }
    for (const f of fetched) {
      let consumed = 0
      for (const e of f.entries) {
        if (e.t !== null && e.t < threshold) break
        consumed++
        if (e.det !== null) items.push(e.det)
      }
      next[f.key] = !f.more && consumed === f.entries.length ? -1 : f.offset + consumed
    }
    sortNewestFirst(items, d => Date.parse(d.detectedAt), byId)
    const done = Object.values(next).every(o => o < 0)
    return { items, next: done ? null : encodeToken({ o: next }) }
  }

  async getDetection (kind: DetectionKind, nativeId: string, ctx: ConnectorContext): Promise<Detection | null> {
    const colon = nativeId.indexOf(':')
    const queryId = nativeId.slice(0, colon)
    const rest = nativeId.slice(colon + 1)
    if (colon <= 0 || !/^\d{1,15}$/.test(queryId) || rest === '') return null
    try {
      if (kind === 'domain-match') {
        const q = (await this.client.domainQueries(ctx, queryId)).find(x => String(x.query_id) === queryId)
        if (q === undefined) return null
        const page = await this.client.domainMatches(queryId, { offset: 0, limit: MAX_MATCH_LIMIT, domainSearch: rest }, ctx)
        const m = page.matches.find(x => x.domain.trim().toLowerCase().replace(/\.$/, '') === rest)
        return m === undefined ? null : domainMatchDetection(q, m)
      }
      if (kind === 'logo-match') {
        if (!/^\d{1,15}$/.test(rest)) return null
        const q = (await this.client.logoQueries(ctx, queryId)).find(x => String(x.id) === queryId)
        if (q === undefined) return null
        for (let page = 0; page < FIND_LOGO_MAX_PAGES; page++) {
          const res = await this.client.logoMatches(queryId, { offset: page * MAX_MATCH_LIMIT, limit: MAX_MATCH_LIMIT }, ctx)
          const m = res.matches.find(x => String(x.id) === rest)
          if (m !== undefined) return logoMatchDetection(q, m)
          if (res.matches.length < MAX_MATCH_LIMIT) break
        }
      }
      return null
    } catch (err) {
      if (err instanceof ConnectorError && err.kind === 'not_found') return null
      throw err
    }
  }

  async listMonitors (ctx: ConnectorContext): Promise<BrandMonitor[]> {
    const [domainQs, logoQs] = await Promise.all([this.client.domainQueries(ctx), this.client.logoQueries(ctx)])
    return [...domainQs.map(domainMonitor), ...logoQs.map(logoMonitor)]
  }

  async createMonitor (input: BrandMonitorInput, ctx: ConnectorContext): Promise<BrandMonitor> {
    if (input.type === 'domain') {
      const body: DomainQueryBody = { tag: input.tag, string_matches: input.patterns.map(pattern => ({ pattern })) }
      if (input.scan !== null) body.scan = input.scan
      const res = await this.client.createDomainQuery(body, ctx)
      const id = res.query_id === null || res.query_id === undefined ? null : String(res.query_id)
      const back = id === null ? [] : await this.client.domainQueries(ctx, id).catch(() => [])
      return back.find(q => String(q.query_id) === id) !== undefined
        ? domainMonitor(back.find(q => String(q.query_id) === id) as DomainQuery)
        : { id: `domain:${id ?? 'unknown'}`, type: 'domain', tag: input.tag, patterns: input.patterns, scan: input.scan, similarityThreshold: null, createdAt: null, updatedAt: null }
    }
    const image = `data:${input.image.contentType};base64,${input.image.data.toString('base64')}`
    const res = await this.client.createLogoQuery({ tag: input.tag, image_data: image, similarity_threshold: input.similarityThreshold }, ctx)
    const id = res.query_id === null || res.query_id === undefined ? null : String(res.query_id)
    const back = id === null ? [] : await this.client.logoQueries(ctx, id).catch(() => [])
    const found = back.find(q => String(q.id) === id)
    return found !== undefined
      ? logoMonitor(found)
      : { id: `logo:${id ?? 'unknown'}`, type: 'logo', tag: input.tag, patterns: null, scan: null, similarityThreshold: input.similarityThreshold, createdAt: null, updatedAt: null }
  }
}

function timeOf (value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : ms
}
