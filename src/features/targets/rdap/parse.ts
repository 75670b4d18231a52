/**
 * RDAP answers (RFC 9083) read into the facts an analyst asks for. Registries and RIRs differ in what they fill, so
 * every field is optional and a missing one is null, never invented.
 */

export interface AbuseContact { email: string | null, phone: string | null }

export interface DomainFacts {
  name: string
  registrar: { name: string | null, ianaId: string | null, abuse: AbuseContact } | null
  createdAt: string | null
  expiresAt: string | null
  /** EPP status codes (RFC 5731), camelCase: RDAP's `client hold` is `clientHold` (RFC 8056 maps one to the other) */
  statuses: string[]
}

export interface NetworkFacts {
  ip: string
  networkName: string | null
  cidr: string | null
  country: string | null
  asn: number | null
  abuse: AbuseContact
}

interface Entity { roles?: unknown, vcardArray?: unknown, publicIds?: unknown, entities?: unknown }

function record (v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : null
}

function entitiesOf (v: unknown): Entity[] {
  const list = record(v)?.entities
  return Array.isArray(list) ? list.filter((e): e is Entity => record(e) !== null) : []
}

function hasRole (e: Entity, role: string): boolean {
  return Array.isArray(e.roles) && e.roles.some(r => typeof r === 'string' && r.toLowerCase() === role)
}

/** a jCard property (RFC 7095): `[name, params, type, value]` */
function vcardValue (e: Entity, property: string): string | null {
  const card = Array.isArray(e.vcardArray) ? e.vcardArray[1] : undefined
  if (!Array.isArray(card)) return null
  for (const p of card) {
    if (Array.isArray(p) && p[0] === property) {
      const value = p[3]
      if (typeof value === 'string' && value.trim() !== '') return value.trim()
      if (Array.isArray(value) && typeof value[0] === 'string') return value.join(' ').trim() || null
    }
  }
  return null
}

/** the first entity with the role, searched breadth first through nested `entities` (abuse sits one or two levels down) */
function findRole (from: unknown, role: string, depth = 4): Entity | null {
  let level = entitiesOf(from)
  for (let d = 0; d < depth && level.length > 0; d++) {
    const hit = level.find(e => hasRole(e, role))
    if (hit !== undefined) return hit
    level = level.flatMap(e => entitiesOf(e))
  }
  return null
}

function abuseOf (from: unknown): AbuseContact {
  const e = findRole(from, 'abuse')
  if (e === null) return { email: null, phone: null }
  const tel = vcardValue(e, 'tel')
  return { email: vcardValue(e, 'email'), phone: tel === null ? null : tel.replace(/^tel:/i, '') }
}

function eventDate (obj: Record<string, unknown>, action: string): string | null {
  const events = Array.isArray(obj.events) ? obj.events : []
  for (const ev of events) {
    const e = record(ev)
    if (e?.eventAction === action && typeof e.eventDate === 'string') {
      const ms = Date.parse(e.eventDate)
      return Number.isNaN(ms) ? null : new Date(ms).toISOString()
    }
  }
  return null
}

/** `client hold` → `clientHold`, `active` → `active` */
export function eppStatus (rdapStatus: string): string {
  return rdapStatus.trim().toLowerCase().replace(/\s+(\w)/g, (_, c: string) => c.toUpperCase())
}

export function parseDomain (body: unknown, asked: string): DomainFacts {
  const obj = record(body) ?? {}
  const registrar = findRole(obj, 'registrar', 1)
  const ids = Array.isArray(registrar?.publicIds) ? registrar.publicIds : []
  const iana = ids.map(record).find(p => typeof p?.type === 'string' && /iana/i.test(p.type))
  return {
    name: typeof obj.ldhName === 'string' ? obj.ldhName.toLowerCase() : asked,
    registrar: registrar === null
      ? null
      : {
          name: vcardValue(registrar, 'fn'),
          ianaId: iana === undefined || iana === null ? null : String(iana.identifier),
          // ICANN's RDAP profile puts the registrar's abuse contact inside the registrar entity; some registries put it at the top
          abuse: findRole(registrar, 'abuse') !== null ? abuseOf(registrar) : abuseOf(obj)
        },
    createdAt: eventDate(obj, 'registration'),
    expiresAt: eventDate(obj, 'expiration'),
    statuses: Array.isArray(obj.status) ? obj.status.filter((s): s is string => typeof s === 'string').map(eppStatus) : []
  }
}

export function parseNetwork (body: unknown, ip: string): NetworkFacts {
  const obj = record(body) ?? {}
  const cidrs = Array.isArray(obj.cidr0_cidrs) ? obj.cidr0_cidrs.map(record) : []
  const first = cidrs[0]
  const prefix = first == null ? null : (typeof first.v4prefix === 'string' ? first.v4prefix : typeof first.v6prefix === 'string' ? first.v6prefix : null)
  const cidr = prefix !== null && first?.length !== undefined
    ? `${prefix}/${String(first.length)}`
    : typeof obj.startAddress === 'string' && typeof obj.endAddress === 'string' ? `${obj.startAddress} - ${obj.endAddress}` : null
  // ARIN's origin-AS extension; other RIRs do not say (the ASN is then null)
  const origins = Array.isArray(obj.arin_originas0_originautnums) ? obj.arin_originas0_originautnums : []
  const asn = typeof origins[0] === 'number' ? origins[0] : null
  return {
    ip,
    networkName: typeof obj.name === 'string' ? obj.name : null,
    cidr,
    country: typeof obj.country === 'string' ? obj.country : null,
    asn,
    abuse: abuseOf(obj)
  }
}
