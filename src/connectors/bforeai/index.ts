/**
 * BforeAI connector (PreCrime Brand takedown API). Vendor facts: BforeAI's
 * Takedowns Management API docs (docs.bfore.ai, PreCrime Brand); choices: README.md.
 */
import type { Case, CaseDetail } from '../../schemas/case.js'
import type { Detection, DetectionKind } from '../../schemas/detection.js'
import type { ReferenceItem, ReferenceKind } from '../../schemas/reference.js'
import type { TargetType } from '../../schemas/common.js'
import type { MappedStatus } from '../../status/engine.js'
import { GatewayError } from '../../domain/problems.js'
import { TtlCache } from '../../store/ttl-cache.js'
import {
  ConnectorError, caseRow, mappedPage, rowTime,
  type CancelInput, type CaseRow, type Capabilities, type ConnectorContext, type ConnectorDeps, type CreateCaseInput, type CreateOutcome,
  type DetectionAcceptance, type DetectionPage, type DetectionQuery, type FieldError, type PreparedRequest, type ProviderCaseQuery, type ProviderConnector, type ConnectorFactory,
  type ProviderPage, type ProviderRowPage, type ProviderSettings
} from '../connector.js'
import { BforeaiClient, BFOREAI_MAX_PAGE_SIZE, PATHS, type ListParams } from './client.js'
import { createdAtOf, nameItem, reasonItem, statusItem, toCase, toDetail, toDetection, type MapContext } from './mapper.js'
import { encodeCaseId } from '../../domain/case-id.js'
import type { Attack, RequestTakedownBody, SocialTakedownBody, Status, Takedown } from './wire.js'
import { byId, sortNewestFirst } from '../../domain/merge.js'

export const BFOREAI_CAPABILITIES: Capabilities = {
  create: { takedown: ['url', 'domain', 'social'], monitor: [] },
  cancel: true,
  attachments: false,
  comments: false,
  appeal: false,
  actions: [],
  detections: true,
  reference: ['statuses', 'takedown-types', 'platforms', 'threat-types', 'cancellation-reasons']
}

/** BforeAI API docs, POST /v2/takedown/request and POST /v2/takedown/social-media: `url` / `malicious_url` is a uri of 1–2083 characters */
const MAX_URL = 2083
/** detections: the default window of `GET /v2/takedown/attacks` (from/until are required) */
export const ATTACK_WINDOW_MS = 90 * 86_400_000
/** at most this many vendor pages (of 100) per window; beyond it the oldest attacks of the window are not listed */
const MAX_ATTACK_PAGES = 10
/** a window's attacks are kept this long, so the pages of one walk come from one vendor read */
const ATTACK_CACHE_MS = 30_000

interface AttackToken { f: string, u: string, o: number }

function encodeAttackToken (t: AttackToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url')
}

function decodeAttackToken (token: string): AttackToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as AttackToken
    if (typeof t.f === 'string' && typeof t.u === 'string' && Number.isSafeInteger(t.o) && t.o >= 0) return t
  } catch {}
  throw new GatewayError('GW_ERR_BAD_CURSOR', 'the bforeai position in the cursor is not an attack window; start the listing again without a cursor')
}

/** an unseen status_id triggers at most one refresh of the run-time status list per minute */
const STATUS_REFRESH_MS = 60_000

function unsupported (detail: string): GatewayError {
  return new GatewayError('GW_ERR_UNSUPPORTED', detail, { provider: 'bforeai' })
}

