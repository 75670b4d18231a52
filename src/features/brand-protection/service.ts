/**
 * Brand-protection management: saved domain and logo queries (`/v1/brand-monitors`) and the URL scanner
 * (`/v1/scans`), at the provider whose connector offers them (its `brandProtection` capability object). Every check
 * runs before any vendor call.
 */
import type { CancelSignal } from '../../connectors/deadline.js'
import type { Attachment, BrandMonitor, BrandProtectionApi, ConnectorContext, ScanInfo, ScanSubmission } from '../../connectors/connector.js'
import type { ProviderId } from '../../schemas/provider.js'
import { ConnectorError } from '../../connectors/connector.js'
import { GatewayError } from '../../domain/problems.js'
import type { Logger } from '../../logger.js'
import type { ProviderSet } from '../../services/provider-set.js'

/** the largest logo the gateway forwards (decoded bytes) */
export const MAX_LOGO_BYTES = 5 * 1024 * 1024
export const MAX_SCAN_URLS = 20
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'])

export type MonitorBody =
  | { type: 'domain', tag: string, patterns: string[], scan?: boolean }
  | { type: 'logo', tag: string, similarityThreshold: number, imageData?: string, contentType?: string }

function field (path: string, message: string, status: 'GW_ERR_VALIDATION' | 'GW_ERR_PAYLOAD_TOO_LARGE' = 'GW_ERR_VALIDATION'): GatewayError {
  return new GatewayError(status, `${path}: ${message}`, { errors: [{ path, message }] })
}

/** Base64 (optionally a `data:<type>;base64,` URL) → bytes and type; 400 when it is not base64. */
function decodeImage (data: string, contentType: string | undefined): { data: Buffer, contentType: string } {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(data.trim())
  const b64 = (m?.[2] ?? data).replace(/\s+/g, '')
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw field('/imageData', 'must be base64 (or a data: URL with base64)')
  // size check before decoding a huge string
  if (Math.floor(b64.length * 3 / 4) > MAX_LOGO_BYTES + 3) throw field('/imageData', `the image may be at most ${MAX_LOGO_BYTES} bytes`, 'GW_ERR_PAYLOAD_TOO_LARGE')
  return { data: Buffer.from(b64, 'base64'), contentType: m?.[1] ?? contentType ?? 'image/png' }
}

export class BrandProtectionService {
  readonly #providers: ProviderSet

  constructor (providers: ProviderSet) {
    this.#providers = providers
  }

  async listMonitors (signal: CancelSignal, log: Logger): Promise<BrandMonitor[]> {
    return await this.#call(signal, log, async (api, ctx) => await api.listMonitors(ctx))
  }

  async createMonitor (body: MonitorBody, files: Attachment[], signal: CancelSignal, log: Logger): Promise<BrandMonitor> {
    const tag = body.tag.trim()
    if (tag === '') throw field('/tag', 'must not be empty')
    if (body.type === 'domain') {
      const patterns = body.patterns.map(p => p.trim())
      if (patterns.length === 0) throw field('/patterns', 'needs at least one pattern')
      const blank = patterns.findIndex(p => p === '')
      if (blank >= 0) throw field(`/patterns/${blank}`, 'must not be empty')
      return await this.#call(signal, log, async (api, ctx) => await api.createMonitor({ type: 'domain', tag, patterns, scan: body.scan ?? null }, ctx))
    }
    const t = body.similarityThreshold
    if (!(t >= 0 && t <= 1)) throw field('/similarityThreshold', 'must be between 0 and 1')
    const upload = files.find(f => f.filename !== '')
    if (files.length > 1) throw field('/image', 'send one image')
    let image: { data: Buffer, contentType: string }
    if (upload !== undefined) {
      if (body.imageData !== undefined) throw field('/imageData', 'send the image as a file or as imageData, not both')
      image = { data: upload.data, contentType: upload.contentType }
    } else if (body.imageData !== undefined) {
      image = decodeImage(body.imageData, body.contentType)
    } else {
      throw field('/image', 'a logo query needs an image: a multipart file field `image`, or base64 `imageData`')
    }
    if (image.data.length === 0) throw field('/image', 'the image is empty')
    if (image.data.length > MAX_LOGO_BYTES) throw field('/image', `the image may be at most ${MAX_LOGO_BYTES} bytes (got ${image.data.length})`, 'GW_ERR_PAYLOAD_TOO_LARGE')
    if (!IMAGE_TYPES.has(image.contentType.toLowerCase())) throw field('/image', `must be one of ${[...IMAGE_TYPES].join(', ')}`)
    return await this.#call(signal, log, async (api, ctx) => await api.createMonitor({ type: 'logo', tag, similarityThreshold: t, image }, ctx))
  }

