/**
 * A small internet on loopback for gateway processes in live mode, whose probes cannot be given a resolver object:
 * a DNS server (UDP, VERIFY_DNS_SERVERS=127.0.0.1:<port>) that answers every A question with one public address, and
 * an HTTP proxy (VERIFY_PROXY_URL) that serves every request and every CONNECT tunnel from a fixture site on loopback.
 * The public address passes the probe's address guard; nothing ever connects to it (the proxy answers), so no probe
 * leaves the machine.
 */
import { createSocket, type Socket } from 'node:dgram'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'

/** the address every name resolves to: public (the guard lets it through), never contacted */
export const FIXTURE_ADDRESS = '93.184.215.14'

export interface FixtureInternet {
  dnsServer: string
  proxyUrl: string
  /** DNS questions answered so far */
  readonly questions: number
  close: () => Promise<void>
}

/** A DNS answer to one question: A → FIXTURE_ADDRESS, any other type → no answer (NOERROR, empty). */
function answer (query: Buffer): Buffer | null {
  if (query.length < 12) return null
  let at = 12
  while (at < query.length && query[at] !== 0) at += (query[at] ?? 0) + 1
  const qEnd = at + 5
  if (qEnd > query.length) return null
  const qtype = query.readUInt16BE(at + 1)
  const header = Buffer.alloc(12)
  query.copy(header, 0, 0, 2)
  header.writeUInt16BE(0x8180, 2) // response, recursion desired and available, NOERROR
  header.writeUInt16BE(1, 4)
  const a = qtype === 1
  header.writeUInt16BE(a ? 1 : 0, 6)
  const question = query.subarray(12, qEnd)
  if (!a) return Buffer.concat([header, question])
  const rr = Buffer.alloc(16)
  rr.writeUInt16BE(0xc00c, 0) // the question's name
  rr.writeUInt16BE(1, 2)
  rr.writeUInt16BE(1, 4)
  rr.writeUInt32BE(60, 6)
  rr.writeUInt16BE(4, 10)
  FIXTURE_ADDRESS.split('.').forEach((octet, i) => { rr[12 + i] = Number(octet) })
  return Buffer.concat([header, question, rr])
}

export async function startFixtureInternet (site: (req: IncomingMessage, res: ServerResponse) => void): Promise<FixtureInternet> {
  const state = { questions: 0 }
  const dns: Socket = createSocket('udp4')
  dns.on('message', (msg, from) => {
    const reply = answer(msg)
    if (reply === null) return
    state.questions++
    dns.send(reply, from.port, from.address)
  })
  await new Promise<void>(resolve => dns.bind(0, '127.0.0.1', resolve))

  const fixture: Server = createServer(site)
  await new Promise<void>(resolve => fixture.listen(0, '127.0.0.1', resolve))
  const fixturePort = (fixture.address() as AddressInfo).port
  // plain proxied requests are answered by the fixture; CONNECT tunnels end at the fixture whatever host they name
  const proxy: Server = createServer(site)
  proxy.on('connect', (_req, client) => {
    const upstream = connect(fixturePort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))

  return {
    dnsServer: `127.0.0.1:${(dns.address()).port}`,
    proxyUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    get questions () { return state.questions },
    close: async () => {
      proxy.closeAllConnections()
      fixture.closeAllConnections()
      await Promise.all([
        new Promise(resolve => proxy.close(resolve)),
        new Promise(resolve => fixture.close(resolve)),
        new Promise<void>(resolve => dns.close(() => resolve()))
      ])
    }
  }
}
