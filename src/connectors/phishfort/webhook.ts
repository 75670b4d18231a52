/**
 * PhishFort webhook deliveries (PhishFort's "Webhooks" docs page, as summarised in the unofficial phishfort-mcp
 * reference): `X-PhishFort-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + rawBody)>`, computed over the
 * raw bytes; `X-PhishFort-Timestamp`; `X-PhishFort-Delivery-Id`; an answer within 5 s. The timestamp's unit is not
 * documented: seconds, milliseconds and RFC 3339 are all read. The payload is not documented either: only an incident
 * id is taken from it, and the incident itself is always re-read from the API. Only the vendor's format lives here:
 * which secrets count, replay protection and the route are the generic inbound code (features/events/inbound-routes.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { InboundVerdict } from '../provider-module.js'

export const SIGNATURE_TOLERANCE_MS = 5 * 60_000

export function phishfortSignature (secret: string, timestamp: string, rawBody: Buffer | string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')
}

/** epoch ms of a delivery timestamp (seconds, milliseconds or RFC 3339), NaN when unreadable */
export function timestampMs (raw: string): number {
  if (/^\d{1,13}$/.test(raw)) {
    const n = Number(raw)
    return n < 1e11 ? n * 1000 : n
  }
  return Date.parse(raw)
}

export function verifyPhishfort (headers: { signature?: string | undefined, timestamp?: string | undefined }, rawBody: Buffer, secrets: readonly string[], now: number): InboundVerdict {
  const { signature, timestamp } = headers
  if (secrets.length === 0) return { ok: false, outcome: 'bad_signature', reason: 'no PhishFort webhook secret is configured (PHISHFORT_WEBHOOK_SECRETS)' }
  if (signature === undefined || timestamp === undefined) return { ok: false, outcome: 'bad_signature', reason: 'X-PhishFort-Signature and X-PhishFort-Timestamp are required' }
  const at = timestampMs(timestamp)
  if (Number.isNaN(at)) return { ok: false, outcome: 'bad_signature', reason: 'X-PhishFort-Timestamp is not a time' }
  const presented = Buffer.from(signature)
  // every secret is tried (the current one and the one being rotated), in constant time each
  let match = false
  for (const secret of secrets) {
    const expected = Buffer.from(phishfortSignature(secret, timestamp, rawBody))
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) match = true
  }
  if (!match) return { ok: false, outcome: 'bad_signature', reason: 'the signature does not match' }
  if (Math.abs(now - at) > SIGNATURE_TOLERANCE_MS) return { ok: false, outcome: 'stale', reason: 'X-PhishFort-Timestamp is more than 5 minutes away from now' }
  return { ok: true }
}

/** The incident id of a delivery, wherever the (undocumented) payload keeps it; null when none is found. */
export function incidentIdOf (payload: unknown): string | null {
  const look = (o: unknown, names = ['incidentId', 'incident_id', 'id']): string | null => {
    if (o === null || typeof o !== 'object') return null
    const r = o as Record<string, unknown>
    for (const k of names) {
      const v = r[k]
      if (typeof v === 'string' && /^[\w-]{1,128}$/.test(v)) return v
    }
    return null
  }
  const p = payload as Record<string, unknown> | null
  return look(p?.data) ?? look(p?.incident) ?? look((p?.data as Record<string, unknown> | undefined)?.incident) ??
    // a top-level `id` is more likely the delivery's own
    look(p, ['incidentId', 'incident_id'])
}