  async deleteMonitor (id: string, signal: CancelSignal, log: Logger): Promise<void> {
    const m = /^(domain|logo):(\d{1,15})$/.exec(id)
    if (m === null) throw new GatewayError('GW_ERR_NOT_FOUND', `No brand monitor ${id}: ids look like domain:<id> or logo:<id>`)
    const { id: provider, api } = this.#provider()
    try {
      await this.#providers.withContext(provider, signal, log, async ctx => { await api.deleteMonitor(m[1] as 'domain' | 'logo', m[2] as string, ctx) })
    } catch (err) {
      if (err instanceof ConnectorError && err.kind === 'not_found') throw new GatewayError('GW_ERR_NOT_FOUND', `${provider} has no ${m[1]} query ${m[2]}`, { provider, providerStatus: err.upstreamStatus })
      throw this.#record(provider, err)
    }
  }

  async submitScans (urls: string[], signal: CancelSignal, log: Logger): Promise<ScanSubmission> {
    const unique = [...new Set(urls.map(u => u.trim()))]
    unique.forEach((u, i) => {
      let ok = false
      try { ok = ['http:', 'https:'].includes(new URL(u).protocol) } catch {}
      if (!ok || u.length > 2083) throw field(`/urls/${i}`, 'must be an http(s) URL of at most 2083 characters')
    })
    if (unique.length === 0) throw field('/urls', 'needs at least one URL')
    return await this.#call(signal, log, async (api, ctx) => await api.submitScans(unique, ctx))
  }

  async scanInfo (query: { urls: string[], scanIds: number[] }, signal: CancelSignal, log: Logger): Promise<ScanInfo[]> {
    if (query.urls.length === 0 && query.scanIds.length === 0) throw field('/url', 'give at least one url or scanId')
    return await this.#call(signal, log, async (api, ctx) => await api.scanInfo(query, ctx))
  }

  /** The provider that is on and offers brand protection; 422 naming the providers that are off when none is. */
  #provider (): { id: ProviderId, api: BrandProtectionApi } {
    for (const e of this.#providers.active()) if (e.connector.brandProtection !== undefined) return { id: e.id, api: e.connector.brandProtection }
    const off = this.#providers.all().filter(e => e.connector === null)
    throw new GatewayError('GW_ERR_UNSUPPORTED', 'No provider that is on offers brand protection in this gateway' +
      (off.length === 0 ? '' : `; one that is off may: to turn it on, ${this.#providers.turnOnHint(off)}`))
  }

  /** One call in the provider's deadline scope; failures are recorded for GET /v1/providers. */
  async #call<T> (signal: CancelSignal, log: Logger, fn: (api: BrandProtectionApi, ctx: ConnectorContext) => Promise<T>): Promise<T> {
    const { id, api } = this.#provider()
    try {
      return await this.#providers.withContext(id, signal, log, async ctx => await fn(api, ctx))
    } catch (err) {
      throw this.#record(id, err)
    }
  }

  #record (provider: ProviderId, err: unknown): unknown {
    if (err instanceof ConnectorError && err.kind !== 'rejected' && err.kind !== 'not_found') this.#providers.recordError(provider, err)
    return err
  }
}
