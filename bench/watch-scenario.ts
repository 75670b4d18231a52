/**
 * The open-set watch scenario, shared by test/events/open-set.test.ts (1,500 cases per vendor) and
 * `npm run bench:watch` (any size): random open cases of every vendor change status at the vendor (the simulators'
 * `/__sim` plan and close controls) at random moments of the manual clock, which moves in steps; each replica's
 * watcher ticks on its own cadence (`Watcher.tick`, what the jobs port runs), the replicas taking turns as BullMQ would
 * hand the ticks out. Measured: the vendor calls of every sync (the simulators count them), the change → event delay of
 * every change (clock time), and the events each changed case got.
 */
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import type { ManualClock } from '../src/clock.js'
import type { SyncReport } from '../src/events/watcher.js'
import { parseCaseId } from '../src/domain/case-id.js'
import type { CaseEvent } from '../src/schemas/event.js'
import { PROVIDER_IDS, type ProviderId } from '../src/schemas/provider.js'
import { Rng } from '../src/simulators/random.js'
import type { Sandbox } from '../src/simulators/sandbox.js'

export interface Sync {
  provider: ProviderId
  at: number
  calls: number
  report: SyncReport
  /** CPU of this process during the tick, ms (the simulators' too when they run in it); exact only with `sequential` */
  cpuMs: number
}

export interface VendorResult {
  changes: number
  /** cases changed that are older than the look-back window */
  oldChanges: number
  /** per changed case: the events recorded after its change */
  eventsPerChange: number[]
  /** change → event, clock ms, of the changes that got an event */
  delaysMs: number[]
  syncs: Sync[]
}

export interface ScenarioOptions {
  replicas: readonly FastifyInstance[]
  sandbox: Sandbox
  clock: ManualClock
  /** headers of a gateway key with the read scope */
  auth: Record<string, string>
  /** changes per vendor: one number for every vendor, or one per vendor */
  changesPerVendor: number | Partial<Record<ProviderId, number>>
  seed: number
  lookbackMs: number
  /** cases not to pick (changed by an earlier run) */
  exclude: Set<string>
  stepMs?: number
  /** the ticks due at one step run one after the other (so each tick's CPU is its own), not together */
  sequential?: boolean
  /**
   * each vendor's changes planned within its own cadence (not the longest one), and its ticks ended once its cadence
   * (a stretched one included) plus 10 s has passed after that: two ticks per vendor, not one per cadence of the
   * longest cadence twice over
   */
  ownCadence?: boolean
  /** a tick that throws: told here and the scenario goes on (the next tick reads again, as the jobs port has it); thrown without it */
  onTickError?: (provider: ProviderId, err: Error) => void
}

const norm = (s: string | null): string => (s ?? '').toLowerCase().replace(/[()]/g, '').trim().replace(/\s+/g, '_')

/** The control call that changes a case at the vendor: every other case to a terminal status, the rest to another open one. */
function change (provider: ProviderId, nativeId: string, current: string | null, k: number): { path: string, body?: unknown } {
  const plan = (status: string): unknown => ({ steps: [{ afterMs: 0, status }] })
  const cur = norm(current)
  switch (provider) {
    case 'phishfort': return { path: `/__sim/incidents/${nativeId}/plan`, body: plan(k % 2 === 0 ? 'closed' : cur === 'action_required' ? 'case_building' : 'action_required') }
    case 'bforeai': return { path: `/__sim/takedowns/${nativeId}/plan`, body: plan(k % 2 === 0 ? 'Closed' : cur === 'monitoring' ? 'In Progress' : 'Monitoring') }
    case 'netcraft': return { path: `/__sim/takedowns/${nativeId}/plan`, body: plan(k % 2 === 0 ? 'resolved' : cur === 'contacted_police' ? 'contacted_upstream' : 'contacted_police') }
    case 'cloudflare': return { path: `/__sim/abuse-reports/${nativeId}/close` }
    case 'webrisk': return { path: `/__sim/operations/${nativeId.slice(nativeId.indexOf('.') + 1)}/decide`, body: { state: k % 2 === 0 ? 'CLOSED' : cur === 'running' ? 'SUCCEEDED' : 'RUNNING' } }
    default: throw new Error(`the watch scenario has no control call that changes a ${provider} case`)
  }
}

