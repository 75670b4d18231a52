/**
 * Detections: the cross-provider inbox (the merged listing of services/merged-listing.ts over `detectedAt`), one
 * detection by id, and turning a detection into a case.
 * The gateway keeps one thing: which case a detection became (KvStore, `keys.detectionCase`), for providers that
 * cannot say it themselves; a detection its provider accepts (`detectionAcceptance`) carries its takedown.
 */
import { extend } from '../../domain/objects.js'
import type { CancelSignal } from '../../connectors/deadline.js'
import { createHash } from 'node:crypto'
import { Type, type Static } from 'typebox'
import type { ProviderConnector } from '../../connectors/connector.js'
import { ConnectorError } from '../../connectors/connector.js'
import type { SortKey } from '../../domain/merge.js'
import { GatewayError } from '../../domain/problems.js'
import type { Logger } from '../../logger.js'
import type { Case } from '../../schemas/case.js'
import type { TargetType } from '../../schemas/common.js'
import { CreateCaseSchema, type CreateCaseBody } from '../../schemas/create.js'
import type { Detection, DetectionListQuery, DetectionPage } from '../../schemas/detection.js'
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../../schemas/provider.js'
import type { KvStore } from '../../store/kv-store.js'
import { keys } from '../../store/keys.js'
import { MergedListing, type MergedListingOptions } from '../../services/merged-listing.js'
import type { ProviderSet } from '../../services/provider-set.js'
import { capabilitiesOf } from '../../services/providers.js'
import type { CaseWriteService } from '../../services/writes.js'

/** The takedown body is the create body minus `target` (the detection gives it). */
export const DetectionTakedownSchema = Type.Omit(CreateCaseSchema, ['target'], {
  $id: 'DetectionTakedown',
  additionalProperties: false,
  examples: [{ provider: 'phishfort', comment: 'Lookalike of our login page found by BforeAI', reportedBy: 'soc@acme.example' }],
  description: 'The body of POST /v1/cases without `target`. BforeAI attacks: `brand.id` defaults to the attack\'s protected asset; ' +
    'other fields are not sent to BforeAI. Other detections: a new case at `provider`, or where the routing rules send the target.'
})
export type DetectionTakedownBody = Static<typeof DetectionTakedownSchema>

/** how long the gateway remembers the case a detection became */
export const DETECTION_LINK_TTL_MS = 400 * 86_400_000

export interface DetectionOptions extends MergedListingOptions {
  linkTtlMs?: number
}

interface Filters { providers: ProviderId[], since?: string, until?: string }
function keyOf (d: Detection): SortKey {
  return [Date.parse(d.detectedAt), d.id]
}

function hasDetections (c: ProviderConnector | null | undefined): c is ProviderConnector & Required<Pick<ProviderConnector, 'listDetections'>> {
  return c != null && capabilitiesOf(c).detections && typeof c.listDetections === 'function'
}

export class DetectionService {
  readonly #providers: ProviderSet
  readonly #store: KvStore
  readonly #writes: CaseWriteService
  readonly #listing: MergedListing<Detection>
  readonly #linkTtlMs: number

  constructor (providers: ProviderSet, store: KvStore, writes: CaseWriteService, secret: string, opts: DetectionOptions = {}) {
    this.#providers = providers
    this.#store = store
    this.#writes = writes
    this.#listing = new MergedListing<Detection>(providers, secret, keyOf, opts)
    this.#linkTtlMs = opts.linkTtlMs ?? DETECTION_LINK_TTL_MS
  }

