/**
 * The SSRF guard of outbound webhooks: a receiver URL must never make the gateway call into the network it runs in.
 * The check runs at connect time, inside an undici connector, on the address the socket is about to use: a host name
 * is resolved by our own `lookup` (every answer checked, so DNS rebinding between registration and delivery does not
 * help), and a bare IP literal, which never reaches `lookup`, is checked before the connector runs at all.
 * Registration already refuses literal forbidden addresses (`literalRefusal`).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { buildConnector } from 'undici'

/** Why an address is refused; `private` ranges are allowed by WEBHOOK_ALLOW_PRIVATE, the others never. */
export type AddressClass = 'loopback' | 'private' | 'link-local' | 'cgnat' | 'metadata' | 'multicast' | 'unspecified' | 'reserved'

const ALLOWED_WHEN_PRIVATE: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'link-local', 'cgnat'])

/** [class, network, prefix length]; the first match wins, so the metadata addresses sit before their ranges. */
const RANGES: ReadonlyArray<readonly [AddressClass, string, number]> = [
  // cloud metadata services: AWS/GCP/Azure/OpenStack 169.254.169.254, AWS IPv6 fd00:ec2::254, Alibaba 100.100.100.200
  ['metadata', '169.254.169.254', 32],
  ['metadata', 'fd00:ec2::254', 128],
  ['metadata', '100.100.100.200', 32],
  ['unspecified', '0.0.0.0', 8],
  ['loopback', '127.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['cgnat', '100.64.0.0', 10],
  ['link-local', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['reserved', '192.0.0.0', 24],
  ['reserved', '192.0.2.0', 24],
  ['private', '192.168.0.0', 16],
  ['reserved', '198.18.0.0', 15],
  ['reserved', '198.51.100.0', 24],
  ['reserved', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4],
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['private', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['multicast', 'ff00::', 8],
  ['reserved', '2001:db8::', 32],
  ['reserved', '100::', 64]
]

const LISTS = RANGES.map(([cls, net, prefix]) => {
  const list = new BlockList()
  const family = isIP(net) === 4 ? 'ipv4' : 'ipv6'
  list.addSubnet(net, prefix, family)
  return { cls, list, family } as const
})

/** The 8 groups of an IPv6 address (a trailing dotted IPv4 part becomes two groups); null when not IPv6. */
function ipv6Groups (addr: string): number[] | null {
  if (isIP(addr) !== 6) return null
  let text = addr.split('%')[0] ?? addr
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number)
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0')
  return [...h, ...fill, ...t].map(g => parseInt(g, 16))
}

/**
 * The IPv4 address an IPv6 address carries, for the forms that reach an IPv4 host: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::/96).
 */
function embeddedIpv4 (addr: string): string | null {
  const g = ipv6Groups(addr)
  if (g === null) return null
  const zeros = (n: number): boolean => g.slice(0, n).every(x => x === 0)
  const mapped = zeros(5) && g[5] === 0xffff
  const compatible = zeros(6) && (g[6] ?? 0) !== 0
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every(x => x === 0)
  if (!mapped && !compatible && !nat64) return null
  const hi = g[6] ?? 0
  const lo = g[7] ?? 0
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
}

/** The class of a forbidden address, or null for a public one. Input: an IP address (no brackets). */
export function classifyAddress (addr: string): AddressClass | null {
  const family = isIP(addr)
  if (family === 0) return null
  const v4 = family === 6 ? embeddedIpv4(addr) : addr
  const [ip, fam] = v4 !== null ? [v4, 'ipv4' as const] : [addr.split('%')[0] ?? addr, 'ipv6' as const]
  for (const { cls, list, family: f } of LISTS) if (f === fam && list.check(ip, fam)) return cls
  return null
}

export interface GuardOptions {
  /** WEBHOOK_ALLOW_PRIVATE: loopback, private, link-local and CGNAT pass (metadata, multicast, unspecified never do) */
  allowPrivate: boolean
  /** the resolver; tests inject one whose answer is loopback */
  lookup?: LookupFunction
}

/** An address the guard refused: the delivery attempt records `reason`. */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError'
  readonly code = 'WEBHOOK_ADDRESS_REFUSED'
  constructor (readonly host: string, readonly address: string, readonly addressClass: AddressClass) {
    const a = /^[aeiou]/.test(addressClass) ? 'an' : 'a'
    super(host === address
      ? `refused: ${address} is ${a} ${addressClass} address`
      : `refused: ${host} resolves to ${address}, ${a} ${addressClass} address`)
  }
}

/** The refusal for one resolved or literal address, or null when it may be used. */
export function refusal (host: string, address: string, allowPrivate: boolean): AddressRefusedError | null {
  const cls = classifyAddress(address)
  if (cls === null || (allowPrivate && ALLOWED_WHEN_PRIVATE.has(cls))) return null
  return new AddressRefusedError(host, address, cls)
}

/** Strips the brackets of an IPv6 URL host. */
export function bareHost (hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
}

/** Registration time: a URL whose host is a forbidden IP literal (host names are checked when delivering). */
export function literalRefusal (url: URL, allowPrivate: boolean): AddressRefusedError | null {
  const host = bareHost(url.hostname)
  return isIP(host) === 0 ? null : refusal(host, host, allowPrivate)
}

/**
 * A `lookup` for net.connect that resolves with `base` and fails when any answer is forbidden (not just the one
 * used: an attacker's name answering [public, private] must not get a second chance through Happy Eyeballs).
 */
function guardedLookup (base: LookupFunction, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true } satisfies LookupAllOptions, ((err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err !== null) { callback(err, '', 0); return }
      for (const a of addresses) {
        const refused = refusal(hostname, a.address, allowPrivate)
        if (refused !== null) { callback(refused as unknown as NodeJS.ErrnoException, '', 0); return }
      }
      if ((options as LookupOneOptions | LookupAllOptions).all === true) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
        return
      }
      const first = addresses[0]
      if (first === undefined) { callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0); return }
      callback(null, first.address, first.family)
    }) as never)
  }
}

/** The undici `connect` option of the webhook agent: every socket it opens passes the guard first. */
export function guardedConnector (opts: GuardOptions & { timeoutMs: number }): buildConnector.connector {
  const lookup = guardedLookup(opts.lookup ?? (dnsLookup as LookupFunction), opts.allowPrivate)
  const connect = buildConnector({ lookup, timeout: opts.timeoutMs })
  return (options, callback) => {
    const host = bareHost(options.hostname)
    if (isIP(host) !== 0) {
      const refused = refusal(host, host, opts.allowPrivate)
      if (refused !== null) { callback(refused, null); return }
    }
    connect(options, callback)
  }
}
