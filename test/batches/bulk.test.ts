/**
 * Bulk submission at size: two real gateway processes in live mode on the suite's Redis (BullMQ shares
 * the item jobs between them) against one set of simulators in this process. A 500-item batch (URLs, domains,
 * emails, phones over the three vendors; 20 in-batch duplicates; 30 targets with open cases) ends with exactly one
 * vendor create per new target and the right duplicates, without Cloudflare ever answering 429; then the same with
 * one replica SIGKILLed half-way.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import type { Batch, BatchItem } from '../../src/schemas/batch.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import type { RunningSimulator } from '../../src/simulators/harness.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { CLOUDFLARE_REPORT_OPTIONS } from '../support/app.js'
import { httpRequest, killAll, listening, liveVendorEnv, spawnGateway, startVendors, type GatewayProcess } from '../support/gateway-process.js'

const KEY = 'bulk-secret-key-000000001'
const bearer = { authorization: `Bearer ${KEY}` }
const CLAIM_MS = 6000

let sims: Record<ProviderId, RunningSimulator>
let a: GatewayProcess
let b: GatewayProcess

beforeAll(async () => {
  sims = await startVendors(systemClock, 5)
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: `bulk-${randomUUID()}:`,
    GATEWAY_SECRET: 'bulk-test-secret-0123456789',
    GATEWAY_API_KEYS: `soc:${KEY}:read+write`,
    RATE_LIMIT_MAX: '0',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    BATCH_ITEM_CLAIM_MS: String(CLAIM_MS),
    BATCH_BUDGET_SHARE: '80',
    ...liveVendorEnv(sims)
  }
  ;[a, b] = await Promise.all([listening(spawnGateway(env)), listening(spawnGateway(env))])
}, 60_000)

afterAll(async () => {
  await killAll()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

/** vendor creates the simulator received: its module's submit routes */
function creates (provider: ProviderId): number {
  return PROVIDER_MODULES[provider].submitRoutes.reduce((n, route) => n + (sims[provider].sim.stats.counts.get(route) ?? 0), 0)
}
const createCounts = (): Record<ProviderId, number> => Object.fromEntries(PROVIDER_IDS.map(id => [id, creates(id)])) as Record<ProviderId, number>

async function call<T> (gw: GatewayProcess, method: string, path: string, body?: unknown): Promise<{ status: number, json: T }> {
  const res = await httpRequest(gw.origin, path, { method, headers: bearer, body, timeoutMs: 30_000 })
  return { status: res.status, json: JSON.parse(res.body) as T }
}

interface Item { provider: ProviderId, target: { type: string, value: string }, providerOptions?: unknown }

/**
 * 450 new targets (phishfort 240: url, domain, email, phone; bforeai 140: url, domain; cloudflare 70: url, domain),
 * 30 targets of cases opened beforehand (10 per vendor), 20 repeats of new targets: 500 items, shuffled.
 */
async function plan500 (run: string): Promise<{ items: Item[], fresh: Record<ProviderId, number>, existing: Map<string, string> }> {
  const item = (provider: ProviderId, type: string, value: string): Item =>
    ({ provider, target: { type, value }, ...(provider === 'cloudflare' ? { providerOptions: CLOUDFLARE_REPORT_OPTIONS } : {}) })
  const fresh: Item[] = []
  const add = (provider: ProviderId, type: string, n: number, value: (i: number) => string): void => {
    for (let i = 0; i < n; i++) fresh.push(item(provider, type, value(i)))
  }
  const digits = String(parseInt(run.slice(0, 6), 16) % 1000).padStart(3, '0')
  add('phishfort', 'url', 90, i => `https://pf-${run}-${i}.example.com/login`)
  add('phishfort', 'domain', 60, i => `pf-${run}-d${i}.example.org`)
  add('phishfort', 'email', 50, i => `billing-${i}@pf-${run}.example`)
  add('phishfort', 'phone', 40, i => `+1415${digits}${String(i).padStart(4, '0')}`)
  add('bforeai', 'url', 80, i => `https://bf-${run}-${i}.example.net/verify`)
  add('bforeai', 'domain', 60, i => `bf-${run}-d${i}.example.net`)
  add('cloudflare', 'url', 40, i => `https://cf-${run}-${i}.example.io/secure`)
  add('cloudflare', 'domain', 30, i => `cf-${run}-d${i}.example.io`)

  // 30 targets that already have an open case, opened through the single-create route
  const existing = new Map<string, string>()
  const olds: Item[] = []
  for (const provider of ['phishfort', 'bforeai', 'cloudflare'] as const) {
    for (let i = 0; i < 10; i++) {
      const it = item(provider, 'url', `https://old-${provider}-${run}-${i}.example.com/phish`)
      const res = await call<{ id: string }>(a, 'POST', '/v1/cases', { ...it, brand: { id: 501, name: 'Acme Bank' }, comment: 'filed before the batch' })
      expect(res.status).toBe(201)
      existing.set(it.target.value, res.json.id)
      olds.push(it)
    }
  }
  // 20 repeats spread over the vendors
  const repeats = [0, 100, 160, 210, 235, 240, 250, 300, 330, 379, 380, 400, 420, 449, 5, 95, 155, 205, 245, 385].map(i => fresh[i] as Item)
  const items = [...fresh, ...olds, ...repeats]
  // a fixed shuffle (no Math.random): every repeat still follows its first occurrence or precedes it, either way one is folded
  for (let i = items.length - 1; i > 0; i--) {
    const j = (i * 7919 + 13) % (i + 1)
    ;[items[i], items[j]] = [items[j] as Item, items[i] as Item]
  }
  return { items, fresh: { ...Object.fromEntries(PROVIDER_IDS.map(id => [id, 0])) as Record<ProviderId, number>, phishfort: 240, bforeai: 140, cloudflare: 70 }, existing }
}

