/**
 * The probe engine against a loopback fixture site and an injected resolver: the system resolver and real hosts are
 * never asked. In live mode (allowPrivate false) every forbidden address is refused before a socket exists; the
 * fixture counts the connections it receives, so "refused before any connection" is checked, not assumed.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { probeTarget, probeUrl, type ProbeOptions } from '../../../src/features/verification/probe.js'
import type { DnsResolver } from '../../../src/features/verification/resolver.js'

let site: Server
let port = 0
let connections = 0
const requests: Array<{ url: string, headers: Record<string, unknown> }> = []

const PHISH = '<html><head><title>Acme &amp; Co — Sign in</title></head><body><h1>Sign in to Acme</h1><form>password</form></body></html>'

beforeAll(async () => {
  site = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers })
    const url = req.url ?? '/'
    if (url === '/') { res.writeHead(200, { 'content-type': 'text/html' }).end(PHISH); return }
    if (url.startsWith('/loop')) { res.writeHead(302, { location: `/loop${url.length}` }).end(); return }
    if (url === '/to-private') { res.writeHead(301, { location: 'http://10.1.2.3/admin' }).end(); return }
    if (url === '/to-name') { res.writeHead(302, { location: `http://second.test:${port}/` }).end(); return }
    if (url === '/big') { res.writeHead(200).end('x'.repeat(1_000_000)); return }
    if (url === '/hang') return
    res.writeHead(404).end('not found')
  })
  site.on('connection', () => { connections++ })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  port = (site.address() as AddressInfo).port
})
afterAll(async () => { await new Promise(resolve => site.close(resolve)) })

/** An injected resolver from a table; a name not in it is NXDOMAIN. Counts its A queries. */
function tableResolver (table: Record<string, string[] | (() => string[])>): DnsResolver & { asked: string[] } {
  const asked: string[] = []
  const nx = (): Error => Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' })
  return {
    asked,
    resolve4: async (h) => {
      asked.push(h)
      const e = table[h]
      if (e === undefined) throw nx()
      return (typeof e === 'function' ? e() : e).filter(a => !a.includes(':'))
    },
    resolve6: async (h) => {
      const e = table[h]
      if (e === undefined) throw nx()
      return (typeof e === 'function' ? e() : e).filter(a => a.includes(':'))
    },
    resolveCname: async () => { throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' }) }
  }
}

function options (resolver: DnsResolver, allowLoopback: boolean, extra: Partial<ProbeOptions> = {}): ProbeOptions {
  const clock = new ManualClock('2026-11-02T00:00:00Z')
  const fixed = { timeoutMs: 2_000, maxBytes: 256 * 1024, userAgent: 'Mozilla/5.0 (test)', proxyUrl: null }
  return { ...fixed, resolver, allowLoopback, now: () => clock.now(), ...extra }
}

describe('a loopback fixture site (loopback allowed explicitly, as the sandbox and tests do)', () => {
  it('reads the page: status, digest, fingerprint, sanitised title, bytes; sends no identifying header', async () => {
    requests.length = 0
    const r = tableResolver({ 'phish.test': ['127.0.0.1'] })
    const obs = await probeUrl(`http://phish.test:${port}/`, options(r, true))
    expect(obs.failure).toBeNull()
    expect(obs.finalStatus).toBe(200)
    expect(obs.title).toBe('Acme & Co — Sign in')
    expect(obs.bytes).toBe(Buffer.byteLength(PHISH))
    expect(obs.bodySha256).toMatch(/^[0-9a-f]{64}$/)
    expect(obs.fingerprint).toMatch(/^[0-9a-f]{16}$/)
    expect(obs.dns).toMatchObject({ code: 'NOERROR', addresses: ['127.0.0.1'] })
    expect(obs.at).toBe('2026-11-02T00:00:00.000Z')
    const h = requests[0]?.headers ?? {}
    expect(h['user-agent']).toBe('Mozilla/5.0 (test)')
    expect(Object.keys(h).filter(k => /cookie|authorization|x-api-key|x-request-id|x-gateway/i.test(k))).toEqual([])
  })

  it('follows at most 5 redirects by hand and records each hop', async () => {
    const r = tableResolver({ 'phish.test': ['127.0.0.1'] })
    const obs = await probeUrl(`http://phish.test:${port}/loop`, options(r, true))
    expect(obs.failure?.kind).toBe('too_many_redirects')
    expect(obs.hops).toHaveLength(6)
    expect(obs.hops.every(h => h.status === 302)).toBe(true)
  })

  it('caps the body read at maxBytes', async () => {
    const r = tableResolver({ 'phish.test': ['127.0.0.1'] })
    const obs = await probeUrl(`http://phish.test:${port}/big`, options(r, true, { maxBytes: 256 * 1024 }))
    expect(obs.bytes).toBe(256 * 1024)
  })

  it('NXDOMAIN, a closed port and a site that never answers are results, not errors', async () => {
    const r = tableResolver({ 'phish.test': ['127.0.0.1'] })
    expect((await probeUrl('http://gone.test/', options(r, true))).failure?.kind).toBe('nxdomain')
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const closedPort = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    expect((await probeUrl(`http://phish.test:${closedPort}/`, options(r, true))).failure?.kind).toBe('connection_refused')
    expect((await probeUrl(`http://phish.test:${port}/hang`, options(r, true, { timeoutMs: 300 }))).failure?.kind).toBe('timeout')
  })

  it('connects to the address that was checked: the resolver is asked once per host, a later answer is never used', async () => {
    let calls = 0
    // the first answer is the fixture; any later one would point elsewhere (a rebinding name)
    const r = tableResolver({ 'rebind.test': () => (calls++ === 0 ? ['127.0.0.1'] : ['127.0.0.2']) })
    const obs = await probeUrl(`http://rebind.test:${port}/`, options(r, true))
    expect(obs.finalStatus).toBe(200)
    expect(r.asked).toEqual(['rebind.test'])
  })

  it('email, phone and social targets are unprobeable with a reason', async () => {
    const r = tableResolver({})
    for (const type of ['email', 'phone', 'social'] as const) {
      const obs = await probeTarget(type, type === 'phone' ? '+14155550100' : 'x@acme.example', options(r, true))
      expect(obs.failure).toEqual({ kind: 'unprobeable', detail: `${type} targets have no page to probe` })
    }
    expect(r.asked).toEqual([])
  })
})

describe('the SSRF table in live mode: refused before any connection, reason recorded', () => {
  const table: Array<[string, string, Record<string, string[]>, RegExp]> = [
    ['loopback literal', 'http://127.0.0.1:{port}/', {}, /127\.0\.0\.1 is a loopback address/],
    ['private literal', 'http://10.0.0.8/', {}, /private/],
    ['link-local literal', 'http://169.254.10.1/', {}, /link-local/],
    ['metadata literal', 'http://169.254.169.254/latest/meta-data/', {}, /metadata/],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]:{port}/', {}, /loopback/],
    ['NAT64 form of a private address', 'http://[64:ff9b::a00:1]/', {}, /private/],
    ['CGNAT', 'http://100.64.1.1/', {}, /cgnat/],
    ['a host name resolving to loopback', 'http://evil.test:{port}/', { 'evil.test': ['127.0.0.1'] }, /evil\.test resolves to 127\.0\.0\.1/],
    ['a host name with one private answer among public ones', 'http://mixed.test/', { 'mixed.test': ['8.8.8.8', '192.168.1.1'] }, /192\.168\.1\.1, a private/]
  ]
  for (const [name, url, dns, reason] of table) {
    it(name, async () => {
      const before = connections
      const obs = await probeUrl(url.replace('{port}', String(port)), options(tableResolver(dns), false))
      expect(obs.failure?.kind).toBe('refused')
      expect(obs.failure?.detail).toMatch(reason)
      expect(obs.finalStatus).toBeNull()
      expect(connections).toBe(before)
    })
  }

  it('a redirect hop to a private address, or to a name resolving to one, is refused after the first hop', async () => {
    // loopback is let through for the fixture; every other class keeps the live rules
    const r = tableResolver({ 'phish.test': ['127.0.0.1'], 'second.test': ['192.168.0.7'] })
    const direct = await probeUrl(`http://phish.test:${port}/to-private`, options(r, true))
    expect(direct.failure).toEqual({ kind: 'refused', detail: 'refused: 10.1.2.3 is a private address' })
    expect(direct.hops.map(h => h.status)).toEqual([301, null])
    const named = await probeUrl(`http://phish.test:${port}/to-name`, options(r, true))
    expect(named.failure?.detail).toBe('refused: second.test resolves to 192.168.0.7, a private address')
    expect(named.hops.map(h => h.status)).toEqual([302, null])
  })
})

describe('sandbox mode: no probe leaves the machine', () => {
  it('a public address, literal or resolved, is refused before any connection; loopback still answers', async () => {
    const r = tableResolver({ 'public.test': ['93.184.216.34'], 'phish.test': ['127.0.0.1'] })
    const sandbox = options(r, true, { loopbackOnly: true })
    for (const [type, value] of [['ipv4', '8.8.8.8'], ['url', 'http://public.test/']] as const) {
      const obs = await probeTarget(type, value, sandbox)
      expect(obs.failure?.kind).toBe('refused')
      expect(obs.failure?.detail).toMatch(/is not loopback, and sandbox probes never leave this machine$/)
      expect(obs.finalStatus).toBeNull()
    }
    expect((await probeUrl(`http://phish.test:${port}/`, sandbox)).finalStatus).toBe(200)
  })
})
