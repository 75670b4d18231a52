/**
 * IANA's RDAP bootstrap registries (RFC 9224): which server answers for a TLD, an IP range or an AS number. The
 * gateway ships copies (`bootstrap/*.json`, refreshed by `npm run rdap:bootstrap`); RDAP_BOOTSTRAP_DIR points at
 * others; the sandbox hands in its simulator's.
 */
import { existsSync, readFileSync } from 'node:fs'
import { BlockList, isIP } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** one IANA bootstrap file: `services` is a list of [keys, server URLs] */
export interface BootstrapFile { version?: string, publication?: string, services: Array<[string[], string[]]> }
export interface BootstrapFiles { dns: BootstrapFile, ipv4: BootstrapFile, ipv6: BootstrapFile, asn: BootstrapFile }

export const BOOTSTRAP_KINDS = ['dns', 'ipv4', 'ipv6', 'asn'] as const

const HERE = dirname(fileURLToPath(import.meta.url))
/** beside this module (sources, the container image copies them into dist/) or, from a local `dist/` build, in `src/` */
export const SHIPPED_BOOTSTRAP_DIR = [join(HERE, 'bootstrap'), join(HERE, '../../../../src/features/targets/rdap/bootstrap')]
  .find(dir => existsSync(join(dir, 'dns.json'))) ?? join(HERE, 'bootstrap')

export function readBootstrap (dir: string): BootstrapFiles {
  const read = (kind: string): BootstrapFile => JSON.parse(readFileSync(join(dir, `${kind}.json`), 'utf8')) as BootstrapFile
  return { dns: read('dns'), ipv4: read('ipv4'), ipv6: read('ipv6'), asn: read('asn') }
}

/** RFC 9224 §3: prefer an https URL; every base URL ends with a slash */
function pick (urls: string[]): string | null {
  const url = urls.find(u => u.startsWith('https://')) ?? urls[0]
  if (url === undefined) return null
  return url.endsWith('/') ? url : `${url}/`
}

export class Bootstrap {
  readonly #tlds = new Map<string, string>()
  readonly #nets: Array<{ list: BlockList, bits: number, url: string }> = []

  constructor (files: BootstrapFiles) {
    for (const [tlds, urls] of files.dns.services) {
      const url = pick(urls)
      if (url !== null) for (const tld of tlds) this.#tlds.set(tld.toLowerCase(), url)
    }
    for (const [family, file] of [['ipv4', files.ipv4], ['ipv6', files.ipv6]] as const) {
      for (const [prefixes, urls] of file.services) {
        const url = pick(urls)
        if (url === null) continue
        for (const prefix of prefixes) {
          const [net, bits] = prefix.split('/')
          if (net === undefined || bits === undefined) continue
          const list = new BlockList()
          list.addSubnet(net, Number(bits), family)
          this.#nets.push({ list, bits: Number(bits), url })
        }
      }
    }
    // the longest prefix decides (RFC 9224 §5.1): the first match of a list sorted by length
    this.#nets.sort((a, b) => b.bits - a.bits)
  }

  /** the server for a domain: the entry for its longest matching label suffix (a TLD, or a longer entry where IANA lists one) */
  domainServer (domain: string): string | null {
    const labels = domain.toLowerCase().split('.')
    for (let i = 0; i < labels.length; i++) {
      const url = this.#tlds.get(labels.slice(i).join('.'))
      if (url !== undefined) return url
    }
    return null
  }

  ipServer (ip: string): string | null {
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
    return this.#nets.find(n => n.list.check(ip, family))?.url ?? null
  }
}
