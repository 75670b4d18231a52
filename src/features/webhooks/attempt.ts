/**
 * One delivery attempt: one POST, no redirect followed (undici's request never follows one), a deadline over the
 * whole exchange, and at most `maxResponseBytes` of the receiver's answer read before the socket is let go.
 */
import { Agent, request } from 'undici'
import { guardedConnector, type GuardOptions } from '../../connectors/ssrf.js'
import { parseRetryAfter } from '../../domain/retry-schedule.js'

export interface AttemptResult {
  /** null when no HTTP answer came (refused by the SSRF guard, connection error, timeout) */
  statusCode: number | null
  durationMs: number
  /** null on a 2xx; else why it failed, without any secret */
  error: string | null
  /** ms the receiver asked us to wait (429/503 Retry-After), or null */
  retryAfterMs: number | null
  /** the first bytes of the receiver's answer, for the deliveries log */
  responseExcerpt: string
}

export interface SenderOptions extends GuardOptions {
  timeoutMs: number
  maxResponseBytes: number
  /** per receiver origin: sockets kept open at once */
  connectionsPerOrigin: number
}

/** The dispatcher every webhook goes through: the SSRF guard sits in its connector, so no request can skip it. */
export function webhookAgent (opts: SenderOptions): Agent {
  return new Agent({
    connect: guardedConnector({ ...opts, timeoutMs: Math.min(opts.timeoutMs, 10_000) }),
    connections: opts.connectionsPerOrigin,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 4_000
  })
}

function describe (err: unknown, timeoutMs: number): string {
  const e = err as { name?: string, code?: string, message?: string, cause?: { code?: string, message?: string } }
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `timeout: no complete answer within ${timeoutMs} ms`
  }
  if (e.code === 'WEBHOOK_ADDRESS_REFUSED') return e.message ?? 'refused'
  const code = e.code ?? e.cause?.code
  return `connection failed${code === undefined ? '' : ` (${code})`}: ${e.message ?? String(err)}`
}

export async function attempt (agent: Agent, url: string, headers: Record<string, string>, body: string,
  opts: { timeoutMs: number, maxResponseBytes: number, now: () => number }): Promise<AttemptResult> {
  const started = performance.now()
  const elapsed = (): number => Math.round(performance.now() - started)
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'user-agent': 'takedown-gateway-webhooks/1', ...headers },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs)
    })
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= opts.maxResponseBytes) break
    }
    if (size >= opts.maxResponseBytes) res.body.destroy()
    const excerpt = Buffer.concat(chunks).subarray(0, opts.maxResponseBytes).toString('utf8')
    const ok = res.statusCode >= 200 && res.statusCode < 300
    return {
      statusCode: res.statusCode,
      durationMs: elapsed(),
      error: ok ? null : `receiver answered HTTP ${res.statusCode}`,
      retryAfterMs: res.statusCode === 429 || res.statusCode === 503 ? parseRetryAfter(res.headers['retry-after'], opts.now()) : null,
      responseExcerpt: excerpt
    }
  } catch (err) {
    return { statusCode: null, durationMs: elapsed(), error: describe(err, opts.timeoutMs), retryAfterMs: null, responseExcerpt: '' }
  }
}
