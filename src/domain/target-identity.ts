/**
 * The normalised identity of a target, the same on every vendor: the host (lower-case, IDN as ASCII, no trailing dot,
 * IP literals as the address), its Unicode form for display, its registrable domain and public suffix (tldts, which
 * ships the Public Suffix List: no network), and a canonical URL.
 *
 * Private suffixes count (`allowPrivateDomains`): `foo.github.io` is its own registrable domain, because whoever
 * registered `foo` on GitHub Pages is the one a takedown is about, not GitHub. RDAP asks the ICANN registry instead,
 * so `icannDomainOf` gives the registry's domain (`github.io`).
 */
import { domainToUnicode } from 'node:url'
import { isIP } from 'node:net'
import { getDomain, getPublicSuffix, parse } from 'tldts'
import type { TargetType } from '../schemas/common.js'

/**
 * Query parameters that only say where a click came from: a canonical URL drops them. Any `utm_*` parameter, and the
 * click ids of the big ad and mail platforms. Parameters not listed here are kept (they may select the page).
 */
export const TRACKING_PARAMS: ReadonlySet<string> = new Set([
  'gclid', 'gbraid', 'wbraid', 'dclid', 'gclsrc', 'fbclid', 'msclkid', 'yclid', 'twclid', 'ttclid', 'li_fat_id', 'igshid',
  'mc_cid', 'mc_eid', '_ga', '_gl', '_hsenc', '_hsmi', 'mkt_tok', 'srsltid', 'oly_anon_id', 'oly_enc_id', 'vero_id', 'rb_clickid'
])

export function isTrackingParam (name: string): boolean {
  const n = name.toLowerCase()
  return n.startsWith('utm_') || TRACKING_PARAMS.has(n)
}

export interface TargetIdentity {
  /** lower-case, IDN as ASCII (punycode), no trailing dot; an IP literal is the address (IPv6 without brackets) */
  host: string | null
  /** the host for display: IDN labels in Unicode */
  hostUnicode: string | null
  /** the registrable domain (public suffix + one label; private suffixes count), null for IP literals */
  registrableDomain: string | null
  publicSuffix: string | null
  /** URL targets: scheme and host lower-case, default port, fragment and tracking parameters removed */
  canonicalUrl: string | null
}

const NONE: Readonly<TargetIdentity> = Object.freeze({ host: null, hostUnicode: null, registrableDomain: null, publicSuffix: null, canonicalUrl: null })

function parseHttpUrl (value: string): URL | null {
  try {
    const u = new URL(value.trim())
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null
  } catch {
    return null
  }
}

/** The URL without fragment and tracking parameters, its host without a trailing dot; null when it is no http(s) URL. */
export function canonicalUrlOf (value: string): string | null {
  return canonicalUrl(value)?.toString() ?? null
}

/** canonicalUrlOf as the URL object (identifyTarget reads its host from it: one parse a case) */
function canonicalUrl (value: string): URL | null {
  const u = parseHttpUrl(value)
  if (u === null || u.hostname === '') return null
  if (u.hash !== '') u.hash = ''
  if (u.hostname.endsWith('.')) u.hostname = u.hostname.replace(/\.+$/, '')
  // most targets have no query: the parameters are only looked at when there is one
  if (u.search !== '') {
    for (const name of [...u.searchParams.keys()]) if (isTrackingParam(name)) u.searchParams.delete(name)
    // an emptied query leaves no lone "?"
    if (u.searchParams.size === 0) u.search = ''
  }
  return u
}

/** A bare host (domain name or IP literal) in its normalised form, or null when it is not one. */
export function normaliseHost (value: string): string | null {
  const v = value.trim()
  if (v === '') return null
  const bracketed = v.startsWith('[') ? v : v.includes(':') ? `[${v}]` : v
  const u = parseHttpUrl(`http://${bracketed}/`)
  if (u === null || u.hostname === '' || u.port !== '' || u.username !== '') return null
  return hostOf(u)
}

function hostOfUrl (value: string): string | null {
  const u = parseHttpUrl(value)
  return u === null ? null : hostOf(u)
}

function hostOf (u: URL): string {
  const h = u.hostname.replace(/\.+$/, '')
  return h.startsWith('[') ? h.slice(1, -1) : h
}