async function items (gw: GatewayProcess, id: string): Promise<BatchItem[]> {
  const out: BatchItem[] = []
  let cursor: string | null = null
  do {
    const page: { json: { items: BatchItem[], nextCursor: string | null } } = await call(gw, 'GET', `/v1/batches/${id}/items?limit=500${cursor === null ? '' : `&cursor=${cursor}`}`)
    out.push(...page.json.items)
    cursor = page.json.nextCursor
  } while (cursor !== null)
  return out
}

async function until (gw: GatewayProcess, id: string, done: (b: Batch) => boolean, timeoutMs: number): Promise<Batch> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const { json } = await call<Batch>(gw, 'GET', `/v1/batches/${id}`)
    if (done(json)) return json
    if (Date.now() > end) throw new Error(`batch ${id} not there within ${timeoutMs} ms: ${JSON.stringify(json.counts)}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** the batch.completed events of one batch in the shared event log, read in pages */
async function completedEvents (id: string): Promise<Array<{ data: { batch: { id: string, counts: unknown } } }>> {
  const out: Array<{ data: { batch: { id: string, counts: unknown } } }> = []
  let after: string | null = null
  for (;;) {
    const q: string = after === null ? '' : `&after=${after}`
    const { json } = await call<{ items: typeof out, next: string | null }>(a, 'GET', `/v1/events?types=batch.completed&limit=500${q}`)
    out.push(...json.items.filter(e => e.data.batch.id === id))
    if (json.next === null || json.next === after) return out
    after = json.next
  }
}

async function checkOutcomes (id: string, plan: Awaited<ReturnType<typeof plan500>>, before: Record<ProviderId, number>): Promise<void> {
  const done = await until(a, id, batch => batch.status === 'completed', 10_000)
  expect(done.total).toBe(500)
  expect(done.counts).toEqual({ created: 450, duplicate: 50, failed: 0, cancelled: 0, pending: 0 })
  // both replicas worked the batch off: the log holds one batch.completed for it
  let events = await completedEvents(id)
  for (let i = 0; i < 50 && events.length === 0; i++) {
    await new Promise(resolve => setTimeout(resolve, 200))
    events = await completedEvents(id)
  }
  expect(events.map(e => e.data.batch.counts)).toEqual([done.counts])
  // exactly one vendor create per new target, at the vendor the item named
  const after = createCounts()
  expect(Object.fromEntries(PROVIDER_IDS.map(id => [id, after[id] - before[id]])))
    .toEqual(plan.fresh)
  const all = await items(a, id)
  expect(all).toHaveLength(500)
  // every created item names its own case; no case id twice
  const caseIds = all.filter(i => i.outcome === 'created').map(i => i.caseId)
  expect(new Set(caseIds).size).toBe(450)
  // the 30 open cases are named; the 20 repeats point at their first occurrence, which was created
  const named = all.filter(i => i.existing !== null)
  expect(named).toHaveLength(30)
  for (const i of named) expect(i.existing).toBe(plan.existing.get(i.target.value))
  const folded = all.filter(i => i.duplicateOf !== null)
  expect(folded).toHaveLength(20)
  const byIndex = new Map(all.map(i => [i.index, i]))
  for (const i of folded) {
    const firstItem = byIndex.get(i.duplicateOf as number)
    expect(firstItem?.outcome).toBe('created')
    expect(firstItem?.target.value).toBe(i.target.value)
  }
}

/** Cloudflare's own answer right now: after a 429 the simulator refuses every call for 5 minutes (vendor behaviour). */
async function cloudflareNeverRefused (): Promise<void> {
  const { credential, options } = PROVIDER_MODULES.cloudflare.sandbox
  const res = await fetch(`${sims.cloudflare.baseUrl}/accounts/${options.accountId}/abuse-reports?per_page=1`, {
    headers: { authorization: `Bearer ${credential}` }
  })
  await res.arrayBuffer()
  expect(res.status).toBe(200)
  const remaining = Number(/r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1])
  expect(remaining).toBeGreaterThan(0)
}

describe('a 500-item batch on two replicas', () => {
  it('creates each new target once at its vendor, names the duplicates, and never trips Cloudflare', async () => {
    const plan = await plan500(randomUUID().slice(0, 8))
    const before = createCounts()
    const res = await call<Batch>(a, 'POST', '/v1/batches', { defaults: { brand: { id: 501, name: 'Acme Bank' }, comment: 'phishing kit hunt' }, items: plan.items })
    expect(res.status).toBe(202)
    await checkOutcomes(res.json.id, plan, before)
    await cloudflareNeverRefused()
  }, 240_000)

  it('ends with the same counts and no double create when one replica is SIGKILLed half-way', async () => {
    const plan = await plan500(randomUUID().slice(0, 8))
    const before = createCounts()
    const res = await call<Batch>(b, 'POST', '/v1/batches', { defaults: { brand: { id: 501, name: 'Acme Bank' }, comment: 'phishing kit hunt' }, items: plan.items })
    expect(res.status).toBe(202)
    const id = res.json.id
    const half = await until(a, id, batch => batch.counts.pending <= 225, 120_000)
    expect(half.counts.pending).toBeGreaterThan(0)
    b.child.kill('SIGKILL')
    expect(await b.exited).toBe('SIGKILL')
    await until(a, id, batch => batch.counts.pending === 0, 180_000)
    await checkOutcomes(id, plan, before)
    await cloudflareNeverRefused()
  }, 300_000)
})
