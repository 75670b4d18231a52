/**
 * Baselines for the gateway benchmark, in their own process: the least work a hand-written server could do for each
 * scenario, so the gateway's numbers have something honest to be compared with. A bare `node:http` server (no
 * framework, no logging, no validation) and undici's `request` on one pooled `Agent` per vendor (the gateway's pool
 * shape: 64 connections, keep-alive).
 *
 *   B0            GET /b0/reference/statuses  the exact bytes the gateway answered for GET /v1/reference/statuses (fetched
 *                                             once), written as a prepared Buffer: the bare route
 *   B1            GET /b1/case                the vendor read of the bench's case, bytes passed through
 *   floor-get     GET /floor/case             the same read, body JSON-parsed, a case-shaped object built
 *                                             ({id, provider, providerCaseId, createdAt, item}) and serialised
 *   B2            GET /b2/cases/<set>         the vendor calls of the gateway's listing, concurrently, bodies concatenated
 *   floor         GET /floor/cases/<set>      the same calls, each body JSON-parsed, every item dated, all merged newest
 *                                             first, the first N mapped to {id, createdAt, item} and serialised
 *
 * The hot paths create no named closures per request: the bench runs this file under tsx, whose `keepNames` wraps
 * every named function expression in a helper call at creation.
 *
 * Configuration from the environment (set by bench/run.ts):
 *   BENCH_CALLS         JSON {case: Call, lists: {<set>: Call[]}}, Call = {provider, url, headers}: the vendor requests
 *                       to replay (the listing's were read from the simulators' request logs)
 *   BENCH_LIST_LIMIT    N, the page size of the floor (50)
 *   BENCH_GATEWAY_URL   the gateway origin (for B0's bytes)
 *   BENCH_GATEWAY_KEY   a gateway key with the read scope
 *   BENCH_PORT          listen port (default 0: any free port)
 * Prints one JSON line `{"ready":true,"pid":…,"url":"http://127.0.0.1:…"}` when listening; SIGTERM closes it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, request } from 'undici'
import type { DirectCalls, ProviderModule } from '../src/connectors/provider-module.js'
import { PROVIDER_MODULES } from '../src/providers/registry.js'
import type { ProviderId } from '../src/schemas/provider.js'

interface Call { provider: ProviderId, url: string, headers: Record<string, string> }
interface Calls { case: Call, lists: Record<string, Call[]> }

function required (name: string): string {
  const v = process.env[name]
  if (v === undefined || v === '') {
    process.stderr.write(`baselines: ${name} is required\n`)
    process.exit(64)
  }
  return v
}

const calls = JSON.parse(required('BENCH_CALLS')) as Calls
const gatewayUrl = required('BENCH_GATEWAY_URL')
const gatewayKey = required('BENCH_GATEWAY_KEY')
const limit = Number(process.env.BENCH_LIST_LIMIT ?? '50')
const port = Number(process.env.BENCH_PORT ?? '0')

const agents = new Map<ProviderId, Agent>()
const agentOf = (p: ProviderId): Agent => {
  let a = agents.get(p)
  if (a === undefined) agents.set(p, a = new Agent({ connections: 64, keepAliveTimeout: 30_000 }))
  return a
}

/** a vendor timestamp in epoch ms: ISO 8601 with or without a zone, or Netcraft's `YYYY-MM-DD HH:MM:SS UTC` */
function epochMs (raw: unknown): number {
  if (typeof raw !== 'string') return NaN
  const n = raw.length
  if (raw.endsWith(' UTC')) return Date.parse(`${raw.slice(0, 10)}T${raw.slice(11, n - 4)}Z`)
  const c = raw.charCodeAt(n - 6)
  return Date.parse(raw.endsWith('Z') || c === 43 || c === 45 ? raw : raw + 'Z') // '+' or '-' of a zone offset
}

/** everything a call needs, resolved once */
interface Prepared { provider: ProviderId, url: string, options: { method: 'GET', headers: Record<string, string>, dispatcher: Agent }, direct: DirectCalls }

function prepare (c: Call): Prepared {
  const direct = (PROVIDER_MODULES[c.provider] as ProviderModule).direct
  if (direct === undefined) throw new Error(`${c.provider} declares no direct calls`)
  return { provider: c.provider, url: c.url, options: { method: 'GET', headers: c.headers, dispatcher: agentOf(c.provider) }, direct }
}

