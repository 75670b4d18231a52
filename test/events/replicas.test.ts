/**
 * Two real gateway processes on one Redis (one key prefix) watch the same four simulators. A scripted lifecycle moves
 * 200 cases per vendor, reported straight at the vendors (the watchers discover them), through every status of each
 * vendor's status table: the cases of a vendor are split into groups with different paths (takedown, monitoring,
 * safe/cancel, approval, rejection, failure, appeal), moved by the simulators' clock, by the vendors' own client routes
 * and, for what only the vendor's people decide, by the simulators' `/__sim` plan and review controls. All groups move
 * in parallel on 7 clock steps. Every change must appear exactly once in GET /v1/events, with sequence 1, 2, 3, ... per
 * case, once with both replicas up and once with one replica SIGKILLed half-way.
 */
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import type { UnifiedStatus } from '../../src/schemas/unified-status.js'
import { STATUSES as BFOREAI_REFERENCE_STATUSES } from '../../src/simulators/bforeai/state.js'
import type { RunningSimulator } from '../../src/simulators/harness.js'
import { SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import { normaliseStatusName } from '../../src/status/table.js'
import { httpRequest, killAll, listening, liveVendorEnv, spawnGateway, startVendors, type GatewayProcess } from '../support/gateway-process.js'

const PER_VENDOR = 200
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const headers = { authorization: 'Bearer ops-secret-key-000000001' }
const CF_ACCOUNT = PROVIDER_MODULES.cloudflare.sandbox.options.accountId ?? ''

/**
 * The clock steps, as offsets from the reports. Each lifecycle change of a group falls between two steps, and no case
 * changes twice within one step (the watchers would see only the second change).
 *   1: 20 min  PhishFort case_building (+15 min), Netcraft verified (+10 min)
 *   2: 75 min  PhishFort pre_weaponised (+30 min) and closed after mark-safe (+1 h), BforeAI In Progress (+1 h),
 *              Cloudflare accepted (+1 h), Netcraft contacted_hosting (+70 min)
 *   3: 5 h     PhishFort takedown_in_progress (+2 h), Cloudflare interstitial active (+4 h)
 *   4: 12¼ h   BforeAI Submitted to … (+7 h), Netcraft resolved_monitoring (+12 h 10 min)
 *   5: 25 h    PhishFort takedown_success (+24 h), Cloudflare account_suspend active (+24 h)
 *   6: 56 h    BforeAI Taken Down (+55 h)
 *   7: 14 d 1 h  Netcraft resolved (+7 d 12 h 10 min) and stale (+14 d)
 */
const STEPS = [0, 20 * MIN, 75 * MIN, 5 * HOUR, 12 * HOUR + 15 * MIN, 25 * HOUR, 56 * HOUR, 14 * DAY + HOUR]
/** the replica SIGKILLed in the second run dies right after the clock reached this step */
const KILL_AT = 4
/** a plan step made at the reports that lands in clock step n */
const due = (n: number): number => (STEPS[n] as number) - MIN

interface Vendors { sims: Record<ProviderId, RunningSimulator> }

/** A path: [step, providerStatus, unified status], the status each case of the group shows from that step on. */
type Path = ReadonlyArray<readonly [number, string, UnifiedStatus]>

interface Group {
  provider: ProviderId
  name: string
  /** reports one case straight at the vendor; answers the vendor's id */
  report: (v: Vendors, url: string) => Promise<string>
  /** calls on each case of the group at a step, right after the clock reached it (step 0: right after the report) */
  actions?: Readonly<Record<number, (v: Vendors, id: string, url: string) => Promise<void>>>
  path: Path
}

async function vendorCall (v: Vendors, provider: ProviderId, method: 'POST' | 'GET', path: string, body?: unknown): Promise<string> {
  const auth: Partial<Record<ProviderId, Record<string, string>>> = {
    phishfort: { 'x-api-key': SANDBOX_CREDENTIALS.phishfort },
    bforeai: { 'x-authorization': SANDBOX_CREDENTIALS.bforeai },
    cloudflare: { authorization: `Bearer ${SANDBOX_CREDENTIALS.cloudflare}` },
    netcraft: { authorization: `Bearer ${SANDBOX_CREDENTIALS.netcraft}` }
  }
  const control = path.startsWith('/__sim')
  const res = await request(`${control ? v.sims[provider].origin : v.sims[provider].baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(control ? {} : auth[provider]) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.body.text()
  expect(res.statusCode, `${method} ${path}: ${text}`).toBeLessThan(300)
  return text
}

/** a `/__sim` plan: [step, vendor status] pairs, each due inside that clock step */
const plan = (provider: ProviderId, resource: string, steps: ReadonlyArray<readonly [number, string]>) =>
  async (v: Vendors, id: string): Promise<void> => {
    await vendorCall(v, provider, 'POST', `/__sim/${resource}/${id}/plan`, { steps: steps.map(([n, status]) => ({ afterMs: due(n), status })) })
  }

const phishfortReport = (kind: 'tkd' | 'monitor') => async (v: Vendors, url: string): Promise<string> =>
  (JSON.parse(await vendorCall(v, 'phishfort', 'POST', `/v1/incident/${kind}`, { url })) as { id: string }).id
const bforeaiRequest = async (v: Vendors, url: string): Promise<string> =>
  (JSON.parse(await vendorCall(v, 'bforeai', 'POST', '/v2/takedown/request', { url, brand_id: 501, comment: 'scripted lifecycle' })) as { id: string }).id
const cloudflareSubmit = (act: 'abuse_phishing' | 'abuse_general') => async (v: Vendors, url: string): Promise<string> => {
  const body = {
    act,
    name: 'Acme SOC',
    email: 'soc@acme.example',
    email2: 'soc@acme.example',
    urls: url,
    justification: 'Credential phishing page cloning the Acme Bank login form',
    host_notification: 'send',
    owner_notification: 'send-anon'
  }
  return (JSON.parse(await vendorCall(v, 'cloudflare', 'POST', `/accounts/${CF_ACCOUNT}/abuse-reports/${act}`, body)) as { abuse_rand: string }).abuse_rand
}
const netcraftReport = (fields: Record<string, string>) => async (v: Vendors, url: string): Promise<string> => {
  const answer = await vendorCall(v, 'netcraft', 'POST', '/report/', { attack: url, comment: 'scripted lifecycle', region: 'sandbox-region', type: 'phishing_url', ...fields })
  expect(answer).toMatch(/^TD_(OK|EXISTS)\n\d+$/)
  return answer.split('\n')[1] ?? ''
}

const PHISHFORT_TAKEDOWN: Path = [[0, 'pending_review', 'received'], [1, 'case_building', 'in_review'], [3, 'takedown_in_progress', 'in_progress'], [5, 'takedown_success', 'taken_down']]
const BFOREAI_START: Path = [[0, 'Pending', 'received'], [2, 'In Progress', 'in_progress']]
const CLOUDFLARE_START: Path = [[0, 'in_review', 'in_review'], [2, 'accepted', 'in_progress'], [3, 'accepted', 'mitigated']]

const GROUPS: readonly Group[] = [
  // PhishFort Client API docs, 'Incident Lifecycle' page
  { provider: 'phishfort', name: 'takedown', report: phishfortReport('tkd'), path: PHISHFORT_TAKEDOWN },
  { provider: 'phishfort', name: 'monitor', report: phishfortReport('monitor'), path: [[0, 'pending_review', 'received'], [2, 'pre_weaponised', 'monitoring']] },
  {
    provider: 'phishfort',
    name: 'mark safe',
    report: phishfortReport('tkd'),
    actions: { 0: async (v, id) => { await vendorCall(v, 'phishfort', 'POST', `/v1/incident/${id}/safe`) } },
    path: [[0, 'pending_review', 'received'], [2, 'closed', 'closed']]
  },
  {
    provider: 'phishfort',
    name: 'approval, failed attempt',
    report: phishfortReport('tkd'),
    actions: { 0: plan('phishfort', 'incidents', [[1, 'case_building'], [2, 'approval_required'], [3, 'takedown_ready'], [4, 'takedown_in_progress'], [5, 'takedown_attempt_failed']]) },
    path: [[0, 'pending_review', 'received'], [1, 'case_building', 'in_review'], [2, 'approval_required', 'awaiting_customer'], [3, 'takedown_ready', 'in_progress'],
      [4, 'takedown_in_progress', 'in_progress'], [5, 'takedown_attempt_failed', 'failed']]
  },
  {
    provider: 'phishfort',
    name: 'client action, blocklisted',
    report: phishfortReport('tkd'),
    actions: { 0: plan('phishfort', 'incidents', [[1, 'case_building'], [2, 'action_required'], [3, 'blocklisted']]) },
    path: [[0, 'pending_review', 'received'], [1, 'case_building', 'in_review'], [2, 'action_required', 'awaiting_customer'], [3, 'blocklisted', 'mitigated']]
  },
  // BforeAI API docs, POST /v2/takedown/request, POST /v2/takedown/social-media, POST /v2/takedown/{takedown_id}/cancel
  { provider: 'bforeai', name: 'infrastructure', report: bforeaiRequest, path: [...BFOREAI_START, [4, 'Submitted to Registrar', 'in_progress'], [6, 'Taken Down', 'taken_down']] },
  {
    provider: 'bforeai',
    name: 'social media',
    report: async (v, url) => (JSON.parse(await vendorCall(v, 'bforeai', 'POST', '/v2/takedown/social-media', {
      malicious_url: url, brand_id: 501, comment: 'scripted lifecycle', platform: 'Facebook', threat_type: 'Impersonation'
    })) as { id: string }).id,
    path: [...BFOREAI_START, [4, 'Submitted to Host', 'in_progress'], [6, 'Taken Down', 'taken_down']]
  },
  {
    provider: 'bforeai',
    name: 'cancelled',
    report: bforeaiRequest,
    actions: { 3: async (v, id) => { await vendorCall(v, 'bforeai', 'POST', `/v2/takedown/${id}/cancel`, { cancel_reason_id: 1 }) } },
    path: [...BFOREAI_START, [3, 'Cancelled', 'cancelled']]
  },
  {
    provider: 'bforeai',
    name: 'approval, failed',
    report: bforeaiRequest,
    actions: { 0: plan('bforeai', 'takedowns', [[1, 'Awaiting Approval'], [2, 'In Progress'], [3, 'Submitted to Registrar'], [4, 'Failed']]) },
    path: [[0, 'Pending', 'received'], [1, 'Awaiting Approval', 'awaiting_customer'], [2, 'In Progress', 'in_progress'], [3, 'Submitted to Registrar', 'in_progress'], [4, 'Failed', 'failed']]
  },
  {
    provider: 'bforeai',
    name: 'monitoring, closed',
    report: bforeaiRequest,
    actions: { 0: plan('bforeai', 'takedowns', [[1, 'Monitoring'], [5, 'Closed']]) },
    path: [[0, 'Pending', 'received'], [1, 'Monitoring', 'monitoring'], [5, 'Closed', 'closed']]
  },
  {
    provider: 'bforeai',
    name: 'rejected',
    report: bforeaiRequest,
    actions: { 0: plan('bforeai', 'takedowns', [[2, 'Rejected']]) },
    path: [[0, 'Pending', 'received'], [2, 'Rejected', 'failed']]
  },
  // Cloudflare API schema, SubmitAbuseReport and RequestReview
  { provider: 'cloudflare', name: 'phishing', report: cloudflareSubmit('abuse_phishing'), path: [...CLOUDFLARE_START, [5, 'accepted', 'taken_down']] },
  {
    provider: 'cloudflare',
    name: 'general, appealed, removed',
    report: cloudflareSubmit('abuse_general'),
    actions: {
      4: async (v, id) => { await vendorCall(v, 'cloudflare', 'POST', `/accounts/${CF_ACCOUNT}/abuse-reports/${id}/mitigations/appeal`, { type: 'content_removed' }) },
      5: async (v, id) => { await vendorCall(v, 'cloudflare', 'POST', `/__sim/abuse-reports/${id}/review`, { outcome: 'removed' }) }
    },
    path: [...CLOUDFLARE_START, [4, 'accepted', 'in_review'], [5, 'accepted', 'closed']]
  },
  // Netcraft Takedown API (XSOAR "Netcraft v2" integration docs): report, force_auth, inactive
  {
    provider: 'netcraft',
    name: 'authorised',
    report: netcraftReport({ force_auth: 'true' }),
    path: [[0, 'unverified', 'received'], [1, 'verified', 'in_progress'], [2, 'contacted_hosting', 'in_progress'], [4, 'resolved_monitoring', 'mitigated'], [7, 'resolved', 'taken_down']]
  },
  {
    provider: 'netcraft',
    name: 'authorised later',
    report: netcraftReport({ force_auth: 'false' }),
    // reporting the attack again with force_auth=true authorises its takedown
    actions: { 2: async (v, _id, url) => { await netcraftReport({ force_auth: 'true' })(v, url) } },
    path: [[0, 'unverified', 'received'], [1, 'verified', 'awaiting_customer'], [2, 'verified', 'in_progress'], [3, 'contacted_hosting', 'in_progress'],
      [5, 'resolved_monitoring', 'mitigated'], [7, 'resolved', 'taken_down']]
  },
  {
    provider: 'netcraft',
    name: 'upstream, police',
    report: netcraftReport({ force_auth: 'true' }),
    actions: { 0: plan('netcraft', 'takedowns', [[1, 'verified'], [2, 'contacted_upstream'], [3, 'contacted_police'], [4, 'resolved_monitoring']]) },
    path: [[0, 'unverified', 'received'], [1, 'verified', 'in_progress'], [2, 'contacted_upstream', 'in_progress'], [3, 'contacted_police', 'in_progress'], [4, 'resolved_monitoring', 'mitigated']]
  },
  {
    provider: 'netcraft',
    name: 'invalid',
    report: netcraftReport({ force_auth: 'false' }),
    actions: { 0: plan('netcraft', 'takedowns', [[1, 'invalid']]) },
    path: [[0, 'unverified', 'received'], [1, 'invalid', 'failed']]
  },
  { provider: 'netcraft', name: 'inactive', report: netcraftReport({ force_auth: 'false', inactive: 'true' }), path: [[0, 'inactive_monitoring', 'monitoring'], [7, 'stale', 'closed']] }
]

/** the vendors whose lifecycles GROUPS scripts; the other registered vendors are watched alongside, unscripted */
const SCRIPTED = PROVIDER_IDS.filter(p => GROUPS.some(g => g.provider === p))

/**
 * Every status of a vendor's table, as `providerStatus/unified` (lookup tables: the normalised name and its row).
 * PhishFort's legacy labels "Takedown Failed" and "Takedown Pending" are left out: the vendor serves them only as the
 * `statusVerbose` of incidents that predate `status`, never on a reported incident. BforeAI's table also holds the
 * spellings other tenants' run-time names use ("new", "completed", ...): the vendor's reference list
 * (GET /v2/takedown/statuses) names the statuses its takedowns move through, and those are the ones expected here.
 */
function tableStatuses (provider: ProviderId): Set<string> {
  const table = PROVIDER_MODULES[provider].statusTable
  if (table.kind === 'rules') return new Set(table.rules.flatMap(r => (r.when.providerStatus ?? []).map(ps => `${ps}/${r.then}`)))
  let names = Object.keys(table.entries)
  if (provider === 'phishfort') names = names.filter(n => !['Takedown Failed', 'Takedown Pending'].includes(n))
  if (provider === 'bforeai') {
    const reference = new Set(BFOREAI_REFERENCE_STATUSES.map(s => normaliseStatusName(s.name)))
    names = names.filter(n => reference.has(normaliseStatusName(n)))
  }
  return new Set(names.map(n => `${normaliseStatusName(n)}/${table.entries[n] ?? ''}`))
}
/** `providerStatus/unified`, the name normalised where the vendor's table compares names that way */
const statusKey = (provider: ProviderId, ps: string, status: string): string =>
  `${PROVIDER_MODULES[provider].statusTable.kind === 'lookup' ? normaliseStatusName(ps) : ps}/${status}`
const shown = (provider: ProviderId, e: CaseEvent): string => statusKey(provider, e.case.providerStatus ?? '', e.case.status)

async function feed (gw: GatewayProcess): Promise<CaseEvent[]> {
  const out: CaseEvent[] = []
  let after = ''
  for (;;) {
    const res = await httpRequest(gw.origin, `/v1/events?limit=500${after === '' ? '' : `&after=${after}`}`, { headers })
    expect(res.status, res.body).toBe(200)
    const page = JSON.parse(res.body) as { items: CaseEvent[], next: string | null }
    out.push(...page.items)
    if (page.items.length === 0 || page.next === null) return out
    after = page.next
  }
}

/** completed watcher syncs per provider, from the replica's own metrics */
async function syncs (gw: GatewayProcess): Promise<Record<string, number>> {
  const text = (await httpRequest(gw.origin, '/metrics')).body
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^takedown_gateway_watch_sync_duration_seconds_count\{provider="(\w+)",outcome="ok"\} (\d+)$/gm)) out[m[1] ?? ''] = Number(m[2])
  return out
}

/** Waits (deadline 30 s) until the replicas together have completed `rounds` more syncs of every vendor than now. */
async function syncRounds (replicas: GatewayProcess[], rounds: number): Promise<void> {
  const total = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {}
    for (const counts of await Promise.all(replicas.map(syncs))) for (const [id, n] of Object.entries(counts)) out[id] = (out[id] ?? 0) + n
    return out
  }
  const start = await total()
  const end = Date.now() + 30_000
  let now = start
  while (PROVIDER_IDS.some(id => (now[id] ?? 0) < (start[id] ?? 0) + rounds) && Date.now() < end) {
    await new Promise(resolve => setTimeout(resolve, 100))
    now = await total()
  }
  expect(PROVIDER_IDS.filter(id => (now[id] ?? 0) < (start[id] ?? 0) + rounds), `vendors without ${rounds} more syncs`).toEqual([])
}

interface Scripted { group: Group, url: string, id: string }

/** Polls the feed until every case's newest event shows the status its path has at `step` (deadline: 45 s; about 1 s measured). */
async function converge (gw: GatewayProcess, cases: ReadonlyMap<string, Scripted>, step: number): Promise<CaseEvent[]> {
  const expectedAt = (c: Scripted): string => {
    const [, ps, s] = c.group.path.filter(([n]) => n <= step).at(-1) ?? [0, '', '']
    return statusKey(c.group.provider, ps, s)
  }
  const behind = (events: CaseEvent[]): string[] => {
    const last = new Map<string, CaseEvent>()
    for (const e of events) last.set(`${e.case.provider}:${e.case.providerCaseId}`, e)
    const out: string[] = []
    for (const [key, c] of cases) {
      const e = last.get(key)
      const now = e === undefined ? '(none)' : shown(c.group.provider, e)
      if (now !== expectedAt(c)) out.push(`${c.group.provider} ${c.group.name}: ${now}, expected ${expectedAt(c)}`)
    }
    return out
  }
  const end = Date.now() + 45_000
  let events = await feed(gw)
  while (behind(events).length > 0 && Date.now() < end) {
    await new Promise(resolve => setTimeout(resolve, 250))
    events = await feed(gw)
  }
  expect(behind(events).slice(0, 5), `cases behind their vendor at step ${step}`).toEqual([])
  return events
}

async function run (kill: boolean): Promise<void> {
  // the simulators' time: a month before the machine's clock, so every case is inside the watchers' look-back window
  const clock = new ManualClock(Date.now() - 30 * DAY)
  // the Cloudflare simulator enforces no rate limit, and the gateways no Cloudflare budget: 200 reports changing at
  // once each cost a mitigation read, and a budget wait would only slow the watchers down, not test them
  const v: Vendors = { sims: await startVendors(clock, 5, { cloudflare: { 'rate-limit': 'off' } }) }
  const env: Record<string, string> = {
    ...liveVendorEnv(v.sims),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: `events-replicas-${randomUUID()}:`,
    GATEWAY_SECRET: 'replicas-test-secret-0123456789',
    GATEWAY_API_KEYS: 'ops:ops-secret-key-000000001:read+write',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    CLOUDFLARE_OUTBOUND_BUDGET: '0'
  }
  for (const id of PROVIDER_IDS) env[`WATCH_${id.toUpperCase()}_INTERVAL_MS`] = '1000'
  try {
    const [a, b] = await Promise.all([listening(spawnGateway(env)), listening(spawnGateway(env))]) as [GatewayProcess, GatewayProcess]
    // the first look (silent) of every vendor has to be done before the scripted cases appear
    await syncRounds([a, b], 1)
    expect(await feed(b)).toEqual([])

    const cases = new Map<string, Scripted>()
    for (const provider of SCRIPTED) {
      const groups = GROUPS.filter(g => g.provider === provider)
      for (let i = 0; i < PER_VENDOR; i += 20) {
        await Promise.all(Array.from({ length: Math.min(20, PER_VENDOR - i) }, async (_x, k) => {
          const group = groups[(i + k) % groups.length] as Group
          const url = provider === 'bforeai' && group.name === 'social media'
            ? `https://www.facebook.com/replica-${i + k}`
            : `https://replica-${provider}-${i + k}.events.example/login`
          const id = await group.report(v, url)
          cases.set(`${provider}:${id}`, { group, url, id })
          await group.actions?.[0]?.(v, id, url)
        }))
      }
    }
    expect(cases.size).toBe(SCRIPTED.length * PER_VENDOR)
    let events = await converge(b, cases, 0)

    for (let step = 1; step < STEPS.length; step++) {
      clock.advance((STEPS[step] as number) - (STEPS[step - 1] as number))
      await Promise.all([...cases.values()].map(async c => await c.group.actions?.[step]?.(v, c.id, c.url)))
      if (kill && step === KILL_AT) {
        // half-way, while the replicas read the step's changes: one dies without a chance to finish anything it was doing
        a.child.kill('SIGKILL')
        await a.exited
      }
      events = await converge(b, cases, step)
    }

    // two more full syncs of every vendor after the last change: nothing further may appear
    await syncRounds(kill ? [b] : [a, b], 2)
    events = await feed(b)

    const byCase = new Map<string, CaseEvent[]>()
    for (const e of events) byCase.set(`${e.case.provider}:${e.case.providerCaseId}`, [...(byCase.get(`${e.case.provider}:${e.case.providerCaseId}`) ?? []), e])
    expect([...byCase.keys()].sort()).toEqual([...cases.keys()].sort())
    for (const [key, list] of byCase) {
      const c = cases.get(key) as Scripted
      expect(list.map(e => e.sequence), key).toEqual(list.map((_e, n) => n + 1))
      // no change recorded twice: each event shows another case than the one before it
      const snapshots = list.map(e => JSON.stringify(e.case))
      expect(snapshots.filter((s, n) => s === snapshots[n - 1]), key).toEqual([])
      // every status of the path, in order, once each: none missed, none recorded twice
      expect(list.map(e => shown(c.group.provider, e)).filter((s, n, all) => s !== all[n - 1]), `${key} (${c.group.name})`)
        .toEqual(c.group.path.map(([, ps, s]) => statusKey(c.group.provider, ps, s)))
    }
    const ids = events.map(e => e.id)
    expect(new Set(ids).size).toBe(ids.length)
    // across its cases, every vendor reached every status of its table
    for (const provider of SCRIPTED) {
      expect(new Set(events.filter(e => e.case.provider === provider).map(e => shown(provider, e))), provider).toEqual(tableStatuses(provider))
    }
  } finally {
    await killAll()
    await Promise.all(PROVIDER_IDS.map(async id => await v.sims[id].close()))
  }
}

afterEach(async () => { await killAll() })

describe('two gateway processes watching one set of vendors', () => {
  it(`record every change of ${PER_VENDOR} cases per vendor, through every vendor status, exactly once with gapless sequences`, async () => {
    await run(false)
  }, 70_000)

  it('do the same through a SIGKILL of one replica half-way', async () => {
    await run(true)
  }, 70_000)
})
