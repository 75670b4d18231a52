/**
 * Outbound webhooks: the endpoints API behind the routes (create, read, update, delete, rotate the signing secret,
 * the delivery attempts recorded). An endpoint is its owner's: another key's endpoint answers 404 like a missing one.
 * Delivery is delivery.ts.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../clock.js'
import { GatewayError } from '../../domain/problems.js'
import { newSecret, SecretBox } from '../../domain/signing.js'
import type { WebhookEndpoint, WebhookEventType } from '../../schemas/webhook.js'
import { literalRefusal } from '../../connectors/ssrf.js'
import type { DeliveryAttempt, EndpointFilter, EndpointRecord, WebhookStore } from './store.js'

export interface EndpointSettings {
  encryptionKey: Buffer
  allowPrivate: boolean
  allowHttp: boolean
  /** default overlap of a rotated secret */
  rotationOverlapMs: number
}

export interface EndpointInput {
  url: string
  eventTypes?: WebhookEventType[]
  filter?: EndpointFilter
  description?: string | null
  enabled?: boolean
}

export type EndpointView = WebhookEndpoint

export interface Caller { name: string, admin: boolean }

const iso = (ms: number): string => new Date(ms).toISOString()

export class WebhookEndpoints {
  readonly #box: SecretBox

  constructor (
    private readonly store: WebhookStore,
    private readonly settings: EndpointSettings,
    private readonly clock: Clock
  ) {
    this.#box = new SecretBox(settings.encryptionKey)
  }

  #checkUrl (raw: string): string {
    let url: URL
    try { url = new URL(raw) } catch { throw new GatewayError('GW_ERR_VALIDATION', `url "${raw.slice(0, 100)}" is not a URL`, { errors: [{ path: '/url', message: 'is not a URL' }] }) }
    const allowed = this.settings.allowHttp ? ['https:', 'http:'] : ['https:']
    if (!allowed.includes(url.protocol)) {
      throw new GatewayError('GW_ERR_WEBHOOK_URL_REFUSED', `the url must use ${allowed.map(p => p.slice(0, -1)).join(' or ')}` +
        (this.settings.allowHttp ? '' : ' (http is allowed only with WEBHOOK_ALLOW_HTTP)'))
    }
    if (url.username !== '' || url.password !== '') throw new GatewayError('GW_ERR_WEBHOOK_URL_REFUSED', 'the url must not carry credentials (user:password@); receivers verify the signature instead')
    const refused = literalRefusal(url, this.settings.allowPrivate)
    if (refused !== null) throw new GatewayError('GW_ERR_WEBHOOK_URL_REFUSED', `the url is not allowed: ${refused.message}`)
    return url.href
  }

  #view (ep: EndpointRecord): EndpointView {
    const current = ep.secrets[0]
    const previous = ep.secrets.slice(1).find(s => s.expiresAt !== null && Date.parse(s.expiresAt) > this.clock.now())
    return {
      id: ep.id,
      owner: ep.owner,
      url: ep.url,
      description: ep.description,
      eventTypes: ep.eventTypes,
      filter: ep.filter,
      enabled: ep.enabled,
      disabledReason: ep.disabledReason,
      disabledAt: ep.disabledAt,
      createdAt: ep.createdAt,
      updatedAt: ep.updatedAt,
      secretCreatedAt: current?.createdAt ?? ep.createdAt,
      previousSecretExpiresAt: previous?.expiresAt ?? null
    }
  }

  /** The caller's endpoint (an admin's: any); another key's endpoint is a 404 like a missing one. */
  async owned (caller: Caller, id: string): Promise<EndpointRecord> {
    const ep = await this.store.getEndpoint(id)
    // another key's endpoint is as absent as a missing one: ids do not tell who else has endpoints
    if (ep === null || (!caller.admin && ep.owner !== caller.name)) throw new GatewayError('GW_ERR_NOT_FOUND', `no webhook endpoint ${id}`)
    return ep
  }

  async create (caller: Caller, input: EndpointInput): Promise<EndpointView & { secret: string }> {
    const url = this.#checkUrl(input.url)
    const now = iso(this.clock.now())
    const id = `we_${randomBytes(12).toString('base64url')}`
    const secret = newSecret()
    const ep: EndpointRecord = {
      id,
      owner: caller.name,
      url,
      description: input.description ?? null,
      eventTypes: input.eventTypes ?? [],
      filter: input.filter ?? {},
      enabled: input.enabled ?? true,
      disabledReason: null,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
      secrets: [{ sealed: this.#box.seal(secret, id), createdAt: now, expiresAt: null }]
    }
    await this.store.saveEndpoint(ep)
    return { ...this.#view(ep), secret }
  }

  async list (caller: Caller): Promise<EndpointView[]> {
    const all = await this.store.listEndpoints()
    return all.filter(ep => caller.admin || ep.owner === caller.name).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)).map(ep => this.#view(ep))
  }

  async get (caller: Caller, id: string): Promise<EndpointView> { return this.#view(await this.owned(caller, id)) }

  async update (caller: Caller, id: string, patch: Partial<EndpointInput>): Promise<EndpointView> {
    const ep = await this.owned(caller, id)
    if (patch.url !== undefined) ep.url = this.#checkUrl(patch.url)
    if (patch.eventTypes !== undefined) ep.eventTypes = patch.eventTypes
    if (patch.filter !== undefined) ep.filter = patch.filter
    if (patch.description !== undefined) ep.description = patch.description
    if (patch.enabled !== undefined && patch.enabled !== ep.enabled) {
      ep.enabled = patch.enabled
      ep.disabledReason = patch.enabled ? null : 'disabled by its owner'
      ep.disabledAt = patch.enabled ? null : iso(this.clock.now())
      if (patch.enabled) await this.store.clearFailing(id)
    }
    ep.updatedAt = iso(this.clock.now())
    await this.store.saveEndpoint(ep)
    return this.#view(ep)
  }

  async remove (caller: Caller, id: string): Promise<void> {
    await this.owned(caller, id)
    await this.store.deleteEndpoint(id)
  }

  /** A new secret; the old one keeps signing (next to the new one) for `overlapMs`, then stops. */
  async rotate (caller: Caller, id: string, overlapMs: number = this.settings.rotationOverlapMs): Promise<EndpointView & { secret: string }> {
    const ep = await this.owned(caller, id)
    const now = this.clock.now()
    const secret = newSecret()
    const [current] = ep.secrets
    ep.secrets = [
      { sealed: this.#box.seal(secret, id), createdAt: iso(now), expiresAt: null },
      // only the secret being replaced overlaps; one rotated out earlier stops now
      ...(current === undefined || overlapMs === 0 ? [] : [{ ...current, expiresAt: iso(now + overlapMs) }])
    ]
    ep.updatedAt = iso(now)
    await this.store.saveEndpoint(ep)
    return { ...this.#view(ep), secret }
  }

  async deliveries (caller: Caller, id: string, limit: number, eventId?: string): Promise<DeliveryAttempt[]> {
    await this.owned(caller, id)
    const all = await this.store.listAttempts(id, eventId === undefined ? limit : 1000)
    return eventId === undefined ? all : all.filter(a => a.eventId === eventId).slice(0, limit)
  }
}
