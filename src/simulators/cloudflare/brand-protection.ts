/**
 * Brand Protection in the Cloudflare simulator (Cloudflare API reference, Brand Protection v1 and v2), with state:
 * - v2 saved domain queries (GET answers the envelope, or the legacy bare array with `domainQueriesShape: 'bare'`),
 *   and their matches, derived deterministically from the query patterns (bare `{matches, total}`);
 * - v2 logo queries (bare array) and logo matches derived from the tag and similarity threshold;
 * - v1 URL submit (201 `{submitted_urls, skipped_urls, excluded_urls}`) and url-info (`{result: [...]}`).
 * Error bodies for these endpoints are undocumented [?]; the v4 failure envelope is used.
 */
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../../clock.js'
import type { DomainMatch, DomainQuery, LogoMatch, LogoQuery, UrlInfo } from '../../connectors/cloudflare/brand-wire.js'

const HOUR = 3_600_000

export interface DomainQueryRecord { id: number, tag: string, patterns: string[], scan: boolean, createdMs: number, updatedMs: number }
export interface LogoQueryRecord { id: number, tag: string, threshold: number, imageData: string, contentType: string, uploadedMs: number }
interface ScanRecord { id: number, url: string, submittedMs: number }

type Query = Record<string, string | string[] | undefined>

function first (q: Query, key: string): string | undefined {
  const v = q[key]
  return Array.isArray(v) ? v[0] : v
}

function all (q: Query, ...names: string[]): string[] {
  return names.flatMap(n => { const v = q[n]; return v === undefined ? [] : Array.isArray(v) ? v : [v] })
}

function failure (code: number, message: string): Record<string, unknown> {
  return { success: false, errors: [{ code, message }], messages: [], result: null }
}

