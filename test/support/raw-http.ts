/**
 * A byte-exact HTTP/1.1 client for hostile requests: the request target and headers go on the wire as written (no URL
 * parsing or normalisation, unlike fetch, undici or inject), one request per connection.
 */
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  /** every header line, in order, lower-cased names (repeated headers stay separate) */
  rawHeaders: Array<[string, string]>
  text: string
  json: () => any
  /** ms from sending the last byte until the server closed the connection (null when the client closed it) */
  closedByServer: boolean
}

export async function rawRequest (port: number, opts: {
  method?: string
  /** request target exactly as sent (percent-encoding and all) */
  path: string
  /** header lines; a name may repeat */
  headers?: Array<[string, string]>
  body?: string | Buffer
  /** give up after this many ms (default 10 s) */
  timeoutMs?: number
}): Promise<RawResponse> {
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body)
  const lines = [`${opts.method ?? 'GET'} ${opts.path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close']
  for (const [k, v] of opts.headers ?? []) lines.push(`${k}: ${v}`)
  if (body !== undefined && !(opts.headers ?? []).some(([k]) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding')) {
    lines.push(`content-length: ${body.length}`)
  }
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1')
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let clientClosed = false
    const timer = setTimeout(() => { clientClosed = true; socket.destroy() }, opts.timeoutMs ?? 10_000)
    socket.on('connect', () => { socket.write(body === undefined ? head : Buffer.concat([head, body])) })
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks).toString('utf8')
      const split = raw.indexOf('\r\n\r\n')
      if (split < 0) { reject(new Error(`no HTTP response (${raw.length} bytes)`)); return }
      const [statusLine, ...headerLines] = raw.slice(0, split).split('\r\n')
      const rawHeaders = headerLines.map(l => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string])
      const headers = Object.fromEntries(rawHeaders)
      let text = raw.slice(split + 4)
      if (headers['transfer-encoding'] === 'chunked') text = dechunk(text)
      resolve({
        status: Number(statusLine?.split(' ')[1]),
        headers,
        rawHeaders,
        text,
        json: () => JSON.parse(text),
        closedByServer: !clientClosed
      })
    })
  })
}

function dechunk (s: string): string {
  let out = ''
  let rest = s
  for (;;) {
    const nl = rest.indexOf('\r\n')
    const size = parseInt(rest.slice(0, nl), 16)
    if (!(size > 0)) return out
    // sizes are in bytes: cut on the byte level
    const buf = Buffer.from(rest.slice(nl + 2))
    out += buf.subarray(0, size).toString('utf8')
    rest = buf.subarray(size + 2).toString('utf8')
  }
}
