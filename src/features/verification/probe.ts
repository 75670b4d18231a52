/**
 * The probe engine: one look at a target from the outside, on undici. DNS goes through the injected resolver; every
 * hop (the first URL and each redirect, followed by hand, at most 5) is checked by the outbound SSRF guard on the
 * addresses that resolver answered, and the socket is pinned to exactly those addresses, so a name that answers
 * differently at connect time gains nothing. No cookies, no credentials, no gateway headers; a browser-like
 * User-Agent; the body read stops at `maxBytes`; TLS problems are recorded, not fatal.
 */
import { createHash } from 'node:crypto'
import { isIP, type LookupFunction } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { Agent, buildConnector, ProxyAgent, request, type Dispatcher } from 'undici'
import type { TargetType } from '../../schemas/common.js'
import { bareHost, classifyAddress, refusal } from '../../connectors/ssrf.js'
import { pageText, pageTitle, simhash } from './page.js'
import { resolveHost, type DnsAnswer, type DnsResolver } from './resolver.js'

export interface ProbeOptions {
  resolver: DnsResolver
  /**
   * 127.0.0.0/8 and ::1 pass the guard (every other forbidden class is still refused): set only by the sandbox and the
   * tests, whose fixture sites listen on loopback; live mode never sets it
   */
  allowLoopback: boolean
  /** the sandbox: every address but loopback is refused, so no probe leaves the machine */
  loopbackOnly?: boolean
  /**
   * The sandbox only (ADR 0044): where a hop to `host` really connects (the small internet's loopback servers stand
   * in for every site on 80/443), or null when nothing answers there. Honoured only with `loopbackOnly`, and the guard
   * then checks the address it names, so it can never reach past loopback.
   */
  route?: ProbeRoute
  timeoutMs: number
  maxBytes: number
  userAgent: string
  /** VERIFY_PROXY_URL: probes leave through this HTTP(S) proxy */
  proxyUrl: string | null
  now: () => number
}

export const MAX_REDIRECTS = 5

interface Routed { address: string, port: number }

export type ProbeRoute = (host: string, protocol: string) => Routed | null

export interface Hop { url: string, status: number | null }

export interface TlsFacts { issuer: string | null, validTo: string | null, error: string | null }

/** What one probe saw; the page body itself is never kept, only its digest, fingerprint and title. */
export interface Observation {
  at: string
  /** the first URL asked */
  url: string | null
  dns: DnsAnswer | null
  hops: Hop[]
  finalStatus: number | null
  /** why no HTTP answer came (refused by the guard, NXDOMAIN, connection refused, timeout...), or null */
  failure: { kind: FailureKind, detail: string } | null
  tls: TlsFacts | null
  bodySha256: string | null
  /** simhash of the page text, 16 hex digits */
  fingerprint: string | null
  title: string | null
  /** the first bytes of the page text, for classification only (never stored or served) */
  text: string
  bytes: number
  durationMs: number
}

export type FailureKind = 'unprobeable' | 'refused' | 'nxdomain' | 'no_address' | 'dns_error' | 'connection_refused' |
  'connection_reset' | 'timeout' | 'tls' | 'too_many_redirects' | 'error'

const PROBEABLE: ReadonlySet<TargetType> = new Set(['url', 'domain', 'ipv4'])

/** The URLs tried for a target, in order, or a reason it cannot be probed. */
export function probeUrls (type: TargetType, value: string): string[] | { unprobeable: string } {
  if (!PROBEABLE.has(type)) return { unprobeable: `${type} targets have no page to probe` }
  if (type === 'url') return [value]
  const host = type === 'domain' ? value.trim().toLowerCase().replace(/\.$/, '') : value.trim()
  return [`https://${host}/`, `http://${host}/`]
}

/** A `lookup` answering only the addresses the guard already checked: the resolver is never asked again. */
function pinnedLookup (addresses: readonly string[]): LookupFunction {
  const list = addresses.map(address => ({ address, family: isIP(address) }))
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all === true) {
      (callback as unknown as (e: null, a: typeof list) => void)(null, list)
      return
    }
    const first = list[0]
    if (first === undefined) { callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0); return }
    callback(null, first.address, first.family)
  }
}