const caseCall = prepare(calls.case)
const lists = new Map(Object.entries(calls.lists).map(([set, cs]) => [set, cs.map(prepare)]))

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' }

async function fetchText (c: Prepared): Promise<string> {
  const res = await request(c.url, c.options)
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${c.provider} answered ${res.statusCode}`)
  return text
}

async function fetchBytes (c: Prepared): Promise<{ status: number, bytes: Buffer }> {
  const res = await request(c.url, c.options)
  return { status: res.statusCode, bytes: Buffer.from(await res.body.arrayBuffer()) }
}

function send (res: ServerResponse, status: number, body: string | Buffer): void {
  res.writeHead(status, JSON_HEADERS)
  res.end(body)
}

// B0's bytes: whatever the (warm) gateway answers, verbatim, with its length known in advance
const ref = await request(`${gatewayUrl}/v1/reference/statuses`, { headers: { authorization: `Bearer ${gatewayKey}` } })
const referenceBytes = Buffer.from(await ref.body.arrayBuffer())
if (ref.statusCode !== 200) {
  process.stderr.write(`baselines: the gateway answered ${ref.statusCode} for /v1/reference/statuses: ${referenceBytes.toString().slice(0, 300)}\n`)
  process.exit(1)
}
const REFERENCE_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(referenceBytes.length) }

/** the case read: parse, build the case-shaped object, serialise */
async function floorCase (res: ServerResponse): Promise<void> {
  const c = caseCall
  const body: unknown = JSON.parse(await fetchText(c))
  const item = c.direct.detailItem === undefined ? body as Record<string, unknown> : c.direct.detailItem(body)
  const providerCaseId = String(item.id)
  send(res, 200, JSON.stringify({
    id: `${c.provider}:${providerCaseId}`,
    provider: c.provider,
    providerCaseId,
    createdAt: new Date(epochMs(item[c.direct.createdField])).toISOString(),
    item
  }))
}

interface Row { ms: number, provider: ProviderId, item: Record<string, unknown> }

const newestFirst = (a: Row, b: Row): number => b.ms - a.ms

/** the listing: parse every page, date every item, merge newest first, map and serialise the first `limit` */
async function floorList (res: ServerResponse, targets: Prepared[]): Promise<void> {
  const texts = await Promise.all(targets.map(fetchText))
  const rows: Row[] = []
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!
    const field = t.direct.createdField
    for (const item of t.direct.listItems(JSON.parse(texts[i]!))) rows.push({ ms: epochMs(item[field]), provider: t.provider, item })
  }
  rows.sort(newestFirst)
  const n = Math.min(limit, rows.length)
  const items = new Array<{ id: string, createdAt: string, item: Record<string, unknown> }>(n)
  for (let i = 0; i < n; i++) {
    const r = rows[i]!
    items[i] = { id: `${r.provider}:${String(r.item.id)}`, createdAt: new Date(r.ms).toISOString(), item: r.item }
  }
  send(res, 200, JSON.stringify({ items }))
}

async function b2 (res: ServerResponse, targets: Prepared[]): Promise<void> {
  const texts = await Promise.all(targets.map(fetchText))
  send(res, 200, `[${texts.join(',')}]`)
}

async function b1 (res: ServerResponse): Promise<void> {
  const { status, bytes } = await fetchBytes(caseCall)
  send(res, status, bytes)
}

async function route (req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? ''
  if (url === '/b0/reference/statuses') {
    res.writeHead(200, REFERENCE_HEADERS)
    res.end(referenceBytes)
    return
  }
  if (url === '/b1/case') return await b1(res)
  if (url === '/floor/case') return await floorCase(res)
  const slash = url.lastIndexOf('/')
  const set = lists.get(url.slice(slash + 1))
  if (set !== undefined && url.startsWith('/floor/cases/')) return await floorList(res, set)
  if (set !== undefined && url.startsWith('/b2/cases/')) return await b2(res, set)
  send(res, 404, '{"error":"no such baseline"}')
}

const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  route(req, res).catch((err: unknown) => { if (!res.headersSent) send(res, 502, JSON.stringify({ error: String(err) })) })
})
await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, url }) + '\n')

let closing = false
const close = async (): Promise<void> => {
  if (closing) return
  closing = true
  setTimeout(() => process.exit(1), 5000).unref()
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
  await Promise.allSettled([...agents.values()].map(a => a.close()))
  process.exit(0)
}
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { close().catch(() => process.exit(1)) })
