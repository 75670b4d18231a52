/** Parsers of the settings whose values have a shape of their own (keys, proxies, origins, routing, schedules). */
import { isIP } from 'node:net'
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs'
import { TARGET_TYPES, type TargetType } from '../schemas/common.js'
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { parseSchedule } from '../domain/retry-schedule.js'
import { checkPolicy, NO_SLA_POLICY, type SlaPolicy } from '../domain/sla-policy.js'
import type { HostPort } from '../store/redis-kv-store.js'
import { ROUTING_STRATEGIES, type RoutingStrategy } from '../services/routing.js'
import type { ParseContext, Spec } from './setting.js'

export const SCOPES = ['read', 'write', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

export interface ApiKey { name: string, secret: string, scopes: ReadonlySet<Scope> }

/** a gateway key outside sandbox mode: 22 base64url characters are 128 bits, too many to guess through the API */
export const MIN_KEY_LENGTH = 22

/** A parser as a setting spec (the rest of the declaration added by the caller). */
export function custom<T, S extends Omit<Spec<T>, 'parse'>> (parse: (raw: string, ctx: ParseContext) => T | undefined, spec: S): S & Spec<T> {
  return { ...spec, parse }
}

/** GATEWAY_API_KEYS: `name:secret[:scope+scope]`, comma-separated; a secret is named by its key's name only. */
export function parseApiKeys (raw: string, ctx: ParseContext): ApiKey[] | undefined {
  const keys: ApiKey[] = []
  const names = new Set<string>()
  let bad = false
  const problem = (m: string): void => { bad = true; ctx.problem(m) }
  for (const [i, entry] of raw.split(',').map(s => s.trim()).filter(s => s !== '').entries()) {
    const [name, secret, scopeList, ...rest] = entry.split(':')
    if (name === undefined || name === '' || secret === undefined || secret === '' || rest.length > 0) {
      problem(`GATEWAY_API_KEYS entry ${i + 1} must be name:secret[:scope+scope]`)
      continue
    }
    if (!ctx.sandbox && secret.length < MIN_KEY_LENGTH) {
      problem(`GATEWAY_API_KEYS entry "${name}": the secret has ${secret.length} characters; outside sandbox mode it must have at least ` +
        `${MIN_KEY_LENGTH} (128 bits as base64url, e.g. node -e "console.log(crypto.randomBytes(16).toString('base64url'))")`)
    } else if (secret.length < 8 && name !== 'sandbox') problem(`GATEWAY_API_KEYS entry "${name}": the secret must be at least 8 characters`)
    if (names.has(name)) problem(`GATEWAY_API_KEYS: the name "${name}" appears twice`)
    names.add(name)
    const scopes = scopeList === undefined || scopeList === '' ? ['read', 'write'] : scopeList.split('+')
    const unknown = scopes.filter(s => !(SCOPES as readonly string[]).includes(s))
    if (unknown.length > 0) problem(`GATEWAY_API_KEYS entry "${name}": unknown scope ${unknown.join(', ')} (allowed: ${SCOPES.join(', ')})`)
    keys.push({ name, secret, scopes: new Set(scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s))) })
  }
  if (keys.length === 0 && !bad) problem('GATEWAY_API_KEYS has no entries')
  return bad ? undefined : keys
}

/** proxy-addr's names for address ranges (Fastify's `trustProxy` takes them like addresses) */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal']

/** TRUST_PROXY: a hop count, or addresses / CIDRs / range names of the trusted proxies; `true` (trust anyone) is refused. */
export function parseTrustProxy (raw: string, ctx: ParseContext): false | number | string[] | undefined {
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw)
    if (hops <= 10) return hops === 0 ? false : hops
    ctx.problem(`TRUST_PROXY as a hop count must be from 0 to 10 (got "${raw}")`)
    return undefined
  }
  const entries = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  const bad = entries.filter(e => {
    if (PROXY_RANGES.includes(e)) return false
    const [address, bits, ...rest] = e.split('/')
    const family = isIP(address ?? '')
    if (family === 0 || rest.length > 0) return true
    return bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
  })
  if (bad.length > 0 || entries.length === 0) {
    ctx.problem(`TRUST_PROXY must be a hop count or comma-separated proxy addresses, CIDRs or ${PROXY_RANGES.join('/')} (got "${raw}"): ` +
      (['true', 'yes', '*'].includes(raw.toLowerCase()) ? 'trusting every sender would let any client choose the address it is counted under' : `not one: ${bad.join(', ')}`))
    return undefined
  }
  return entries
}