function dispatcherFor (addresses: readonly string[], to: Routed | null, opts: ProbeOptions, tls: { facts: TlsFacts | null }): Dispatcher {
  // the sandbox never goes through a proxy: the proxy would connect wherever it likes
  if (opts.proxyUrl !== null && opts.loopbackOnly !== true) {
    // the proxy resolves and connects; the guard has already checked what our resolver answers for this host
    return new ProxyAgent({ uri: opts.proxyUrl, requestTls: { rejectUnauthorized: false }, connections: 1 })
  }
  const connect = buildConnector({ lookup: pinnedLookup(addresses), timeout: opts.timeoutMs, rejectUnauthorized: false })
  return new Agent({
    connections: 1,
    pipelining: 0,
    connect: (options, callback) => {
      // a routed hop (the sandbox) connects to the route's address and port; SNI and Host still name the target
      connect(to === null ? options : { ...options, hostname: to.address, port: String(to.port) }, (err, socket) => {
        const s = socket as TLSSocket | null
        if (err === null && s !== null && typeof s.getPeerCertificate === 'function') {
          const cert = s.getPeerCertificate()
          const issuer = cert.issuer === undefined ? null : [cert.issuer.O, cert.issuer.CN].filter(x => typeof x === 'string').join(' / ')
          tls.facts = {
            issuer: issuer === '' ? null : issuer,
            validTo: cert.valid_to === undefined ? null : new Date(cert.valid_to).toISOString(),
            error: s.authorizationError === null || s.authorizationError === undefined ? null : String(s.authorizationError)
          }
        }
        callback(err as Error, socket as never)
      })
    }
  })
}

function failureOf (err: unknown, timeoutMs: number): { kind: FailureKind, detail: string } {
  const e = err as { name?: string, code?: string, message?: string, cause?: { code?: string, message?: string } }
  const code = e.code ?? e.cause?.code
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || (code?.includes('TIMEOUT') ?? false)) {
    return { kind: 'timeout', detail: `no complete answer within ${timeoutMs} ms` }
  }
  if (code === 'ECONNREFUSED') return { kind: 'connection_refused', detail: 'connection refused' }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return { kind: 'connection_reset', detail: 'connection reset' }
  if (code?.startsWith('ERR_TLS') === true || code?.startsWith('ERR_SSL') === true) return { kind: 'tls', detail: `TLS handshake failed (${code})` }
  return { kind: 'error', detail: `request failed${code === undefined ? '' : ` (${code})`}` }
}

interface HopResult { status: number, location: string | null, body: Buffer | null }

async function fetchHop (url: URL, addresses: readonly string[], to: Routed | null, opts: ProbeOptions, signal: AbortSignal,
  tls: { facts: TlsFacts | null }): Promise<HopResult> {
  const dispatcher = dispatcherFor(addresses, to, opts, tls)
  try {
    const res = await request(url, {
      method: 'GET',
      dispatcher,
      signal,
      headers: {
        'user-agent': opts.userAgent,
        accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
        'accept-language': 'en-US,en;q=0.8'
      }
    })
    const location = res.headers.location
    if (res.statusCode >= 300 && res.statusCode < 400 && location !== undefined) {
      await res.body.dump()
      return { status: res.statusCode, location: Array.isArray(location) ? location[0] ?? null : location, body: null }
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= opts.maxBytes) break
    }
    if (size >= opts.maxBytes) res.body.on('error', () => {}).destroy()
    return { status: res.statusCode, location: null, body: Buffer.concat(chunks).subarray(0, opts.maxBytes) }
  } finally {
    dispatcher.destroy().catch(() => {})
  }
}

function empty (at: number, url: string | null): Observation {
  const blank = { dns: null, finalStatus: null, failure: null, tls: null, bodySha256: null, fingerprint: null, title: null }
  return { ...blank, at: new Date(at).toISOString(), url, hops: [], text: '', bytes: 0, durationMs: 0 }
}

