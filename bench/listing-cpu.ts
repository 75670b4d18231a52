/**
 * The gateway-side CPU of one merged listing, in process and without sockets: `CaseService.list` over five vendors of
 * 200 cases each (pages of 50, newest first, times interleaved across vendors), each vendor page JSON-parsed afresh
 * from its bytes on every read (as a vendor answer is) and handed over as deferred rows, the case views on the answered
 * page (verification and service levels from the in-process stores, the target index in Redis when `--redis` is
 * given). What it leaves out (HTTP both ways, validation and the connectors' own mapping, Fastify, serialisation) the
 * full bench measures; this one isolates the merge, rows, cursor and views with little noise from a shared machine.
 *
 *   npm run build && npx tsx bench/listing-cpu.ts [--dist dist] [--listings 3000] [--rounds 5] [--providers 5] [--exclude-parse]
 *     [--redis redis://127.0.0.1:6379/14]
 *
 * Prints CPU µs per listing per round (process.cpuUsage around the listings, after a warm-up), the lowest and the median
 * (on a busy machine the lowest round is the one least slowed by other processes sharing the cores).
 * `--dist` takes another build of the gateway (a copy of an earlier dist/) to compare two versions one after the other.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    listings: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '5' },
    providers: { type: 'string', default: '5' },
    redis: { type: 'string' },
    'exclude-parse': { type: 'boolean', default: false }
  }
})
const dist = pathToFileURL(resolve(values.dist) + '/').href
const load = async <T> (path: string): Promise<T> => await import(new URL(path, dist).href) as T

const { CaseService } = await load<any>('services/cases.js')
const { ProviderSet } = await load<any>('services/provider-set.js')
const { howToTurnOn, PROVIDER_MODULES } = await load<any>('providers/registry.js')
const { caseRow } = await load<any>('connectors/connector.js')
const { PROVIDER_IDS } = await load<any>('schemas/provider.js')
const { systemClock } = await load<any>('clock.js')
const { MemoryVerificationStore } = await load<any>('features/verification/store.js')
const { verificationCaseView } = await load<any>('features/verification/view.js')
const { MemoryTargetIndex, RedisTargetIndex } = await load<any>('features/targets/index-store.js')
const { targetsView } = await load<any>('features/targets/view.js')

const PER_VENDOR = 200
const PAGE = 50
const log = { warn () {}, info () {}, debug () {}, error () {}, child () { return log } }
const providers: string[] = PROVIDER_IDS.slice(0, Number(values.providers))
const base = Date.parse('2026-11-01T00:00:00Z')

/** a canonical case as a connector maps one (the shape the listing answers with) */
function caseOf (provider: string, i: number, at: number): Record<string, unknown> {
  const native = `${provider.slice(0, 2)}${i.toString(36)}x${(i * 7919).toString(36)}`
  return {
    id: `${provider}:${native}`,
    provider,
    providerCaseId: native,
    target: { type: 'url', value: `https://login.${native}.example/path`, domain: `${native}.example`, host: `login.${native}.example`, registrableDomain: `${native}.example` },
    status: i % 3 === 0 ? 'taken_down' : 'in_progress',
    terminal: i % 3 === 0,
    providerStatus: 'In Progress',
    brand: { id: null, name: 'Acme Bank' },
    threat: { class: 'phishing', name: null, platform: null },
    reportedBy: null,
    createdAt: new Date(at).toISOString(),
    updatedAt: null,
    links: { self: `/v1/cases/${provider}:${native}`, provider: null }
  }
}

/** each vendor's pages as the bytes a vendor would send, newest first; vendor k's times are offset so the merge interleaves */
const pages = new Map<string, string[]>(providers.map((p, k) => {
  const cases = Array.from({ length: PER_VENDOR }, (_, i) => caseOf(p, i, base - i * 60_000 - k * 7_000))
  return [p, Array.from({ length: PER_VENDOR / PAGE }, (_, n) => JSON.stringify(cases.slice(n * PAGE, (n + 1) * PAGE)))]
}))

type Item = { id: string, createdAt: string }
const parse = (id: string, n: number): Item[] => JSON.parse(pages.get(id)![n]!) as Item[]
/**
 * With `--exclude-parse`, the first two pages of every vendor are parsed before each round (as many as the round reads)
 * and the round times the gateway's work only; otherwise every read parses its page.
 */
const parsed = new Map<string, Item[][]>()
function parseAhead (listings: number): void {
  parsed.clear()
  if (values['exclude-parse'] !== true) return
  for (const p of providers) for (const n of [0, 1]) parsed.set(`${p}/${n}`, Array.from({ length: listings }, () => parse(p, n)))
}

const connector = (id: string): unknown => ({
  id,
  capabilities: { create: { takedown: [], monitor: [] }, cancel: false, attachments: false, comments: false, appeal: false, actions: [], detections: false, reference: [] },
  async listCases () { throw new Error('rows only') },
  async listCaseRows (q: { pageToken: string | null }) {
    const n = q.pageToken === null ? 0 : Number(q.pageToken)
    const items = parsed.get(`${id}/${n}`)?.pop() ?? parse(id, n)
    return { rows: items.map(c => caseRow(c.createdAt, c.id, () => c)), next: n + 1 < PER_VENDOR / PAGE ? String(n + 1) : null }
  },
  async getCase () { throw new Error('not used') },
  async listReference () { return null }
})

let redis: Redis | null = null
const prefix = `tgw-listing-cpu:${randomUUID()}:`
let index
if (values.redis !== undefined) {
  const client = new Redis(values.redis, { keyPrefix: prefix })
  redis = client
  index = new RedisTargetIndex(client, systemClock)
} else {
  index = new MemoryTargetIndex()
}

const set = new ProviderSet(providers.map(id => ({ id, mode: 'live', connector: connector(id), timeoutMs: 5000, lastError: null, ids: PROVIDER_MODULES[id].ids })), howToTurnOn, systemClock)
const service = new CaseService(set, 'listing-cpu-secret-0123456789abcdef', {
  views: [
    targetsView({ index, rdap: null, log }),
    verificationCaseView({ store: new MemoryVerificationStore(() => Date.now()), log })
  ]
})

const signal = new AbortController().signal
async function listings (n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const page = await service.list({ limit: 50 }, signal, log)
    if (page.items.length !== 50) throw new Error(`a listing answered ${String(page.items.length)} cases`)
    // a real listing waits on sockets: let the event loop take the replies of what the last one sent (the index writes)
    await new Promise(resolve => setImmediate(resolve))
  }
}

const n = Number(values.listings)
await listings(Math.max(200, n / 5))
const perRound: number[] = []
for (let r = 0; r < Number(values.rounds); r++) {
  parseAhead(n)
  const before = process.cpuUsage()
  await listings(n)
  const used = process.cpuUsage(before)
  perRound.push((used.user + used.system) / n)
}
const sorted = [...perRound].sort((a, b) => a - b)
console.log(`${values.dist}: ${providers.length} vendors, ${n} listings per round${values.redis === undefined ? '' : ', target index in Redis'}` +
  `${values['exclude-parse'] === true ? ', vendor pages parsed before each round' : ''}; CPU µs per listing: ` +
  `${perRound.map(x => x.toFixed(0)).join(' / ')}; min ${sorted[0]!.toFixed(0)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)}`)

if (redis !== null) {
  // the keys this run wrote (its own prefix); the client's prefix is not applied to SCAN's pattern
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    cursor = next
    if (found.length > 0) await redis.unlink(...found.map(k => k.slice(prefix.length)))
  } while (cursor !== '0')
  await redis.quit()
}
