/**
 * The signing secret a vendor returned (once) when the gateway registered its webhook endpoint there. It is kept in
 * the KvStore sealed with WEBHOOK_ENCRYPTION_KEY, by the SecretBox that seals outbound webhook endpoint secrets, with
 * `inbound:<provider>` as associated data; the store never holds it in clear.
 *
 * Reading never fails a delivery: a stored value that does not open (sealed under another key) or an unreachable
 * store counts as no stored secret, so deliveries are checked against the configured secrets only. Each such value is
 * logged at warn once per process, not once per delivery. A value an earlier version kept in clear (a JSON array) is
 * still read, with the same single warning; registering again or rotating replaces it with a sealed one.
 */
import type { Logger } from '../../logger.js'
import type { KvStore } from '../../store/kv-store.js'
import { inboundKeys } from '../../store/keys.js'
import { SecretBox } from '../../domain/signing.js'

/** a registered secret is kept until replaced (ten years is "until replaced" for a KvStore that wants a TTL) */
const SECRET_TTL_MS = 10 * 365 * 86_400_000

export class InboundSecrets {
  readonly #store: KvStore
  readonly #box: SecretBox
  /** the stored values already warned about (a handful at most: one per provider and key change) */
  readonly #warned = new Set<string>()

  constructor (store: KvStore, encryptionKey: Buffer) {
    this.#store = store
    this.#box = new SecretBox(encryptionKey)
  }

  /** replaces whatever was kept for this provider (after a rotation the vendor has already revoked the old secret) */
  async save (provider: string, secret: string): Promise<void> {
    await this.#store.set(inboundKeys.secrets(provider), this.#box.seal(secret, context(provider)), { ttlMs: SECRET_TTL_MS })
  }

  /** the kept secret, or none when nothing is kept, the value does not open or the store cannot be read */
  async read (provider: string, log: Logger): Promise<string[]> {
    let raw: string | null
    try {
      raw = await this.#store.get(inboundKeys.secrets(provider))
    } catch {
      return []
    }
    if (raw === null) return []
    if (raw.startsWith('[')) {
      this.#warnOnce(raw, log, { provider }, `the ${provider} webhook secret is stored in clear by an earlier version: register again or rotate it to have it sealed`)
      try {
        const list = JSON.parse(raw) as unknown
        return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : []
      } catch {
        return []
      }
    }
    try {
      return [this.#box.open(raw, context(provider))]
    } catch {
      this.#warnOnce(raw, log, { provider }, `the stored ${provider} webhook secret cannot be opened with this replica's WEBHOOK_ENCRYPTION_KEY: ` +
        'deliveries are checked against the configured secrets only until the key is fixed or the subscription is registered again')
      return []
    }
  }

  #warnOnce (raw: string, log: Logger, fields: Record<string, unknown>, message: string): void {
    if (this.#warned.has(raw)) return
    this.#warned.add(raw)
    log.warn(fields, message)
  }
}

const context = (provider: string): string => `inbound:${provider}`