/** One probe of one URL: DNS, the guard, the hops, the page. Never throws. */
export async function probeUrl (start: string, opts: ProbeOptions): Promise<Observation> {
  const started = performance.now()
  const obs = empty(opts.now(), start)
  const done = (failure: Observation['failure']): Observation => {
    obs.failure = failure
    obs.durationMs = Math.round(performance.now() - started)
    return obs
  }
  const signal = AbortSignal.timeout(opts.timeoutMs)
  const tls: { facts: TlsFacts | null } = { facts: null }
  // a route outside the sandbox is refused before anything is asked or connected
  if (opts.route !== undefined && opts.loopbackOnly !== true) return done({ kind: 'refused', detail: 'refused: a probe route is for the sandbox only' })
  let url: URL
  try { url = new URL(start) } catch { return done({ kind: 'unprobeable', detail: 'not a URL' }) }
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return done({ kind: 'unprobeable', detail: `${url.protocol} is not http(s)` })
    if (url.username !== '' || url.password !== '') { url.username = ''; url.password = '' }
    const host = bareHost(url.hostname)
    let addresses: string[]
    if (isIP(host) !== 0) {
      addresses = [host]
    } else {
      const dns = await resolveHost(opts.resolver, host)
      if (obs.dns === null) obs.dns = dns
      if (dns.code === 'NXDOMAIN') return done({ kind: 'nxdomain', detail: `${host}: NXDOMAIN` })
      if (dns.code === 'NODATA') return done({ kind: 'no_address', detail: `${host} has no address` })
      if (dns.code !== 'NOERROR') return done({ kind: 'dns_error', detail: `${host}: ${dns.code}` })
      addresses = dns.addresses
    }
    let to: Routed | null = null
    if (opts.route !== undefined) {
      to = opts.route(host, url.protocol)
      if (to === null) {
        obs.hops.push({ url: url.toString(), status: null })
        return done({ kind: 'connection_refused', detail: 'connection refused' })
      }
      addresses = [to.address]
    }
    for (const a of addresses) {
      if (opts.loopbackOnly === true && classifyAddress(a) !== 'loopback') {
        obs.hops.push({ url: url.toString(), status: null })
        return done({ kind: 'refused', detail: `refused: ${a} is not loopback, and sandbox probes never leave this machine` })
      }
      const refused = refusal(host, a, false)
      if (refused !== null && !(opts.allowLoopback && refused.addressClass === 'loopback')) {
        obs.hops.push({ url: url.toString(), status: null })
        return done({ kind: 'refused', detail: refused.message })
      }
    }
    let res: HopResult
    try {
      res = await fetchHop(url, addresses, to, opts, signal, tls)
    } catch (err) {
      obs.hops.push({ url: url.toString(), status: null })
      obs.tls = tls.facts
      return done(failureOf(err, opts.timeoutMs))
    }
    obs.tls = tls.facts ?? obs.tls
    obs.hops.push({ url: url.toString(), status: res.status })
    obs.finalStatus = res.status
    if (res.location !== null) {
      if (hop >= MAX_REDIRECTS) return done({ kind: 'too_many_redirects', detail: `more than ${MAX_REDIRECTS} redirects` })
      try { url = new URL(res.location, url) } catch { return done({ kind: 'error', detail: 'unreadable redirect location' }) }
      continue
    }
    const body = res.body ?? Buffer.alloc(0)
    obs.bytes = body.length
    obs.bodySha256 = createHash('sha256').update(body).digest('hex')
    const html = body.toString('utf8')
    obs.title = pageTitle(html)
    obs.text = pageText(html).slice(0, 16_384)
    obs.fingerprint = simhash(obs.text)
    return done(null)
  }
}

/** A probe of a target: its URLs in order (a domain: https, then http when https gave no HTTP answer). */
export async function probeTarget (type: TargetType, value: string, opts: ProbeOptions): Promise<Observation> {
  const urls = probeUrls(type, value)
  if (!Array.isArray(urls)) return { ...empty(opts.now(), null), failure: { kind: 'unprobeable', detail: urls.unprobeable } }
  let last: Observation | null = null
  for (const u of urls) {
    last = await probeUrl(u, opts)
    const retry = last.failure !== null && ['connection_refused', 'connection_reset', 'tls', 'timeout'].includes(last.failure.kind)
    if (!retry) return last
  }
  return last ?? { ...empty(opts.now(), null), failure: { kind: 'unprobeable', detail: 'no URL' } }
}
