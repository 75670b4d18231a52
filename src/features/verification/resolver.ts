/**
 * The DNS side of a probe: a resolver object (node:dns/promises `Resolver`, or one a test or the sandbox injects) and
 * what it answered for one host. NXDOMAIN, SERVFAIL and an empty answer are results, not errors.
 */
import { Resolver } from 'node:dns/promises'

/** The part of node:dns/promises `Resolver` a probe uses; tests and the sandbox inject their own. */
export interface DnsResolver {
  resolve4: (host: string) => Promise<string[]>
  resolve6: (host: string) => Promise<string[]>
  resolveCname: (host: string) => Promise<string[]>
}

export type DnsCode = 'NOERROR' | 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'TIMEOUT' | 'ERROR'

export interface DnsAnswer {
  host: string
  code: DnsCode
  /** the CNAME chain from `host`, in order */
  cnames: string[]
  /** A then AAAA answers */
  addresses: string[]
}

/** A resolver asking `servers` (VERIFY_DNS_SERVERS), or the host's configured servers when none are given. */
export function dnsResolver (servers: readonly string[]): DnsResolver {
  const r = new Resolver({ timeout: 3_000, tries: 2 })
  if (servers.length > 0) r.setServers([...servers])
  return r
}

function codeOf (err: unknown): DnsCode {
  switch ((err as { code?: string }).code) {
    case 'ENOTFOUND': return 'NXDOMAIN'
    case 'ENODATA': return 'NODATA'
    case 'ESERVFAIL': return 'SERVFAIL'
    case 'ETIMEOUT': return 'TIMEOUT'
    default: return 'ERROR'
  }
}

const MAX_CNAMES = 8

async function answers (ask: () => Promise<string[]>): Promise<{ list: string[], code: DnsCode }> {
  try {
    const list = await ask()
    return { list, code: list.length === 0 ? 'NODATA' : 'NOERROR' }
  } catch (err) {
    return { list: [], code: codeOf(err) }
  }
}

/** Both address families and the CNAME chain of `host`; the worst code wins only when no address came back. */
export async function resolveHost (resolver: DnsResolver, host: string): Promise<DnsAnswer> {
  const cnames: string[] = []
  let name = host
  while (cnames.length < MAX_CNAMES) {
    const next = (await answers(async () => await resolver.resolveCname(name))).list[0]
    if (next === undefined || cnames.includes(next)) break
    cnames.push(next)
    name = next
  }
  const [v4, v6] = await Promise.all([answers(async () => await resolver.resolve4(host)), answers(async () => await resolver.resolve6(host))])
  const addresses = [...v4.list, ...v6.list]
  if (addresses.length > 0) return { host, code: 'NOERROR', cnames, addresses }
  const order: DnsCode[] = ['NXDOMAIN', 'SERVFAIL', 'TIMEOUT', 'ERROR', 'NODATA']
  const code = order.find(c => v4.code === c || v6.code === c) ?? 'NODATA'
  return { host, code, cnames, addresses }
}