/** CORS_ORIGINS: `*`, or origins (scheme://host[:port], nothing after it). */
export function parseOrigins (raw: string, ctx: ParseContext): string[] | undefined {
  const origins = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  if (origins.includes('*')) return ['*']
  let bad = false
  for (const origin of origins) {
    let ok = false
    try { ok = /^https?:$/.test(new URL(origin).protocol) && new URL(origin).origin === origin.replace(/\/$/, '') } catch {}
    if (!ok) {
      bad = true
      ctx.problem(`CORS_ORIGINS: "${origin}" is not an origin like https://soc.acme.example (scheme, host and port only) or *`)
    }
  }
  return bad ? undefined : origins.map(o => o.replace(/\/$/, ''))
}

/** HOST: an IP address or a host name (a dotted-number HOST must be IPv4: 999.1.1.1 would fail only at listen, as a DNS error). */
export function parseHost (raw: string, ctx: ParseContext): string | undefined {
  if (isIP(raw) !== 0 || (!/^[\d.]+$/.test(raw) && /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(raw))) return raw
  ctx.problem(`HOST must be an IP address or a host name of this machine (got "${raw}")`)
  return undefined
}

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:26379`). */
export function parseHostPorts (name: string, raw: string, problems: string[]): HostPort[] {
  const out: HostPort[] = []
  for (const entry of raw.split(',').map(s => s.trim()).filter(s => s !== '')) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+)):(\d{1,5})$/.exec(entry)
    const port = Number(m?.[3])
    if (m === null || port < 1 || port > 65535) {
      problems.push(`${name}: "${entry}" is not host:port`)
      continue
    }
    out.push({ host: m[1] ?? m[2] ?? '', port })
  }
  if (out.length === 0 && !problems.some(p => p.startsWith(name))) problems.push(`${name} has no host:port entries`)
  return out
}

/**
 * Routing rules: per target type, the providers a create that names none tries in order, how they are ordered
 * (`strategy`), and the companions (`also`) that get the same target after the first create succeeds (a "block
 * while the takedown runs" rule).
 */
export interface RoutingRules {
  order: Record<TargetType, ProviderId[]>
  also: Record<TargetType, ProviderId[]>
  strategy: Record<TargetType, RoutingStrategy>
}

const providerList = (v: unknown, empty: boolean): v is ProviderId[] =>
  Array.isArray(v) && (empty || v.length > 0) && v.every(p => typeof p === 'string' && isProviderId(p))

const RULE_FIELDS = ['strategy', 'providers', 'also']

/**
 * ROUTING_RULES: a JSON object (or @file) of target type → a provider list, or
 * `{"strategy": "order"|"measured", "providers": [...], "also": [...]}`; the types it names replace the defaults
 * (`defaults`, the sandbox's when the gateway runs in sandbox mode).
 */
export function parseRouting (defaults: RoutingRules, sandboxDefaults: RoutingRules = defaults) {
  return (raw: string, ctx: ParseContext): RoutingRules | undefined => {
    const base = ctx.sandbox ? sandboxDefaults : defaults
    const rules: RoutingRules = { order: { ...base.order }, also: { ...base.also }, strategy: { ...base.strategy } }
    let parsed: unknown
    try {
      parsed = JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw)
    } catch (err) {
      ctx.problem(`ROUTING_RULES is not valid JSON (or its file cannot be read): ${(err as Error).message}`)
      return undefined
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      ctx.problem('ROUTING_RULES must be a JSON object of target type → provider list')
      return undefined
    }
    const names = PROVIDER_IDS.join(', ')
    for (const [type, rule] of Object.entries(parsed)) {
      if (!(TARGET_TYPES as readonly string[]).includes(type)) {
        ctx.problem(`ROUTING_RULES: unknown target type "${type}" (allowed: ${TARGET_TYPES.join(', ')})`)
        continue
      }
      const t = type as TargetType
      if (Array.isArray(rule)) {
        if (providerList(rule, false)) {
          rules.order[t] = rule
          rules.also[t] = []
          rules.strategy[t] = 'order'
        } else ctx.problem(`ROUTING_RULES.${type} must be a non-empty list of ${names}`)
        continue
      }
      if (typeof rule !== 'object' || rule === null) {
        ctx.problem(`ROUTING_RULES.${type} must be a provider list or {"strategy": "order"|"measured", "providers": [...], "also": [...]}`)
        continue
      }
      const { strategy, providers, also, ...rest } = rule as Record<string, unknown>
      const extra = Object.keys(rest)
      if (extra.length > 0) ctx.problem(`ROUTING_RULES.${type}: unknown field(s) ${extra.join(', ')} (allowed: ${RULE_FIELDS.join(', ')})`)
      else if (strategy !== undefined && !(ROUTING_STRATEGIES as readonly unknown[]).includes(strategy)) {
        ctx.problem(`ROUTING_RULES.${type}.strategy must be one of ${ROUTING_STRATEGIES.join(', ')} (got ${JSON.stringify(strategy)})`)
      } else if (!providerList(providers, false)) ctx.problem(`ROUTING_RULES.${type}.providers must be a non-empty list of ${names}`)
      else if (also !== undefined && !providerList(also, true)) ctx.problem(`ROUTING_RULES.${type}.also must be a list of ${names}`)
      else {
        rules.order[t] = providers
        rules.also[t] = [...new Set(also ?? [])]
        rules.strategy[t] = (strategy ?? 'order') as RoutingStrategy
      }
    }
    return rules
  }
}

/** no companions for any target type */
export const noCompanions = (): Record<TargetType, ProviderId[]> =>
  Object.fromEntries(TARGET_TYPES.map(t => [t, []])) as unknown as Record<TargetType, ProviderId[]>

/** the strategy of every target type: `order` */
export const orderedRouting = (): Record<TargetType, RoutingStrategy> =>
  Object.fromEntries(TARGET_TYPES.map(t => [t, 'order'])) as unknown as Record<TargetType, RoutingStrategy>

/** Routing as the docs write it: `social: a; url, domain: b, a (also c)`; a measured rule reads `url: b, a (measured)`. */
export function showRouting (rules: RoutingRules): string {
  const byList = new Map<string, string[]>()
  for (const type of TARGET_TYPES) {
    const also = rules.also[type]
    const notes = [...(rules.strategy[type] === 'measured' ? ['measured'] : []), ...(also.length > 0 ? [`also ${also.join(', ')}`] : [])]
    const list = rules.order[type].join(', ') + (notes.length > 0 ? ` (${notes.join('; ')})` : '')
    if (list !== '') byList.set(list, [...byList.get(list) ?? [], type])
  }
  return [...byList].map(([list, types]) => `${types.join(', ')}: ${list}`).join('; ')
}

/** WEBHOOK_RETRY_SCHEDULE: `0,5s,5m,2h` → ms. */
export function parseRetrySchedule (raw: string, ctx: ParseContext): number[] | undefined {
  const schedule = parseSchedule(raw)
  if (schedule === null) ctx.problem(`${ctx.name} must be comma-separated waits such as 0,5s,5m,2h (got "${raw}")`)
  return schedule ?? undefined
}

/** ms → `0,5s,5m,30m,2h` (the largest whole unit of each wait). */
export function showSchedule (ms: readonly number[]): string {
  return ms.map(w => w === 0 ? '0' : w % 3_600_000 === 0 ? `${w / 3_600_000}h` : w % 60_000 === 0 ? `${w / 60_000}m` : w % 1000 === 0 ? `${w / 1000}s` : `${w}ms`).join(',')
}

/** A share from 0 to 1. */
export function parseShare (raw: string, ctx: ParseContext): number | undefined {
  const n = Number(raw)
  if (n >= 0 && n <= 1) return n
  ctx.problem(`${ctx.name} must be a number from 0 to 1 (got "${raw}")`)
  return undefined
}

/** A 32-byte key as 64 hex digits or base64; never quoted back. */
export function parseKey32 (raw: string, ctx: ParseContext): Buffer | undefined {
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64')
  if (key.length === 32) return key
  ctx.problem(`${ctx.name} must be 32 bytes: 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`)
  return undefined
}

/** Comma-separated signing secrets: at most two (the current one and the one being rotated), each at least 16 characters. */
export function parseSigningSecrets (raw: string, ctx: ParseContext): string[] | undefined {
  const secrets = raw.split(',').map(x => x.trim()).filter(x => x !== '')
  let ok = true
  if (secrets.length > 2) { ok = false; ctx.problem(`${ctx.name} takes at most two secrets (the current one and the one being rotated)`) }
  if (secrets.some(x => x.length < 16)) { ok = false; ctx.problem(`${ctx.name}: each secret must be at least 16 characters`) }
  return ok ? secrets : undefined
}

/** Comma-separated IP addresses (DNS servers). */
export function parseDnsServers (raw: string, ctx: ParseContext): string[] | undefined {
  const list = raw.split(',').map(x => x.trim()).filter(x => x !== '')
  // an address, or one with a port as node:dns takes it (`127.0.0.1:5353`, `[::1]:5353`): a local resolver on its own port
  const withPort = /^(?:\[([^\]]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/
  const ok = (x: string): boolean => {
    if (isIP(x) !== 0) return true
    const m = withPort.exec(x)
    const host = m?.[1] ?? m?.[2]
    const port = Number(m?.[3])
    return host !== undefined && isIP(host) !== 0 && port >= 1 && port <= 65535
  }
  const bad = list.filter(x => !ok(x))
  if (bad.length === 0) return list
  ctx.problem(`${ctx.name}: ${bad.map(x => `"${x}"`).join(', ')} ${bad.length === 1 ? 'is not an IP address' : 'are not IP addresses'} (with an optional :port)`)
  return undefined
}

/** An http:// or https:// proxy URL. */
export function parseProxyUrl (raw: string, ctx: ParseContext): string | undefined {
  if (/^https?:\/\/[^\s]+$/.test(raw)) return raw
  ctx.problem(`${ctx.name} must be an http:// or https:// proxy URL`)
  return undefined
}

