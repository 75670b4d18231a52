/**
 * A loopback RDAP service (RFC 9082 paths, RFC 9083 answers) standing in for the registries and RIRs in the sandbox
 * and the tests. Every name and address gets a record computed from it, so the sandbox's seeded targets all have one:
 * four registrars (one keeps its abuse contact two entities deep, one at the top of the answer), hosting networks at
 * two RIRs, a share of domains on `clientHold` / `serverHold`, and one registry (`.top`, "zdns") that answers a
 * name's first query with 429 and `Retry-After: 30`, and the same name again 30 s later (simulator clock).
 */
import type { Clock } from '../../clock.js'
import { createSimulatorApp, type Simulator } from '../harness.js'

/** FNV-1a: the same name gives the same record on every machine */
function hash (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

const vcard = (props: Array<[string, string, string]>): unknown => ['vcard', [['version', {}, 'text', '4.0'], ...props.map(([name, type, value]) => [name, name === 'tel' ? { type: 'voice' } : {}, type, value])]]

interface Registrar { name: string, ianaId: string, abuseEmail: string, abusePhone: string, layout: 'inside' | 'nested' | 'top' }
export const SIM_REGISTRARS: readonly Registrar[] = [
  { name: 'Example Registrar, Inc.', ianaId: '9991', abuseEmail: 'abuse@example-registrar.example', abusePhone: '+1.5555550101', layout: 'inside' },
  { name: 'Cheapnames LLC', ianaId: '9992', abuseEmail: 'abuse@cheapnames.example', abusePhone: '+1.5555550102', layout: 'nested' },
  { name: 'Registrar of Last Resort GmbH', ianaId: '9993', abuseEmail: 'abuse@lastresort.example', abusePhone: '+49.3055550103', layout: 'top' },
  { name: 'Offshore Domains Ltd', ianaId: '9994', abuseEmail: 'report@offshore-domains.example', abusePhone: '+248.5550104', layout: 'inside' }
]

interface Network { name: string, country: string, asn: number | null, abuseEmail: string, rir: 'arin' | 'ripe' }
export const SIM_NETWORKS: readonly Network[] = [
  { name: 'EXAMPLE-CLOUD-1', country: 'US', asn: 64500, abuseEmail: 'abuse@example-cloud.example', rir: 'arin' },
  { name: 'SHAREDHOST-EU', country: 'DE', asn: null, abuseEmail: 'abuse@sharedhost.example', rir: 'ripe' },
  { name: 'BULLETPROOF-HOSTING-NL', country: 'NL', asn: null, abuseEmail: 'noc@bulletproof.example', rir: 'ripe' },
  { name: 'EDGE-CDN-NET', country: 'US', asn: 64511, abuseEmail: 'abuse@edge-cdn.example', rir: 'arin' }
]

/** registries by TLD: the path each answers under */
const REGISTRIES: Record<string, string[]> = {
  verisign: ['com', 'net', 'cc'],
  centralnic: ['xyz', 'online', 'site'],
  identity: ['info', 'io', 'org'],
  zdns: ['top'],
  nominet: ['uk'],
  google: ['app', 'dev']
}
const THROTTLED_REGISTRY = 'zdns'
const RETRY_AFTER_S = 30

/** the registrar of a domain in the simulator (tests count by it) */
export function simRegistrarOf (domain: string): Registrar {
  return SIM_REGISTRARS[hash(domain.toLowerCase()) % SIM_REGISTRARS.length]!
}

/** the network an address is in: one per /24 */
export function simNetworkOf (ip: string): Network {
  return SIM_NETWORKS[hash(ip.split('.').slice(0, 3).join('.')) % SIM_NETWORKS.length]!
}

/** the simulator's DNS: every host has one address in one of the hosting networks (no real DNS is asked) */
export async function simResolve (host: string): Promise<string[]> {
  const h = hash(host.toLowerCase())
  return [`${[192, 198, 203, 100][h % 4]}.${(h >>> 8) % 256}.${(h >>> 16) % 256}.${1 + (h >>> 24) % 254}`]
}

/** EPP statuses: about one domain in five on clientHold, one in eleven on serverHold */
export function simStatusesOf (domain: string): string[] {
  const h = hash(`status:${domain.toLowerCase()}`)
  if (h % 11 === 0) return ['server hold', 'client transfer prohibited']
  if (h % 5 === 0) return ['client hold', 'client transfer prohibited']
  return ['client transfer prohibited']
}

/** the IANA-style bootstrap files that point every TLD and address at this simulator */
export function simBootstrap (origin: string): { dns: unknown, ipv4: unknown, ipv6: unknown, asn: unknown } {
  const file = (services: Array<[string[], string[]]>): unknown => ({ version: '1.0', publication: '2026-01-01T00:00:00Z', services })
  return {
    dns: file(Object.entries(REGISTRIES).map(([name, tlds]) => [tlds, [`${origin}/registry/${name}/`]])),
    ipv4: file([[['0.0.0.0/1'], [`${origin}/rir/arin/`]], [['128.0.0.0/1'], [`${origin}/rir/ripe/`]]]),
    ipv6: file([[['::/0'], [`${origin}/rir/ripe/`]]]),
    asn: file([[['1-4294967295'], [`${origin}/rir/arin/`]]])
  }
}

function registrarEntity (r: Registrar): unknown {
  const abuse = { objectClassName: 'entity', roles: ['abuse'], vcardArray: vcard([['fn', 'text', 'Abuse desk'], ['email', 'text', r.abuseEmail], ['tel', 'uri', `tel:${r.abusePhone}`]]) }
  const entity: Record<string, unknown> = {
    objectClassName: 'entity',
    handle: r.ianaId,
    roles: ['registrar'],
    publicIds: [{ type: 'IANA Registrar ID', identifier: r.ianaId }],
    vcardArray: vcard([['fn', 'text', r.name]])
  }
  if (r.layout === 'inside') entity.entities = [abuse]
  // two levels down: registrar → its administrative contact → the abuse desk
  if (r.layout === 'nested') entity.entities = [{ objectClassName: 'entity', roles: ['administrative'], vcardArray: vcard([['fn', 'text', 'Registrar operations']]), entities: [abuse] }]
  return { entity, topAbuse: r.layout === 'top' ? abuse : null }
}

export function simDomainRecord (domain: string, now: number): unknown {
  const name = domain.toLowerCase()
  const r = simRegistrarOf(name)
  const { entity, topAbuse } = registrarEntity(r) as { entity: unknown, topAbuse: unknown }
  const created = now - (1 + hash(`age:${name}`) % 400) * 86_400_000
  return {
    rdapConformance: ['rdap_level_0', 'icann_rdap_response_profile_1'],
    objectClassName: 'domain',
    ldhName: name,
    status: simStatusesOf(name),
    events: [
      { eventAction: 'registration', eventDate: new Date(created).toISOString() },
      { eventAction: 'expiration', eventDate: new Date(created + 365 * 86_400_000).toISOString() },
      { eventAction: 'last update of RDAP database', eventDate: new Date(now).toISOString() }
    ],
    entities: topAbuse === null ? [entity] : [entity, topAbuse]
  }
}

export function simIpRecord (ip: string): unknown {
  const n = simNetworkOf(ip)
  const prefix = ip.split('.').slice(0, 3).join('.')
  return {
    rdapConformance: ['rdap_level_0', 'cidr0', ...(n.asn === null ? [] : ['arin_originas0'])],
    objectClassName: 'ip network',
    handle: `NET-${prefix.replaceAll('.', '-')}-0-1`,
    startAddress: `${prefix}.0`,
    endAddress: `${prefix}.255`,
    ipVersion: 'v4',
    name: n.name,
    country: n.country,
    cidr0_cidrs: [{ v4prefix: `${prefix}.0`, length: 24 }],
    ...(n.asn === null ? {} : { arin_originas0_originautnums: [n.asn] }),
    entities: [{
      objectClassName: 'entity',
      roles: ['registrant'],
      vcardArray: vcard([['fn', 'text', `${n.name} operator`]]),
      entities: [{ objectClassName: 'entity', roles: ['abuse'], vcardArray: vcard([['fn', 'text', 'Abuse'], ['email', 'text', n.abuseEmail]]) }]
    }]
  }
}

const notFound = (what: string): unknown => ({ rdapConformance: ['rdap_level_0'], errorCode: 404, title: 'Not Found', description: [what] })

export async function createRdapSimulator (opts: { clock: Clock }): Promise<Simulator> {
  const { app, faults, stats } = createSimulatorApp((status, message) => ({ rdapConformance: ['rdap_level_0'], errorCode: status, title: message, description: [message] }))
  const firstAsked = new Map<string, number>()
  const json = 'application/rdap+json'

  app.get<{ Params: { registry: string, name: string } }>('/registry/:registry/domain/:name', async (req, reply) => {
    const { registry, name } = req.params
    const tld = name.toLowerCase().split('.').pop() ?? ''
    if (REGISTRIES[registry]?.includes(tld) !== true) return await reply.code(404).type(json).send(notFound(`${registry} does not hold .${tld}`))
    if (registry === THROTTLED_REGISTRY) {
      const now = opts.clock.now()
      const first = firstAsked.get(name)
      if (first === undefined) firstAsked.set(name, now)
      if (first === undefined || now - first < RETRY_AFTER_S * 1000) {
        const wait = first === undefined ? RETRY_AFTER_S : Math.ceil((RETRY_AFTER_S * 1000 - (now - first)) / 1000)
        return await reply.code(429).header('retry-after', String(wait)).type(json).send({ errorCode: 429, title: 'Too Many Requests', description: [`retry in ${wait} s`] })
      }
    }
    return await reply.type(json).send(simDomainRecord(name, opts.clock.now()))
  })

  app.get<{ Params: { rir: string, ip: string } }>('/rir/:rir/ip/:ip', async (req, reply) => {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(req.params.ip)) return await reply.code(404).type(json).send(notFound('IPv4 only in the simulator'))
    return await reply.type(json).send(simIpRecord(req.params.ip))
  })

  return { app, faults, stats, basePath: '' }
}
