/**
 * Standard Webhooks (standardwebhooks.com, "Standard Webhooks specification", section "Signature scheme"):
 * `webhook-id` (the message id, stable across retries), `webhook-timestamp` (integer seconds of the attempt) and
 * `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, several space-separated when more
 * than one secret signs (key rotation). A secret is `whsec_` + base64 of the key bytes; the spec asks for 24–64 bytes.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'

export const SECRET_PREFIX = 'whsec_'
const SECRET_BYTES = 32

export function newSecret (): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64')
}

function keyOf (secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
}

/** The three Standard Webhooks headers for one attempt. `secrets`: every secret that signs now (one, or two in an overlap). */
export function signatureHeaders (id: string, timestampSeconds: number, body: string, secrets: readonly string[]): Record<string, string> {
  const signed = `${id}.${timestampSeconds}.${body}`
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map(s => `v1,${createHmac('sha256', keyOf(s)).update(signed).digest('base64')}`).join(' ')
  }
}

/**
 * Endpoint secrets at rest: AES-256-GCM with WEBHOOK_ENCRYPTION_KEY, a fresh 12-byte nonce per value, the endpoint
 * id as associated data (a ciphertext copied onto another endpoint does not decrypt). Stored as `v1.<nonce>.<tag>.<ct>`.
 */
export class SecretBox {
  readonly #key: Buffer
  constructor (key: Buffer) {
    if (key.length !== 32) throw new TypeError('the webhook encryption key must be 32 bytes')
    this.#key = key
  }

  seal (plaintext: string, context: string): string {
    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce).setAAD(Buffer.from(context))
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return ['v1', nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.')
  }

  open (sealed: string, context: string): string {
    const [v, nonce, tag, ct] = sealed.split('.')
    if (v !== 'v1' || nonce === undefined || tag === undefined || ct === undefined) throw new Error('not a sealed webhook secret')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(nonce, 'base64url')).setAAD(Buffer.from(context))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')
  }
}