/** One wait of at least a second: ms, or with a unit (`10m`). */
export function parseOneWait (raw: string, ctx: ParseContext): number | undefined {
  const waits = parseSchedule(raw)
  if (waits?.length === 1 && (waits[0] ?? 0) >= 1000) return waits[0]
  ctx.problem(`${ctx.name} must be one wait of at least 1s, such as 10m (got "${raw}")`)
  return undefined
}

/** The path of a file this process can read (its content is checked where it is loaded). */
export function parseReadableFile (raw: string, ctx: ParseContext): string | undefined {
  try {
    accessSync(raw, fsConstants.R_OK)
    return raw
  } catch {
    ctx.problem(`${ctx.name}: cannot read the file "${raw}"`)
    return undefined
  }
}

/** An http:// or https:// URL. */
export function parseHttpUrl (raw: string, ctx: ParseContext): string | undefined {
  if (/^https?:\/\/[^\s]+$/.test(raw)) return raw
  ctx.problem(`${ctx.name} must be an http(s) URL (got "${raw}")`)
  return undefined
}

/** SLA_POLICY_FILE: a JSON file of service-level rules, checked whole (every typo in one report), or `none`. */
export function parseSlaPolicyFile (raw: string, ctx: ParseContext): SlaPolicy | undefined {
  if (raw === 'none') return NO_SLA_POLICY
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(raw, 'utf8'))
  } catch (err) {
    ctx.problem(`${ctx.name}: "${raw}" cannot be read as JSON: ${(err as Error).message}`)
    return undefined
  }
  const { policy, problems } = checkPolicy(doc, raw)
  for (const p of problems) ctx.problem(`${ctx.name} ${raw}: ${p}`)
  return problems.length > 0 ? undefined : policy
}

export const showSlaPolicy = (p: SlaPolicy): string => p.origin === 'none' ? 'none' : `the ${p.origin} (${p.rules.length} rules)`