export async function runWatchScenario (o: ScenarioOptions): Promise<Record<ProviderId, VendorResult>> {
  const stepMs = o.stepMs ?? 5000
  const first = o.replicas[0] as FastifyInstance
  const rng = new Rng(o.seed)
  const store = first.events.service.store
  const startId = await store.newestId()
  const intervals = Object.fromEntries((await first.events.watcher.status()).map(s => [s.provider, s.intervalMs])) as Record<ProviderId, number>
  const horizon = Math.max(...Object.values(intervals))

  // the cases to change: random open ones the gateway knows, old and new alike, each at a random step of the horizon
  const open = await store.openCasesCreatedBefore(Number.MAX_SAFE_INTEGER, 0, 10_000_000)
  const planned: Array<{ id: string, provider: ProviderId, at: number, control: { path: string, body?: unknown }, changedAt: number | null }> = []
  const results = {} as Record<ProviderId, VendorResult>
  for (const provider of PROVIDER_IDS) {
    results[provider] = { changes: 0, oldChanges: 0, eventsPerChange: [], delaysMs: [], syncs: [] }
    const pool = open.filter(id => parseCaseId(id)?.provider === provider && !o.exclude.has(id))
    const count = typeof o.changesPerVendor === 'number' ? o.changesPerVendor : (o.changesPerVendor[provider] ?? 0)
    const window = o.ownCadence === true ? intervals[provider] : horizon
    for (let k = 0; k < count && pool.length > 0; k++) {
      const id = pool.splice(rng.int(0, pool.length - 1), 1)[0] as string
      o.exclude.add(id)
      const res = await first.inject({ method: 'GET', url: `/v1/cases/${encodeURIComponent(id)}`, headers: o.auth })
      if (res.statusCode !== 200) throw new Error(`GET ${id}: ${res.statusCode} ${res.body}`)
      const c = res.json<{ providerStatus: string | null, createdAt: string }>()
      if (Date.parse(c.createdAt) < o.clock.now() - o.lookbackMs) results[provider].oldChanges++
      const at = rng.int(0, window / stepMs - 1) * stepMs
      planned.push({ id, provider, at, control: change(provider, parseCaseId(id)?.providerCaseId ?? '', c.providerStatus, k), changedAt: null })
      results[provider].changes++
    }
  }

  const start = o.clock.now()
  let turn = 0
  // on until the last possible change has had the longest cadence kept (a stretched one included) plus 10 s; with
  // `ownCadence`, each vendor until its own last possible change has had its own cadence kept plus 10 s
  let longest = horizon
  const kept = Object.fromEntries(PROVIDER_IDS.map(p => [p, intervals[p]])) as Record<ProviderId, number>
  const endOf = (p: ProviderId): number => o.ownCadence === true ? intervals[p] + kept[p] + 10_000 : horizon + longest + 10_000
  for (let t = 0; PROVIDER_IDS.some(p => t <= endOf(p)); t += stepMs) {
    if (t > 0) o.clock.advance(stepMs)
    for (const p of planned.filter(x => x.at === t)) {
      const sim = o.sandbox.running[p.provider]
      const res = await request(`${sim.origin}${p.control.path}`, {
        method: 'POST',
        ...(p.control.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(p.control.body) })
      })
      const text = await res.body.text()
      if (res.statusCode >= 300) throw new Error(`${p.control.path}: ${res.statusCode} ${text}`)
      p.changedAt = o.clock.now()
    }
    // the jobs port fires each provider's tick every configured interval; one replica takes each tick
    const tick = async (provider: ProviderId): Promise<void> => {
      const replica = o.replicas[turn++ % o.replicas.length] as FastifyInstance
      const stats = o.sandbox.running[provider].sim.stats
      const before = stats.total()
      const cpu = process.cpuUsage()
      let report: SyncReport | null
      try {
        report = await replica.events.watcher.tick(provider)
      } catch (err) {
        if (o.onTickError === undefined) throw err
        o.onTickError(provider, err as Error)
        return
      }
      if (report === null) return
      const used = process.cpuUsage(cpu)
      results[provider].syncs.push({ provider, at: o.clock.now() - start, calls: stats.total() - before, report, cpuMs: (used.user + used.system) / 1000 })
      longest = Math.max(longest, report.intervalMs)
      kept[provider] = Math.max(kept[provider], report.intervalMs)
    }
    const due = PROVIDER_IDS.filter(p => t > 0 && t % intervals[p] === 0 && t <= endOf(p))
    if (o.sequential === true) for (const provider of due) await tick(provider)
    else await Promise.all(due.map(tick))
  }

  const events: CaseEvent[] = []
  let after = startId
  for (;;) {
    const page = await store.read(after, 1000, {})
    events.push(...page.items.filter((e): e is CaseEvent => e.case !== null))
    if (page.items.length === 0 || page.next === after) break
    after = page.next
  }
  for (const p of planned) {
    const mine = events.filter(e => e.case.id === p.id && Date.parse(e.observedAt) >= (p.changedAt ?? Infinity))
    results[p.provider].eventsPerChange.push(mine.length)
    const firstEvent = mine[0]
    if (firstEvent !== undefined) results[p.provider].delaysMs.push(Date.parse(firstEvent.observedAt) - (p.changedAt as number))
  }
  return results
}

export function percentile (values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}