  async list (query: DetectionListQuery, signal: CancelSignal, log: Logger): Promise<DetectionPage> {
    const filters = this.#filters(query)
    const sinceMs = filters.since === undefined ? null : Date.parse(filters.since)
    const untilMs = filters.until === undefined ? null : Date.parse(filters.until)
    const range = { ...(filters.since === undefined ? {} : { since: filters.since }), ...(filters.until === undefined ? {} : { until: filters.until }) }
    const page = await this.#listing.page({
      cursor: query.cursor,
      limit: query.limit,
      fingerprint: createHash('sha256').update(JSON.stringify(['detections', filters.providers, filters.since ?? null, filters.until ?? null])).digest('base64url').slice(0, 16),
      providers: filters.providers,
      readerOf: provider => {
        const connector = this.#providers.get(provider)?.connector
        if (!hasDetections(connector)) return null
        return async (q, ctx) => await connector.listDetections({ ...q, ...range }, ctx)
      },
      accept: d => {
        const t = Date.parse(d.detectedAt)
        return (sinceMs === null || t >= sinceMs) && (untilMs === null || t < untilMs)
      },
      sinceMs
    }, signal, log)
    return { ...page, items: await this.#withCaseLinks(page.items, log) }
  }

  /** One detection; 404 for an id of the wrong form or one the provider does not know. */
  async get (id: string, signal: CancelSignal, log: Logger): Promise<Detection> {
    const { detection } = await this.#find(id, signal, log)
    const [linked] = await this.#withCaseLinks([detection], log)
    return linked as Detection
  }

  /**
   * Turns a detection into a case. A detection of the kind its provider accepts is accepted there (unless the body
   * names another provider); anything else becomes a new case through CaseWriteService.create with the detection's target.
   * A detection that already became a case is a 409 naming it.
   */
  async takedown (id: string, body: DetectionTakedownBody, signal: CancelSignal, log: Logger): Promise<Case> {
    const { provider, kind, nativeId, connector, detection } = await this.#find(id, signal, log)
    const [linked] = await this.#withCaseLinks([detection], log)
    const existing = linked?.caseId ?? null
    // a provider that accepts its own detections of a kind turns one into exactly one case: no duplicates
    const acceptance = connector.detectionAcceptance?.kind === kind ? connector.detectionAcceptance : undefined
    const accepts = acceptance !== undefined
    if (existing !== null && (accepts || body.allowDuplicate !== true)) {
      throw new GatewayError('GW_ERR_DUPLICATE_CASE', `Detection ${id} already became case ${existing}${accepts ? '' : '; send allowDuplicate: true to file another'}`, { existing })
    }

    let created: Case
    if (acceptance !== undefined && (body.provider === undefined || body.provider === provider)) {
      if (body.action === 'monitor') throw new GatewayError('GW_ERR_UNSUPPORTED', `${provider} accepts confirmed attacks for takedown only`, { provider })
      const brandId = integerId(body.brand?.id ?? detection.matched.queryId)
      if (brandId === null) {
        throw new GatewayError('GW_ERR_VALIDATION', `brand.id must be the integer id of a ${provider} brand (protected asset)`, { errors: [{ path: '/brand/id', message: 'must be a positive integer' }] })
      }
      try {
        created = await this.#providers.withContext(provider, signal, log, async ctx => await acceptance.accept(nativeId, brandId, ctx))
      } catch (err) {
        if (err instanceof ConnectorError && err.kind !== 'rejected' && err.kind !== 'not_found') this.#providers.recordError(provider, err)
        throw err
      }
    } else {
      const createBody: CreateCaseBody = { ...body, target: this.#targetFor(detection, body.provider) }
      const result = await this.#writes.create(createBody, [], { dryRun: false }, signal, log)
      if (result.kind !== 'created') throw new Error('unreachable: a create without dryRun returned a plan')
      created = result.case
    }
    try {
      await this.#store.set(keys.detectionCase(detection.id), created.id, { ttlMs: this.#linkTtlMs })
    } catch (err) {
      log.warn({ detectionId: detection.id, caseId: created.id, err: (err as Error).message }, 'could not remember the case of a detection')
    }
    log.info({ detectionId: detection.id, caseId: created.id }, 'detection turned into a case')
    return created
  }

  /** The create target: a domain, or `https://<domain>/` when the named provider takes URLs but not domains. */
  #targetFor (d: Detection, provider: ProviderId | undefined): { type: TargetType, value: string } {
    if (provider !== undefined && d.target.type === 'domain') {
      const caps = capabilitiesOf(this.#providers.get(provider)?.connector ?? null)
      if (!caps.create.takedown.includes('domain') && caps.create.takedown.includes('url')) return { type: 'url', value: `https://${d.target.value}/` }
    }
    return { type: d.target.type, value: d.target.value }
  }

  async #find (id: string, signal: CancelSignal, log: Logger): Promise<{
    provider: ProviderId, kind: Detection['kind'], nativeId: string, connector: ProviderConnector, detection: Detection
  }> {
    const parsed = this.#providers.resolveDetectionId(id)
    if (parsed === null) {
      throw new GatewayError('GW_ERR_NOT_FOUND', `No detection ${id}: detection ids look like <provider>:<kind>:<id> (kinds attack, domain-match, logo-match)`)
    }
    const connector = this.#providers.get(parsed.provider)?.connector
    if (!hasDetections(connector) || connector.getDetection === undefined) {
      throw new GatewayError('GW_ERR_NOT_FOUND', `No detection ${id}: ${parsed.provider} has no detections in this gateway`, { provider: parsed.provider })
    }
    const getDetection = connector.getDetection.bind(connector)
    let detection: Detection | null
    try {
      detection = await this.#providers.withContext(parsed.provider, signal, log, async ctx => await getDetection(parsed.kind, parsed.nativeId, ctx))
    } catch (err) {
      if (err instanceof ConnectorError && err.kind !== 'not_found') this.#providers.recordError(parsed.provider, err)
      throw err
    }
    if (detection === null) throw new GatewayError('GW_ERR_NOT_FOUND', `${parsed.provider} has no ${parsed.kind} ${parsed.nativeId}`, { provider: parsed.provider })
    return { ...parsed, connector, detection }
  }

  /** Fills `caseId` from the gateway's memory where the provider did not say it; a store failure leaves it null. */
  async #withCaseLinks (items: Detection[], log: Logger): Promise<Detection[]> {
    return await Promise.all(items.map(async d => {
      if (d.caseId !== null) return d
      let caseId: string | null = null
      try {
        caseId = await this.#store.get(keys.detectionCase(d.id))
      } catch (err) {
        log.warn({ detectionId: d.id, err: (err as Error).message }, 'could not read the case link of a detection')
      }
      return caseId === null ? d : extend(d, { caseId, links: extend(d.links, { case: `/v1/cases/${caseId}` }) })
    }))
  }

  #filters (query: DetectionListQuery): Filters {
    const able = this.#providers.requireSome().filter(e => hasDetections(e.connector)).map(e => e.id)
    let providers: ProviderId[] = able
    if (query.provider !== undefined) {
      const names = [...new Set(query.provider.split(',').map(s => s.trim()).filter(s => s !== ''))]
      const bad = names.filter(n => !isProviderId(n))
      if (bad.length > 0 || names.length === 0) {
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown provider ${bad.join(', ') || '(empty)'}`, {
          errors: [{ path: '/provider', message: `must be a comma-separated list of ${PROVIDER_IDS.join(', ')}` }],
          allowed: [...PROVIDER_IDS]
        })
      }
      const off = names.filter(n => this.#providers.get(n as ProviderId)?.connector == null)
      if (off.length > 0) throw new GatewayError('GW_ERR_PROVIDER_OFF', `Provider ${off.join(', ')} is off in this gateway`, { allowed: able })
      const without = names.filter(n => !able.includes(n as ProviderId))
      if (without.length > 0) throw new GatewayError('GW_ERR_UNSUPPORTED', `Provider ${without.join(', ')} has no detections; providers with detections: ${able.join(', ')}`, { allowed: able })
      providers = PROVIDER_IDS.filter(p => names.includes(p))
    }
    if (query.since !== undefined && query.until !== undefined && Date.parse(query.since) >= Date.parse(query.until)) {
      throw new GatewayError('GW_ERR_VALIDATION', '`since` must be before `until`', { errors: [{ path: '/since', message: 'must be before until' }] })
    }
    const filters: Filters = { providers }
    if (query.since !== undefined) filters.since = new Date(query.since).toISOString()
    if (query.until !== undefined) filters.until = new Date(query.until).toISOString()
    return filters
  }
}

function integerId (id: string | number | null | undefined): number | null {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id > 0 ? id : null
  if (typeof id === 'string' && /^\d{1,15}$/.test(id.trim())) {
    const n = Number(id.trim())
    return n > 0 ? n : null
  }
  return null
}
