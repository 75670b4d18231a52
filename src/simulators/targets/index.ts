/**
 * The sandbox's small internet: the reported sites themselves. Every target host of every vendor simulator (url,
 * domain and ipv4 targets, seeded or created) resolves through this module's own resolver to loopback, where one HTTP
 * and one HTTPS server (a self-signed certificate made at start) answer as the site would now: the phishing page while
 * the vendor's case is open, then what fates.ts picks for the host. Names it does not know are NXDOMAIN; it never
 * asks the system resolver. `route` is the sandbox-only seam of the gateway's probe: where a probe of a host on port
 * 80/443 (or any port) really connects.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Clock } from '../../clock.js'
import type { SimTarget } from '../harness.js'
import { selfSignedCertificate } from './cert.js'
import { pageAt, type DeadPage, type HostCase } from './fates.js'
import { deadAnswer, landingAnswer, phishingPage, SUSPENSION_LANDING, type Answer } from './pages.js'

/** The shape of the probe's injectable resolver (node:dns/promises `Resolver`'s methods it uses). */
export interface SandboxResolver {
  resolve4: (host: string) => Promise<string[]>
  resolve6: (host: string) => Promise<string[]>
  resolveCname: (host: string) => Promise<string[]>
}

export type Route = (host: string, protocol: string) => { address: string, port: number } | null

export interface SmallInternet {
  resolver: SandboxResolver
  route: Route
  /** what the host shows now: `live`, a dead page, or null when no vendor case names it */
  pageOf: (host: string) => 'live' | DeadPage | null
  /** DNS questions answered and HTTP(S) requests served, since start */
  stats: { dns: number, requests: number }
  http: { origin: string, port: number }
  https: { origin: string, port: number }
  /** the certificate's issuer and expiry, as a probe records them */
  certificate: { issuer: string, validTo: string }
  close: () => Promise<void>
}

const LOOPBACK = '127.0.0.1'
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/** The host a target value names: a URL's host, a domain, an IPv4 address; null for anything without a page. */
export function hostOfValue (value: string): string | null {
  const v = value.trim().toLowerCase()
  if (IPV4.test(v)) return v
  if (/^https?:\/\//.test(v)) { try { return new URL(v).hostname.replace(/\.$/, '') } catch { return null } }
  const m = /^([a-z0-9-]+(?:\.[a-z0-9-]+)+)\.?(?:[/:?#]|$)/.exec(v)
  return m?.[1] ?? null
}

function dnsError (code: 'ENOTFOUND' | 'ENODATA', host: string): Error {
  return Object.assign(new Error(`${code === 'ENOTFOUND' ? 'NXDOMAIN' : 'no data'}: ${host} (sandbox)`), { code, hostname: host })
}

export async function startSmallInternet (opts: { clock: Clock, targets: () => SimTarget[] }): Promise<SmallInternet> {
  const { clock } = opts
  const stats = { dns: 0, requests: 0 }
  const served = new Map<string, number>()

  /** the newest case naming the host decides (a resubmitted target follows its new case) */
  function caseOf (host: string): HostCase | null {
    let best: HostCase | null = null
    for (const t of opts.targets()) {
      if (hostOfValue(t.value) === host && (best === null || t.createdAt >= best.createdAt)) best = t
    }
    return best
  }
  const pageOf = (host: string): 'live' | DeadPage | null => {
    const c = caseOf(host)
    return c === null ? null : pageAt(host, c, clock)
  }
  const known = (host: string): 'landing' | 'live' | DeadPage | null => host === SUSPENSION_LANDING ? 'landing' : pageOf(host)

  const resolver: SandboxResolver = {
    resolve4: async host => {
      stats.dns++
      const h = host.toLowerCase().replace(/\.$/, '')
      const page = known(h)
      if (page === null || page === 'nxdomain') throw dnsError('ENOTFOUND', h)
      return [LOOPBACK]
    },
    resolve6: async host => {
      stats.dns++
      const page = known(host.toLowerCase().replace(/\.$/, ''))
      throw dnsError(page === null || page === 'nxdomain' ? 'ENOTFOUND' : 'ENODATA', host)
    },
    resolveCname: async host => {
      stats.dns++
      const page = known(host.toLowerCase().replace(/\.$/, ''))
      throw dnsError(page === null || page === 'nxdomain' ? 'ENOTFOUND' : 'ENODATA', host)
    }
  }

  function answer (host: string): Answer | null {
    const page = known(host)
    if (page === 'landing') return landingAnswer()
    if (page === null || page === 'nxdomain' || page === 'refused') return null
    if (page !== 'live') return deadAnswer(page, host)
    const n = (served.get(host) ?? 0) + 1
    served.set(host, n)
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: phishingPage(host, n, clock.now()) }
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    stats.requests++
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/^\[|\]$/g, '').replace(/\.$/, '')
    const a = answer(host)
    // no site here (an unknown host, or one whose server is gone): the connection drops
    if (a === null) { req.socket.destroy(); return }
    res.writeHead(a.status, { 'cache-control': 'no-store', ...a.headers }).end(a.body)
  }

  const cert = selfSignedCertificate(['sandbox.example', '*.sandbox.example'], clock.now())
  const servers: Server[] = [createHttpServer(handle), createHttpsServer({ key: cert.key, cert: cert.cert }, handle)]
  const ports: number[] = []
  for (const s of servers) {
    await new Promise<void>(resolve => s.listen(0, LOOPBACK, resolve))
    ports.push((s.address() as AddressInfo).port)
  }
  const [httpPort = 0, httpsPort = 0] = ports

  const route: Route = (host, protocol) => {
    const page = known(host.toLowerCase())
    if (page === null || page === 'nxdomain' || page === 'refused') return null
    return { address: LOOPBACK, port: protocol === 'https:' ? httpsPort : httpPort }
  }

  return {
    resolver,
    route,
    pageOf,
    stats,
    http: { origin: `http://${LOOPBACK}:${httpPort}`, port: httpPort },
    https: { origin: `https://${LOOPBACK}:${httpsPort}`, port: httpsPort },
    certificate: { issuer: cert.issuer, validTo: cert.validTo },
    close: async () => {
      await Promise.all(servers.map(async s => {
        s.closeAllConnections()
        await new Promise(resolve => s.close(resolve))
      }))
    }
  }
}