function isHttpUrl (value: string): boolean {
  try {
    const u = new URL(value)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

/** brand.id as the vendor's integer brand id, or null */
function brandIdOf (id: string | number | null): number | null {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id > 0 ? id : null
  if (typeof id === 'string' && /^\d{1,15}$/.test(id.trim())) {
    const n = Number(id.trim())
    return n > 0 ? n : null
  }
  return null
}

/** The attack URL the vendor stores for a target (a bare domain is sent as `https://<domain>`). */
export function vendorUrlOf (target: { type: TargetType, value: string }): string {
  return target.type === 'domain' ? `https://${target.value.trim().toLowerCase()}` : target.value.trim()
}

function pageOf (token: string | null): number {
  if (token === null) return 1
  if (!/^[1-9]\d{0,8}$/.test(token)) throw new GatewayError('GW_ERR_BAD_CURSOR', 'the bforeai position in the cursor is not a page number; start the listing again without a cursor')
  return Number(token)
}

function shiftIso (iso: string, ms: number): string | undefined {
  const t = Date.parse(iso)
  return Number.isNaN(t) ? undefined : new Date(t + ms).toISOString()
}

/** Case-insensitive match against a live reference list; returns the vendor's own spelling. */
function pick (list: readonly string[], value: string): string | null {
  const wanted = value.trim().toLowerCase()
  return list.find(v => v.toLowerCase() === wanted) ?? null
}

export class BforeaiConnector implements ProviderConnector {
  readonly id = 'bforeai' as const
  readonly capabilities = BFOREAI_CAPABILITIES
  readonly client: BforeaiClient
  readonly #deps: ConnectorDeps
  /** status_id → name, from GET /v2/takedown/statuses (fetched lazily, refreshed on an unseen id at most once a minute) */
  readonly #statusNames = new Map<number, string>()
  #statusesFetchedAt: number | null = null
  /** the status list read under way: every read that needs the names waits for it (a listing and a detail read agree) */
  #statusesFetch: Promise<void> | null = null
  /** confirmed attacks per `from|until` window, newest first by detectedAt */
  readonly #attacks: TtlCache<Detection[]>

  constructor (settings: ProviderSettings, deps: ConnectorDeps) {
    this.#deps = deps
    this.#attacks = new TtlCache({ max: 20, ttlMs: ATTACK_CACHE_MS, clock: deps.clock })
    this.client = new BforeaiClient({
      baseUrl: settings.baseUrl,
      credential: settings.credential,
      timeoutMs: settings.timeoutMs,
      dispatcher: deps.dispatcher,
      budget: deps.budget,
      observer: deps.observer,
      clock: deps.clock
    })
  }

  // ---- read path --------------------------------------------------------------------------------------------------

  async listCases (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderPage> {
    return await mappedPage(this.listCaseRows(query, ctx))
  }

  async listCaseRows (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage> {
    const page = pageOf(query.pageToken)
    const size = Math.min(Math.max(1, Math.floor(query.pageSize)), BFOREAI_MAX_PAGE_SIZE)
    const params: ListParams = { page, size }
    const f = query.filters
    // bound inclusivity is [?] (BforeAI API docs, GET /v2/takedown/list): widen by one second so the result is a superset
    if (f.since !== undefined) params.since = shiftIso(f.since, -1000)
    if (f.until !== undefined) params.until = shiftIso(f.until, 1000)
    // an all-digit brand is a brand id (exact, the gateway's own rule); a name is never sent: the gateway matches its
    // words ("acme" finds "Acme Bank"), which the vendor's brand_name filter cannot
    if (f.brand !== undefined && /^\d{1,15}$/.test(f.brand.trim())) params.brandId = Number(f.brand.trim())
    const res = await this.client.listTakedowns(params, ctx)
    await this.#ensureStatusNames(res.items, ctx)
    const rows = res.items.map(t => this.#row(t))
    // the vendor sorts by created descending; a stable re-sort inside the page guards against drift
    sortNewestFirst(rows, rowTime)
    let next: string | null
    if (typeof res.pages === 'number') next = page < res.pages ? String(page + 1) : null
    else next = res.items.length >= size ? String(page + 1) : null
    return { rows, next }
  }

  async getCase (providerCaseId: string, opts: { raw: boolean }, ctx: ConnectorContext): Promise<CaseDetail> {
    const t = await this.client.getTakedown(providerCaseId, ctx)
    return this.#detail(t, opts.raw, ctx)
  }

  async listReference (kind: ReferenceKind, ctx: ConnectorContext): Promise<ReferenceItem[] | null> {
    switch (kind) {
      case 'statuses': {
        const list = await this.client.statuses(ctx)
        this.#learnStatuses(list)
        return list.map(s => statusItem(s, this.#deps.status.map('bforeai', s.name)))
      }
      case 'takedown-types':
        return (await this.client.takedownTypes(ctx)).map(n => nameItem('takedown-types', n))
      case 'platforms':
        return (await this.client.platforms(ctx)).map(n => nameItem('platforms', n))
      case 'threat-types':
        return (await this.client.threatTypes(ctx)).map(n => nameItem('threat-types', n))
      case 'cancellation-reasons':
        return (await this.client.cancellationReasons(ctx)).map(reasonItem)
      default:
        return null
    }
  }

  // ---- detections (BforeAI API docs, GET /v2/takedown/attacks and POST /v2/takedown/accept) ---------------------------

  /**
   * Confirmed attacks, newest first by detection_date. The vendor's sort values are [?] (only the default
   * `updated_at` is documented), so the connector reads the whole window (at most 10 pages of 100), sorts it itself
   * and pages through it; the token pins the window so every page of one walk reads the same one.
   */
  async listDetections (query: DetectionQuery, ctx: ConnectorContext): Promise<DetectionPage> {
    let token: AttackToken
    if (query.pageToken !== null) {
      token = decodeAttackToken(query.pageToken)
    } else {
      const now = this.#deps.clock.now()
      const since = query.since === undefined ? NaN : Date.parse(query.since)
      const until = query.until === undefined ? NaN : Date.parse(query.until)
      // bound inclusivity is [?]: widen by one second; the gateway re-filters
      const f = Number.isNaN(since) ? now - ATTACK_WINDOW_MS : since - 1000
      const u = Number.isNaN(until) ? now : until + 1000
      token = { f: new Date(f).toISOString(), u: new Date(u).toISOString(), o: 0 }
    }
    const all = await this.#window(token.f, token.u, ctx)
    const size = Math.max(1, Math.floor(query.pageSize))
    const items = all.slice(token.o, token.o + size)
    const next = token.o + size < all.length ? encodeAttackToken({ ...token, o: token.o + size }) : null
    return { items, next }
  }

  async getDetection (kind: DetectionKind, nativeId: string, ctx: ConnectorContext): Promise<Detection | null> {
    if (kind !== 'attack' || !/^\d{1,15}$/.test(nativeId)) return null
    const now = this.#deps.clock.now()
    const all = await this.#window(new Date(now - ATTACK_WINDOW_MS).toISOString(), new Date(now).toISOString(), ctx)
    return all.find(d => d.id === `bforeai:attack:${nativeId}`) ?? null
  }

  /** a confirmed attack accepted for takedown (`POST /v2/takedown/accept`, BforeAI API docs) */
  readonly detectionAcceptance: DetectionAcceptance = {
    kind: 'attack',
    accept: async (nativeId: string, brandId: number, ctx: ConnectorContext): Promise<Case> => {
      const attackId = Number(nativeId)
      if (!Number.isSafeInteger(attackId)) throw new GatewayError('GW_ERR_NOT_FOUND', `No bforeai attack ${nativeId}`)
      const takedown = await this.client.accept({ attack_id: attackId, brand_id: brandId }, ctx)
      // the attack now carries its takedown: the next listing must read it again
      this.#attacks.clear()
      const [created] = await this.#toCases([takedown], ctx)
      return created as Case
    }
  }

  async #window (from: string, until: string, ctx: ConnectorContext): Promise<Detection[]> {
    const key = `${from}|${until}`
    const now = this.#deps.clock.now()
    const hit = this.#attacks.get(key)
    if (hit !== undefined) return hit
    const raw: Attack[] = []
    let complete = false
    for (let page = 1; page <= MAX_ATTACK_PAGES; page++) {
      const res = await this.client.listAttacks({ from, until, page, size: BFOREAI_MAX_PAGE_SIZE }, ctx)
      raw.push(...res.items)
      const more = typeof res.pages === 'number' ? page < res.pages : res.items.length >= BFOREAI_MAX_PAGE_SIZE
      if (!more) { complete = true; break }
    }
    if (!complete) ctx.log.warn({ provider: 'bforeai', attacks: raw.length }, 'more confirmed attacks than one listing reads; the oldest are left out')
    const items: Detection[] = []
    for (const a of raw) {
      const d = toDetection(a)
      if (d === null) ctx.log.warn({ provider: 'bforeai', attackId: a.attack_id }, 'confirmed attack without a readable detection_date or target; skipped')
      else items.push(d)
    }
    sortNewestFirst(items, d => Date.parse(d.detectedAt), byId)
    this.#attacks.set(key, items, { at: now })
    return items
  }

  // ---- write path -------------------------------------------------------------------------------------------------

  async prepareCreate (input: CreateCaseInput, ctx: ConnectorContext): Promise<PreparedRequest> {
    if (input.action !== 'takedown') throw unsupported(`bforeai cannot ${input.action} a target; it only takes takedown requests`)
    const type = input.target.type
    if (!BFOREAI_CAPABILITIES.create.takedown.includes(type)) {
      throw unsupported(`bforeai takes takedowns for url, domain and social targets, not ${type}`)
    }
    if (input.attachments.length > 0) throw unsupported('bforeai takes no attachments')
    const errors: FieldError[] = []
    const brandId = brandIdOf(input.brand.id)
    if (brandId === null) errors.push({ path: '/brand/id', message: 'bforeai needs the integer id of a brand (protected asset) of your company' })
    const comment = input.comment?.trim() ?? ''
    if (comment === '') errors.push({ path: '/comment', message: 'bforeai requires a non-empty comment' })
    const url = vendorUrlOf(input.target)
    if (url.length > MAX_URL) errors.push({ path: '/target/value', message: `bforeai accepts URLs of at most ${MAX_URL} characters` })
    else if (!isHttpUrl(url)) errors.push({ path: '/target/value', message: 'bforeai needs an http or https URL' })

    if (type !== 'social') {
      if (errors.length > 0) throw validation(errors)
      const body: RequestTakedownBody = { url, brand_id: brandId as number, comment }
      return { method: 'POST', path: PATHS.request, contentType: 'application/json', body: { ...body }, files: [] }
    }

    let platform: string | null = null
    let threatType: string | null = null
    if (input.social === null) {
      errors.push({ path: '/social', message: 'bforeai social-media takedowns need social.platform and social.threatType' })
    } else {
      // the enums are [?] in the docs (BforeAI API docs, POST /v2/takedown/social-media): validate against the live reference lists
      const [platforms, threatTypes] = await Promise.all([this.client.platforms(ctx), this.client.threatTypes(ctx)])
      platform = pick(platforms, input.social.platform)
      if (platform === null) errors.push({ path: '/social/platform', message: `unknown platform; bforeai accepts: ${platforms.join(', ')}` })
      threatType = pick(threatTypes, input.social.threatType)
      if (threatType === null) errors.push({ path: '/social/threatType', message: `unknown threat type; bforeai accepts: ${threatTypes.join(', ')}` })
    }
    if (errors.length > 0) throw validation(errors)
    const body: SocialTakedownBody = {
      threat_type: threatType as string, platform: platform as string, malicious_url: url, brand_id: brandId as number, comment
    }
    return { method: 'POST', path: PATHS.social, contentType: 'application/json', body: { ...body }, files: [] }
  }

  async submitCreate (prepared: PreparedRequest, _input: CreateCaseInput, ctx: ConnectorContext): Promise<CreateOutcome> {
    const out = await this.client.create(prepared.path, prepared.body, ctx)
    if (out.kind === 'exists') {
      const url = String(prepared.body.url ?? prepared.body.malicious_url ?? '')
      let existing: Case | null = null
      try {
        existing = url === '' ? null : await this.#firstByUrl(url, () => true, ctx)
      } catch (err) {
        ctx.log.warn({ provider: 'bforeai', err: (err as Error).message }, 'could not look up the already-detected takedown')
      }
      return { kind: 'exists', message: out.message, existing }
    }
    const created = out.takedown
    try {
      const t = await this.client.getTakedown(String(created.id), ctx)
      return { kind: 'created', case: (await this.#toCases([t], ctx))[0] as Case }
    } catch (err) {
      // the takedown exists; answer with what the create said rather than failing a write that succeeded
      ctx.log.warn({ provider: 'bforeai', err: (err as Error).message }, 'read-back of a created takedown failed')
      return { kind: 'created', case: this.#mapOne(created, created.status_name ?? null) }
    }
  }

  async findOpenCase (target: { type: TargetType, value: string }, ctx: ConnectorContext): Promise<Case | null> {
    if (!BFOREAI_CAPABILITIES.create.takedown.includes(target.type)) return null
    return await this.#firstByUrl(vendorUrlOf(target), c => !c.terminal, ctx)
  }

  async cancel (providerCaseId: string, input: CancelInput, ctx: ConnectorContext): Promise<CaseDetail> {
    const reasons = await this.client.cancellationReasons(ctx)
    const reason = reasons.find(r => r.id === input.reasonId && r.is_active !== false)
    if (reason === undefined) {
      const allowed = reasons.filter(r => r.is_active !== false).map(r => `${r.id} (${r.reason})`).join(', ')
      throw validation([{ path: '/reasonId', message: `not an active bforeai cancellation reason; use one of: ${allowed}` }])
    }
    const body: { cancel_reason_id: number, description?: string } = { cancel_reason_id: reason.id }
    if (input.description !== null && input.description.trim() !== '') body.description = input.description
    await this.client.cancel(providerCaseId, body, ctx)
    return await this.getCase(providerCaseId, { raw: false }, ctx)
  }

  // ---- internals --------------------------------------------------------------------------------------------------

  async #firstByUrl (url: string, accept: (c: Case) => boolean, ctx: ConnectorContext): Promise<Case | null> {
    const res = await this.client.listTakedowns({ page: 1, size: BFOREAI_MAX_PAGE_SIZE, attackUrl: url }, ctx)
    const cases = await this.#toCases(res.items, ctx)
    sortNewestFirst(cases, c => Date.parse(c.createdAt))
    return cases.find(accept) ?? null
  }

  async #detail (t: Takedown, raw: boolean, ctx: ConnectorContext): Promise<CaseDetail> {
    await this.#ensureStatusNames([t], ctx)
    const mc = this.#mapContext(t, this.#statusNameOf(t))
    try {
      return toDetail(t, mc, raw)
    } catch (err) {
      throw new ConnectorError('bforeai', 'protocol', (err as Error).message, { cause: err })
    }
  }

  async #toCases (items: Takedown[], ctx: ConnectorContext): Promise<Case[]> {
    await this.#ensureStatusNames(items, ctx)
    return items.map(t => this.#mapOne(t, this.#statusNameOf(t)))
  }

  /** A listed takedown as a row; an unreadable created timestamp fails here, like the full mapping would. */
  #row (t: Takedown): CaseRow {
    return caseRow(protocol(() => createdAtOf(t)), encodeCaseId('bforeai', String(t.id)), () => this.#mapOne(t, this.#statusNameOf(t)))
  }

  #mapOne (t: Takedown, providerStatus: string | null): Case {
    return protocol(() => toCase(t, this.#mapContext(t, providerStatus)))
  }

  #mapContext (t: Takedown, providerStatus: string | null): MapContext {
    const status: MappedStatus = this.#deps.status.map('bforeai', providerStatus, { statusId: t.status_id ?? null })
    // no BforeAI dashboard URL is documented; the API URL is not a page a person can open
    return { providerStatus, status, providerLink: null }
  }

  /** status_name, else the run-time name of status_id (the unified status mapping), else null (→ unknown) */
  #statusNameOf (t: Takedown): string | null {
    const name = t.status_name?.trim()
    if (name !== undefined && name !== '') return name
    if (typeof t.status_id === 'number') return this.#statusNames.get(t.status_id) ?? null
    return null
  }

  async #ensureStatusNames (items: Takedown[], ctx: ConnectorContext): Promise<void> {
    const missing = items.some(t => (t.status_name ?? '').trim() === '' && typeof t.status_id === 'number' && !this.#statusNames.has(t.status_id))
    if (!missing) return
    if (this.#statusesFetch !== null) return await this.#statusesFetch
    const now = this.#deps.clock.now()
    if (this.#statusesFetchedAt !== null && now - this.#statusesFetchedAt < STATUS_REFRESH_MS) return
    this.#statusesFetchedAt = now
    this.#statusesFetch = (async () => {
      try {
        this.#learnStatuses(await this.client.statuses(ctx))
      } catch (err) {
        // degrade to providerStatus null (→ unknown) rather than failing the read
        ctx.log.warn({ provider: 'bforeai', err: (err as Error).message }, 'could not fetch the bforeai status list')
      } finally {
        this.#statusesFetch = null
      }
    })()
    await this.#statusesFetch
  }

  #learnStatuses (list: Status[]): void {
    for (const s of list) this.#statusNames.set(s.id, s.name)
    this.#statusesFetchedAt = this.#deps.clock.now()
  }
}

function validation (errors: FieldError[]): GatewayError {
  return new GatewayError('GW_ERR_VALIDATION', errors.map(e => `${e.path}: ${e.message}`).join('; '), { errors })
}

export const bforeaiModule: ConnectorFactory = {
  id: 'bforeai',
  create (settings: ProviderSettings, deps: ConnectorDeps): ProviderConnector {
    return new BforeaiConnector(settings, deps)
  }
}

/** A takedown the mapper cannot read is the vendor breaking its contract: a `protocol` failure. */
function protocol<T> (map: () => T): T {
  try {
    return map()
  } catch (err) {
    throw new ConnectorError('bforeai', 'protocol', (err as Error).message, { cause: err })
  }
}