/**
 * The host is normalised already: tldts need not look for one in it. getDomain and getPublicSuffix fill a result
 * object tldts keeps, where parse() allocates one a call (every case of every listing and export goes through here).
 */
const PARSE_HOST = { allowPrivateDomains: true, extractHostname: false, mixedInputs: false } as const

function identityOfHost (host: string, canonicalUrl: string | null): TargetIdentity {
  if (isIP(host) !== 0) return { host, hostUnicode: host, registrableDomain: null, publicSuffix: null, canonicalUrl }
  // only a host with punycode labels reads differently in Unicode
  const unicode = host.includes('xn--') ? domainToUnicode(host) : host
  return {
    host,
    hostUnicode: unicode === '' ? host : unicode,
    registrableDomain: getDomain(host, PARSE_HOST),
    publicSuffix: getPublicSuffix(host, PARSE_HOST),
    canonicalUrl
  }
}

/**
 * Identities computed, by type and value: every listing maps the same targets again (a URL parse, a public-suffix
 * lookup and an IDN conversion each), so each is computed once while it is among the most recent few thousand.
 */
const IDENTITIES = new Map<string, Readonly<TargetIdentity>>()
const IDENTITIES_MAX = 5000

/** The identity of a target; email and phone targets have none. The object is shared: read it, spread it, never change it. */
export function identifyTarget (type: TargetType, value: string): Readonly<TargetIdentity> {
  if (type !== 'url' && type !== 'social' && type !== 'domain' && type !== 'ipv4') return NONE
  const key = type + '\0' + value
  let id = IDENTITIES.get(key)
  if (id === undefined) {
    id = Object.freeze(computeIdentity(type, value))
    if (IDENTITIES.size >= IDENTITIES_MAX) IDENTITIES.clear()
    IDENTITIES.set(key, id)
  }
  return id
}

function computeIdentity (type: TargetType, value: string): TargetIdentity {
  switch (type) {
    case 'url':
    case 'social': {
      const canonical = canonicalUrl(value)
      if (canonical === null) return NONE
      return identityOfHost(hostOf(canonical), canonical.toString())
    }
    case 'domain':
    case 'ipv4': {
      // a vendor may keep a domain target as a URL
      const host = normaliseHost(value) ?? hostOfUrl(value)
      return host === null ? NONE : identityOfHost(host, null)
    }
    default:
      return NONE
  }
}

/** The domain the ICANN registry holds (private suffixes do not count): what RDAP is asked about. */
export function icannDomainOf (host: string): string | null {
  const p = parse(host, { allowPrivateDomains: false })
  return p.isIp === true ? null : p.domain
}

export function isIpLiteral (host: string): boolean {
  return parse(host).isIp === true
}

/** The key two targets share when they are the same thing: the canonical URL, else the host, else the trimmed value. */
export function targetKey (type: TargetType, value: string): string {
  const id = identifyTarget(type, value)
  if (type === 'email') return value.trim().toLowerCase()
  return id.canonicalUrl ?? id.host ?? value.trim()
}

/**
 * A mapped case target with its identity fields set (every vendor's mapper ends with this). Built as one object
 * literal with the fields in a fixed order, so every case's target has the same hidden class: a copy of the vendor's
 * target with the identity assigned onto it gave each a chain of shape transitions and out-of-object property
 * storage, which made an export of 10,000 cases peak about 10 MB higher (test/app/export-memory.test.ts).
 */
export function withIdentity<T extends { type: TargetType, value: string, domain: string | null, submitted?: string }> (target: T): T & TargetIdentity {
  const id = identifyTarget(target.type, target.value)
  const { type, value, domain, submitted } = target
  const out = submitted === undefined
    ? { type, value, domain, host: id.host, hostUnicode: id.hostUnicode, registrableDomain: id.registrableDomain, publicSuffix: id.publicSuffix, canonicalUrl: id.canonicalUrl }
    : { type, value, domain, host: id.host, hostUnicode: id.hostUnicode, registrableDomain: id.registrableDomain, publicSuffix: id.publicSuffix, canonicalUrl: id.canonicalUrl, submitted }
  return out as T & TargetIdentity
}