/** FNV-1a: a stable number per string, so matches depend only on the query */
function hash (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

const SLUG = (s: string): string => s.toLowerCase().replace(/[^a-z0-9-]+/g, '').slice(0, 40) || 'brand'
const SHAPES = ['%-login.com', 'secure-%.net', '%-support.io', 'my%.xyz', '%-verify.online', '%wallet.site']
const SOURCES = ['certificate_transparency', 'zone_file', 'passive_dns']
const REGISTRARS = ['Example Registrar', 'NameCheap, Inc.', null]

export class BrandProtectionState {
  readonly domainQueries = new Map<number, DomainQueryRecord>()
  readonly logoQueries = new Map<number, LogoQueryRecord>()
  readonly scans: ScanRecord[] = []
  #nextDomain = 101
  #nextLogo = 201

  constructor (readonly clock: Clock) {}

  addDomainQuery (tag: string, patterns: string[], scan: boolean, createdMs = this.clock.now()): DomainQueryRecord {
    const rec = { id: this.#nextDomain++, tag, patterns, scan, createdMs, updatedMs: createdMs }
    this.domainQueries.set(rec.id, rec)
    return rec
  }

  addLogoQuery (tag: string, threshold: number, imageData: string, contentType: string, uploadedMs = this.clock.now()): LogoQueryRecord {
    const rec = { id: this.#nextLogo++, tag, threshold, imageData, contentType, uploadedMs }
    this.logoQueries.set(rec.id, rec)
    return rec
  }

  domainQueryToWire (q: DomainQueryRecord): DomainQuery {
    return {
      query_id: q.id,
      query_tag: q.tag,
      scan: q.scan,
      created: new Date(q.createdMs).toISOString(),
      updated: new Date(q.updatedMs).toISOString(),
      parameters: { string_matches: q.patterns.map(pattern => ({ pattern })) }
    }
  }

  logoQueryToWire (q: LogoQueryRecord, download: boolean): LogoQuery {
    return {
      id: q.id,
      tag: q.tag,
      r2_path: `logos/${q.id}.${q.contentType.split('/')[1] ?? 'png'}`,
      similarity_threshold: q.threshold,
      uploaded_at: new Date(q.uploadedMs).toISOString(),
      ...(download ? { content_type: q.contentType, image_data: q.imageData } : {})
    }
  }

  /** Six lookalikes per pattern, first seen in the 30 days before the query was saved; every third pair shares a time. */
  domainMatches (q: DomainQueryRecord): DomainMatch[] {
    const out = new Map<string, DomainMatch>()
    for (const pattern of q.patterns) {
      const slug = SLUG(pattern)
      SHAPES.forEach((shape, i) => {
        const domain = shape.replace('%', slug)
        if (out.has(domain)) return
        const h = hash(`${pattern}|${i}`)
        const ageHours = 1 + (hash(`${pattern}|${i - (i % 3 === 2 ? 1 : 0)}`) % (24 * 30))
        out.set(domain, {
          domain,
          first_seen: new Date(q.createdMs - ageHours * HOUR).toISOString(),
          public_scans: h % 2 === 0 ? { submission_id: `u-${h % 100_000}` } : null,
          registrar: REGISTRARS[h % REGISTRARS.length] ?? null,
          scan_status: h % 3 === 0 ? 'complete' : 'pending',
          scan_submission_id: h % 2 === 0 ? h % 100_000 : null,
          source: SOURCES[i % SOURCES.length] ?? null,
          dismissed: false
        })
      })
    }
    return [...out.values()]
  }

  /** Eight candidates per logo; those at or above the threshold match. The last one has no domain. */
  logoMatches (q: LogoQueryRecord): LogoMatch[] {
    const slug = SLUG(q.tag)
    const out: LogoMatch[] = []
    for (let i = 0; i < 8; i++) {
      const h = hash(`${q.tag}|logo|${i}`)
      const score = Math.round((0.5 + (h % 500) / 1000) * 1000) / 1000
      if (score < q.threshold) continue
      out.push({
        id: q.id * 1000 + i,
        query_id: q.id,
        url_scan_id: `scan-${h % 100_000}`,
        similarity_score: score,
        matched_at: new Date(q.uploadedMs - (i + 1) * 5 * HOUR).toISOString(),
        domain: i === 7 ? null : `${slug}-brand${i}.site`,
        registrar: REGISTRARS[h % REGISTRARS.length] ?? null
      })
    }
    return out
  }
}

export function seedBrandProtection (state: BrandProtectionState): void {
  const t0 = state.clock.now() - 24 * HOUR
  state.addDomainQuery('acme', ['acme'], true, t0)
  state.addDomainQuery('globex', ['globex', 'globx'], false, t0 - 2 * HOUR)
  state.addLogoQuery('acme-logo', 0.6, 'iVBORw0KGgo=', 'image/png', t0 - HOUR)
}

function ordered<T> (items: T[], key: (x: T) => string | number | null, order: string | undefined): T[] {
  const dir = order === 'asc' ? 1 : -1
  return [...items].sort((a, b) => {
    const x = key(a) ?? ''
    const y = key(b) ?? ''
    return x < y ? -dir : x > y ? dir : 0
  })
}

function paging (q: Query): { offset: number, limit: number } | null {
  const offset = Number(first(q, 'offset') ?? '0')
  const limit = Number(first(q, 'limit') ?? '50')
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1 || limit > 1000) return null
  return { offset, limit }
}

export function registerBrandProtection (scope: FastifyInstance, state: BrandProtectionState, opts: { domainQueriesShape?: 'envelope' | 'bare' } = {}): void {
  const v2 = '/accounts/:accountId/cloudforce-one/v2/brand-protection'
  const v1 = '/accounts/:accountId/brand-protection'

  // Cloudflare API schema, get_GetDomainQueries: envelope (current) or bare array (legacy); result is one object with `id`
  scope.get(`${v2}/domain/queries`, async (req, reply) => {
    const q = req.query as Query
    const id = first(q, 'id')
    const list = [...state.domainQueries.values()].map(r => state.domainQueryToWire(r))
    if (id !== undefined) {
      const one = list.find(x => String(x.query_id) === id)
      if (one === undefined) return await reply.code(404).send(failure(1002, 'Query not found'))
      return opts.domainQueriesShape === 'bare' ? [one] : { success: true, errors: [], messages: [], result: one }
    }
    if (opts.domainQueriesShape === 'bare') return list
    const pageRaw = first(q, 'page')
    const perRaw = first(q, 'per_page')
    if (pageRaw === undefined && perRaw === undefined) return { success: true, errors: [], messages: [], result: list }
    const page = Number(pageRaw ?? '1')
    const per = Number(perRaw ?? '100')
    const chunk = list.slice((page - 1) * per, page * per)
    return { success: true, errors: [], messages: [], result: chunk, result_info: { count: chunk.length, page, per_page: per, total_count: list.length } }
  })

  // Cloudflare API schema, post_InsertDomainQuery: tag ≥1, string_matches 1–100 of {pattern 1–200}
  scope.post(`${v2}/domain/queries`, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>
    const matches = b.string_matches
    if (typeof b.tag !== 'string' || b.tag.length < 1) return await reply.code(400).send(failure(1001, 'tag is required'))
    if (!Array.isArray(matches) || matches.length < 1 || matches.length > 100 ||
      matches.some(m => m === null || typeof m !== 'object' || typeof (m as { pattern?: unknown }).pattern !== 'string' ||
        ((m as { pattern: string }).pattern.length < 1) || (m as { pattern: string }).pattern.length > 200)) {
      return await reply.code(400).send(failure(1001, 'string_matches must hold 1 to 100 patterns of 1 to 200 characters'))
    }
    if ([...state.domainQueries.values()].some(x => x.tag === b.tag)) return await reply.code(409).send(failure(1009, 'A query with this tag exists'))
    const rec = state.addDomainQuery(b.tag, (matches as Array<{ pattern: string }>).map(m => m.pattern), b.scan === true)
    return { success: true, message: 'Query created', query_id: rec.id }
  })

  scope.delete<{ Params: { queryId: string } }>(`${v2}/domain/queries/:queryId`, async (req, reply) => {
    if (!state.domainQueries.delete(Number(req.params.queryId))) return await reply.code(404).send(failure(1002, 'Query not found'))
    return { success: true, message: 'Query deleted' }
  })

  // Cloudflare API schema, get_DomainMatchList: bare {matches, total}; query_id required (one id, or several comma-separated with match_details)
  scope.get(`${v2}/domain/matches`, async (req, reply) => {
    const q = req.query as Query
    const ids = all(q, 'query_id').flatMap(v => v.split(',')).map(s => s.trim()).filter(s => s !== '')
    if (ids.length === 0) return await reply.code(400).send(failure(1001, 'query_id is required'))
    const p = paging(q)
    if (p === null) return await reply.code(400).send(failure(1001, 'offset and limit must be non-negative integers'))
    const recs = ids.map(id => state.domainQueries.get(Number(id)))
    if (recs.some(r => r === undefined)) return await reply.code(404).send(failure(1002, 'Query not found'))
    const search = first(q, 'domain_search')?.toLowerCase()
    let list: DomainMatch[]
    if (recs.length === 1) {
      list = state.domainMatches(recs[0] as DomainQueryRecord)
    } else {
      const byDomain = new Map<string, DomainMatch & { match_details: Array<{ match_id: number, query_id: number, query_tag: string | null, dismissed: boolean }> }>()
      for (const r of recs as DomainQueryRecord[]) {
        for (const m of state.domainMatches(r)) {
          const { dismissed: _d, ...rest } = m
          const entry = byDomain.get(m.domain) ?? { ...rest, match_details: [] }
          entry.match_details.push({ match_id: hash(`${r.id}|${m.domain}`) % 1_000_000, query_id: r.id, query_tag: r.tag, dismissed: false })
          byDomain.set(m.domain, entry)
        }
      }
      list = [...byDomain.values()]
    }
    if (search !== undefined) list = list.filter(m => m.domain.includes(search))
    const orderBy = first(q, 'orderBy') ?? 'first_seen'
    const key = orderBy === 'domain' ? (m: DomainMatch) => m.domain : orderBy === 'registrar' ? (m: DomainMatch) => m.registrar ?? '' : (m: DomainMatch) => m.first_seen ?? ''
    // stable tie order: by domain
    const sorted = ordered(ordered(list, m => m.domain, 'asc'), key, first(q, 'order') ?? 'desc')
    return { matches: sorted.slice(p.offset, p.offset + p.limit), total: sorted.length }
  })

  // Cloudflare API schema, post_InsertLogoQuery: JSON {tag, image_data (base64, data: prefix allowed), similarity_threshold 0..1}
  scope.post(`${v2}/logo/queries`, { bodyLimit: 12 * 1024 * 1024 }, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>
    if (typeof b.tag !== 'string' || b.tag.length < 1) return await reply.code(400).send(failure(1001, 'tag is required'))
    if (typeof b.image_data !== 'string' || b.image_data.length < 1) return await reply.code(400).send(failure(1001, 'image_data is required'))
    const t = b.similarity_threshold
    if (typeof t !== 'number' || t < 0 || t > 1) return await reply.code(400).send(failure(1001, 'similarity_threshold must be between 0 and 1'))
    const m = /^data:([^;,]+);base64,(.*)$/s.exec(b.image_data)
    const rec = state.addLogoQuery(b.tag, t, m?.[2] ?? b.image_data, m?.[1] ?? 'image/png')
    return { success: true, message: 'Logo query created', query_id: rec.id }
  })

  scope.delete<{ Params: { queryId: string } }>(`${v2}/logo/queries/:queryId`, async (req, reply) => {
    if (!state.logoQueries.delete(Number(req.params.queryId))) return await reply.code(404).send(failure(1002, 'Logo query not found'))
    return { success: true, message: 'Logo query deleted' }
  })

  // Cloudflare API schema, get_GetLogoQueries: a bare array
  scope.get(`${v2}/logo/queries`, async (req) => {
    const q = req.query as Query
    const id = first(q, 'id')
    const download = first(q, 'download') === 'true'
    return [...state.logoQueries.values()].filter(r => id === undefined || String(r.id) === id).map(r => state.logoQueryToWire(r, download))
  })

  // Cloudflare API schema, get_LogoMatchList: bare {matches, total}; one query_id
  scope.get(`${v2}/logo/matches`, async (req, reply) => {
    const q = req.query as Query
    const id = first(q, 'query_id')
    if (id === undefined || id === '') return await reply.code(400).send(failure(1001, 'query_id is required'))
    const p = paging(q)
    if (p === null) return await reply.code(400).send(failure(1001, 'offset and limit must be non-negative integers'))
    const rec = state.logoQueries.get(Number(id))
    if (rec === undefined) return await reply.code(404).send(failure(1002, 'Logo query not found'))
    const orderBy = first(q, 'orderBy') ?? 'matchedAt'
    const key = orderBy === 'domain' ? (m: LogoMatch) => m.domain ?? '' : orderBy === 'similarityScore' ? (m: LogoMatch) => m.similarity_score ?? 0 : (m: LogoMatch) => m.matched_at ?? ''
    const sorted = ordered(ordered(state.logoMatches(rec), m => Number(m.id), 'asc'), key, first(q, 'order') ?? 'desc')
    return { matches: sorted.slice(p.offset, p.offset + p.limit), total: sorted.length }
  })

  // v1 submit (Cloudflare API reference, Brand Protection v1): body `{url}` [I]; 201 with submitted / skipped (already scanning) / excluded (no-scan list)
  scope.post(`${v1}/submit`, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>
    const urls = typeof b.url === 'string' ? [b.url] : Array.isArray(b.urls) ? b.urls.filter((u): u is string => typeof u === 'string') : []
    if (urls.length === 0) return await reply.code(422).send(failure(1001, 'url is required'))
    const now = state.clock.now()
    const out = { submitted_urls: [] as Array<{ url: string, url_id: number }>, skipped_urls: [] as Array<{ url: string, url_id: number }>, excluded_urls: [] as Array<{ url: string }> }
    for (const url of urls) {
      let host = ''
      try { host = new URL(url).hostname } catch { return await reply.code(422).send(failure(1001, `invalid url ${url}`)) }
      if (host === 'cloudflare.com' || host.endsWith('.cloudflare.com')) { out.excluded_urls.push({ url }); continue }
      const running = state.scans.find(s => s.url === url && now - s.submittedMs < 60_000)
      if (running !== undefined) { out.skipped_urls.push({ url, url_id: running.id }); continue }
      const rec = { id: 0, url, submittedMs: now }
      rec.id = state.scans.length + 9001
      state.scans.push(rec)
      out.submitted_urls.push({ url, url_id: rec.id })
    }
    return await reply.code(201).send(out)
  })

  // v1 url-info (Cloudflare API reference, Brand Protection v1): `url` / `url_id` query [I] (also `url[]` / `url_id[]`); {result: [...]}
  scope.get(`${v1}/url-info`, async (req) => {
    const q = req.query as Query
    const urls = all(q, 'url', 'url[]')
    const ids = all(q, 'url_id', 'url_id[]').map(Number)
    const now = state.clock.now()
    const result: UrlInfo[] = state.scans
      .filter(s => urls.includes(s.url) || ids.includes(s.id))
      .map(s => {
        const done = now - s.submittedMs >= 60_000
        return {
          url: s.url,
          scan_status: { last_processed: new Date(s.submittedMs).toISOString(), scan_complete: done, status_code: done ? 200 : null, submission_id: s.id },
          categorizations: done ? [{ category: 'phishing', verification_status: 'unverified' }] : [],
          model_results: done ? [{ model_name: 'phish-classifier', model_score: (hash(s.url) % 100) / 100 }] : [],
          rule_matches: []
        }
      })
    return { result }
  })
}
