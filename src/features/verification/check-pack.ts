/**
 * A stored check in its packed form: a JSON array by position, with no field names, the case id left out (the
 * history key names the case), the time as epoch ms, the outcome as its index, the id and the body digest as base64
 * of their bytes, and the DNS answer, redirects and TLS only when there are any. Unpacked it is exactly the `Check`
 * the API answers. A history entry written before the packed form (a JSON object) still reads as it was.
 */

/** A probe as the API shows it: what was seen, never the page body. */
export interface Check {
  id: string
  caseId: string
  at: string
  outcome: 'live' | 'down' | 'blocked' | 'unknown' | 'unprobeable'
  reason: string
  url: string | null
  dns: { code: string, addresses: string[], cnames: string[] } | null
  redirects: Array<{ url: string, status: number | null }>
  finalStatus: number | null
  tls: { issuer: string | null, validTo: string | null, error: string | null } | null
  bodySha256: string | null
  fingerprint: string | null
  title: string | null
  bytes: number
  durationMs: number
}

const OUTCOMES: ReadonlyArray<Check['outcome']> = ['live', 'down', 'blocked', 'unknown', 'unprobeable']
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const SHA256_HEX = /^[0-9a-f]{64}$/
/** the first element: the packed form's version */
const V1 = 1

type Packed = [
  v: 1, id: string, at: number, outcome: number, reason: string, url: string | null,
  dns: [string, string[], string[]] | 0, redirects: Array<string | number | null>, finalStatus: number | null,
  tls: [string | null, string | null, string | null] | 0, bodySha256: string | null, fingerprint: string | null,
  title: string | null, bytes: number, durationMs: number
]

const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64')
const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex')

function packId (id: string): string { return UUID.test(id) ? b64(id.replaceAll('-', '')) : `=${id}` }
function unpackId (s: string): string {
  if (s.startsWith('=')) return s.slice(1)
  const h = hex(s)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** `at` round-trips only when it is the canonical ISO form (what probes write); another form is kept as text */
function packAt (at: string): number | string {
  const ms = Date.parse(at)
  return Number.isFinite(ms) && new Date(ms).toISOString() === at ? ms : at
}

export function packCheck (c: Check): string {
  const packed: Array<Packed[number]> = [
    V1, packId(c.id), packAt(c.at) as number, OUTCOMES.indexOf(c.outcome), c.reason, c.url,
    c.dns === null ? 0 : [c.dns.code, c.dns.addresses, c.dns.cnames],
    c.redirects.flatMap(r => [r.url, r.status]),
    c.finalStatus,
    c.tls === null ? 0 : [c.tls.issuer, c.tls.validTo, c.tls.error],
    c.bodySha256 !== null && SHA256_HEX.test(c.bodySha256) ? b64(c.bodySha256) : c.bodySha256 === null ? null : `=${c.bodySha256}`,
    c.fingerprint, c.title, c.bytes, c.durationMs
  ]
  return JSON.stringify(packed)
}

export function unpackCheck (caseId: string, raw: string): Check {
  const p = JSON.parse(raw) as Packed | Check
  if (!Array.isArray(p)) return p
  const [, id, at, outcome, reason, url, dns, redirects, finalStatus, tls, body, fingerprint, title, bytes, durationMs] = p
  const hops: Check['redirects'] = []
  for (let i = 0; i + 1 < redirects.length; i += 2) hops.push({ url: redirects[i] as string, status: redirects[i + 1] as number | null })
  return {
    id: unpackId(id),
    caseId,
    at: typeof at === 'number' ? new Date(at).toISOString() : at,
    outcome: OUTCOMES[outcome] ?? 'unknown',
    reason,
    url,
    dns: dns === 0 ? null : { code: dns[0], addresses: dns[1], cnames: dns[2] },
    redirects: hops,
    finalStatus,
    tls: tls === 0 ? null : { issuer: tls[0], validTo: tls[1], error: tls[2] },
    bodySha256: body === null ? null : body.startsWith('=') ? body.slice(1) : hex(body),
    fingerprint,
    title,
    bytes,
    durationMs
  }
}
