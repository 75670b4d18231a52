/**
 * Baselines for the gateway benchmark, in their own process: the least work a server could do for each scenario,
 * so the gateway's numbers have something honest to be compared with.
 *
 *   B0     GET /b0/reference/statuses   the exact bytes the gateway answered for GET /v1/reference/statuses (fetched once)
 *   B1     GET /b1/cases/:id            one undici request (pooled Agent) to the vendor simulator's read of one case
 *   B2     GET /b2/cases                the vendor calls of the gateway's listing, concurrently, bodies concatenated
 *   floor  GET /floor/cases?limit=N     the same calls, each body JSON-parsed, every item mapped to {id, createdAt, item},
 *                                       merged newest first, the first N serialised with JSON.stringify: the least
 *                                       work any gateway that answers a merged, parsed listing has to do
 *
 * Configuration from the environment (set by bench/run.ts):
 *   BENCH_SIMS          the JSON line printed by src/simulators/serve.ts
 *   BENCH_LIST_CALLS    JSON [{provider, url, headers}]: the vendor requests the gateway sent for one GET /v1/cases
 *                       (read from the simulators' request logs), which B2 and floor replay
 *   BENCH_GATEWAY_URL   the gateway origin (for B0's bytes)
 *   BENCH_GATEWAY_KEY   a gateway key with the read scope
 *   BENCH_PORT          listen port (default 0: any free port)
 * Prints one JSON line `{"ready":true,"pid":…,"url":"http://127.0.0.1:…"}` when listening; SIGTERM closes it.
 */
import Fastify from 'fastify'
import { Agent, request } from 'undici'
import type { ProviderModule } from '../src/connectors/provider-module.js'
import { PROVIDER_MODULES, PROVIDERS } from '../src/providers/registry.js'
import { isProviderId, type ProviderId } from '../src/schemas/provider.js'

interface SimInfo { origin: string, baseUrl: string, credential: string }
interface SimsLine { simulators: Record<ProviderId, SimInfo & { options: Record<string, string> }> }
interface ListCall { provider: ProviderId, url: string, headers: Record<string, string> }

function required (name: string): string {
  const v = process.env[name]
  if (v === undefined || v === '') {
    process.stderr.write(`baselines: ${name} is required\n`)
    process.exit(64)
  }
  return v
}

const sims = JSON.parse(required('BENCH_SIMS')) as SimsLine
const gatewayUrl = required('BENCH_GATEWAY_URL')
const gatewayKey = required('BENCH_GATEWAY_KEY')
const listCalls = JSON.parse(required('BENCH_LIST_CALLS')) as ListCall[]
const port = Number(process.env.BENCH_PORT ?? '0')

// the same pool shape as the gateway (src/providers/build.ts): one Agent per vendor, 64 connections, keep-alive
const agents = Object.fromEntries(PROVIDERS.map(m => [m.id, new Agent({ connections: 64, keepAliveTimeout: 30_000 })])) as Record<ProviderId, Agent>

/** vendor read of one case, by gateway case id `<provider>:<native id>`, the way its module says to call it directly */
function caseTarget (id: string): { url: string, headers: Record<string, string>, dispatcher: Agent } | null {
  const at = id.indexOf(':')
  const provider = id.slice(0, at)
  if (!isProviderId(provider)) return null
  const direct = (PROVIDER_MODULES[provider] as ProviderModule).direct
  const sim = sims.simulators[provider]
  if (direct?.detailPath === undefined) return null
  return { url: sim.baseUrl + direct.detailPath(id.slice(at + 1), sim.options), headers: direct.authHeaders(sim.credential), dispatcher: agents[provider] }
}

const listTargets = listCalls.map(c => ({ ...c, dispatcher: agents[c.provider] }))

/** a vendor timestamp (ISO 8601, with or without a zone, or Netcraft's `YYYY-MM-DD HH:MM:SS UTC`) in epoch ms */
function epochMs (raw: unknown): number {
  if (typeof raw !== 'string') return NaN
  const s = raw.endsWith(' UTC') ? raw.slice(0, -4) + 'Z' : raw
  const iso = s.includes('T') ? s : s.replace(' ', 'T')
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : iso + 'Z')
}

type Item = Record<string, unknown>

/** the floor's whole mapping: a gateway id, the creation time, and the vendor item untouched */
interface Row { id: string, createdAt: string, item: Item, ms: number }

function rowsOf (provider: ProviderId, text: string): Row[] {
  const direct = (PROVIDER_MODULES[provider] as ProviderModule).direct
  if (direct === undefined) return []
  return direct.listItems(JSON.parse(text)).map(item => {
    const ms = epochMs(item[direct.createdField])
    return { id: `${provider}:${String(item.id)}`, createdAt: new Date(ms).toISOString(), item, ms }
  })
}

async function fetchText (url: string, headers: Record<string, string>, dispatcher: Agent): Promise<{ status: number, text: string }> {
  const res = await request(url, { method: 'GET', headers, dispatcher })
  return { status: res.statusCode, text: await res.body.text() }
}

// B0's bytes: whatever the (warm) gateway answers, verbatim
const ref = await request(`${gatewayUrl}/v1/reference/statuses`, { headers: { authorization: `Bearer ${gatewayKey}` } })
const referenceBytes = Buffer.from(await ref.body.arrayBuffer())
if (ref.statusCode !== 200) {
  process.stderr.write(`baselines: the gateway answered ${ref.statusCode} for /v1/reference/statuses: ${referenceBytes.toString().slice(0, 300)}\n`)
  process.exit(1)
}

const app = Fastify({ logger: false })

app.get('/b0/reference/statuses', async (_req, reply) => {
  return reply.header('content-type', 'application/json; charset=utf-8').send(referenceBytes)
})

app.get<{ Params: { id: string } }>('/b1/cases/:id', async (req, reply) => {
  const target = caseTarget(req.params.id)
  if (target === null) return reply.code(404).send({ error: 'unknown provider' })
  const { status, text } = await fetchText(target.url, target.headers, target.dispatcher)
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(text)
})

app.get('/b2/cases', async (_req, reply) => {
  const pages = await Promise.all(listTargets.map(t => fetchText(t.url, t.headers, t.dispatcher)))
  const bad = pages.find(p => p.status !== 200)
  if (bad !== undefined) return reply.code(502).send({ error: `a vendor answered ${bad.status}` })
  return reply.header('content-type', 'application/json; charset=utf-8').send(`[${pages.map(p => p.text).join(',')}]`)
})

app.get<{ Querystring: { limit?: string } }>('/floor/cases', async (req, reply) => {
  const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? '50') || 50))
  const pages = await Promise.all(listTargets.map(t => fetchText(t.url, t.headers, t.dispatcher)))
  const bad = pages.find(p => p.status !== 200)
  if (bad !== undefined) return reply.code(502).send({ error: `a vendor answered ${bad.status}` })
  const rows = pages.flatMap((p, i) => rowsOf(listTargets[i]!.provider, p.text))
  rows.sort((a, b) => (b.ms - a.ms) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const items = rows.slice(0, limit).map(({ id, createdAt, item }) => ({ id, createdAt, item }))
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ items }))
})

const url = await app.listen({ host: '127.0.0.1', port })
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, url: url.replace('localhost', '127.0.0.1') }) + '\n')

let closing = false
const close = async (): Promise<void> => {
  if (closing) return
  closing = true
  setTimeout(() => process.exit(1), 5000).unref()
  await app.close()
  await Promise.allSettled(Object.values(agents).map(a => a.close()))
  process.exit(0)
}
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { close().catch(() => process.exit(1)) })
