/**
 * Two real gateway processes on one Redis (one key prefix) watch the same simulators. A scripted lifecycle moves
 * 200 cases per registered vendor through every status of the simulators' clock-driven lifecycle: PhishFort incidents and
 * BforeAI takedowns reported straight at the vendors (the watcher discovers them), Cloudflare abuse reports and
 * Netcraft takedowns created through `POST /v1/cases` with each module's example body. One replica is SIGKILLed
 * half-way. Every change must appear exactly once in GET /v1/events, with sequence 1, 2, 3, ... per case.
 */
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import type { RunningSimulator } from '../../src/simulators/harness.js'
import { SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import { httpRequest, killAll, listening, liveVendorEnv, spawnGateway, startVendors, type GatewayProcess } from '../support/gateway-process.js'

const PER_VENDOR = 200
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const headers = { authorization: 'Bearer ops-secret-key-0001' }
// the simulators' time: a month before the machine's clock, so every case is inside the watchers' look-back window
const clock = new ManualClock(Date.now() - 30 * DAY)
let sims: Record<ProviderId, RunningSimulator>
let a: GatewayProcess
let b: GatewayProcess

/** [offset from the report, providerStatus, unified status]: each simulator's lifecycle (see src/simulators/<id>/state.ts). */
type Path = ReadonlyArray<readonly [number, string, string]>
const PATHS: Record<ProviderId, Path> = {
  // pending_review → case_building +15 min → takedown_in_progress +2 h → takedown_success +24 h
  phishfort: [[0, 'pending_review', 'received'], [15 * MIN, 'case_building', 'in_review'], [2 * HOUR, 'takedown_in_progress', 'in_progress'], [DAY, 'takedown_success', 'taken_down']],
  // Pending → In Progress +1 h → Submitted to Registrar +7 h → Taken Down +55 h
  bforeai: [[0, 'Pending', 'received'], [HOUR, 'In Progress', 'in_progress'], [7 * HOUR, 'Submitted to Registrar', 'in_progress'], [55 * HOUR, 'Taken Down', 'taken_down']],
  // in_review → accepted +1 h with the interstitial pending → interstitial active +4 h (account_suspend pending) → account_suspend active +24 h
  cloudflare: [[0, 'in_review', 'in_review'], [HOUR, 'accepted', 'in_progress'], [4 * HOUR, 'accepted', 'mitigated'], [DAY, 'accepted', 'taken_down']],
  // force_auth=true: unverified → verified +10 min → contacted_hosting +1 h → resolved_monitoring +12 h → resolved +7 d
  netcraft: [[0, 'unverified', 'received'], [10 * MIN, 'verified', 'in_progress'], [10 * MIN + HOUR, 'contacted_hosting', 'in_progress'],
    [10 * MIN + 12 * HOUR, 'resolved_monitoring', 'mitigated'], [10 * MIN + 12 * HOUR + 7 * DAY, 'resolved', 'taken_down']]
}
const statusAt = (id: ProviderId, offset: number): string => PATHS[id].filter(([at]) => at <= offset).map(([, ps, s]) => `${ps}/${s}`).at(-1) ?? ''

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

function latest (events: CaseEvent[]): Map<string, CaseEvent> {
  const last = new Map<string, CaseEvent>()
  for (const e of events) last.set(e.case.id, e)
  return last
}

/** Waits until every case's newest event shows the status its vendor's lifecycle has reached at `offset`, then two more sync rounds. */
async function settle (gw: GatewayProcess, offset: number): Promise<CaseEvent[]> {
  const end = Date.now() + 90_000
  const behind = (events: CaseEvent[]): number => {
    const last = [...latest(events).values()]
    return PROVIDER_IDS.length * PER_VENDOR - last.filter(e => `${e.case.providerStatus ?? ''}/${e.case.status}` === statusAt(e.case.provider, offset)).length
  }
  while (Date.now() < end && behind(await feed(gw)) > 0) await new Promise(resolve => setTimeout(resolve, 250))
  // two more sync rounds: nothing further may appear
  await new Promise(resolve => setTimeout(resolve, 8500))
  const events = await feed(gw)
  const stale = [...latest(events).values()].filter(e => `${e.case.providerStatus ?? ''}/${e.case.status}` !== statusAt(e.case.provider, offset))
  expect(stale.map(e => `${e.case.provider} ${e.case.providerStatus ?? ''}/${e.case.status}`).slice(0, 5), `cases behind their vendor at +${offset / MIN} min`).toEqual([])
  expect(behind(events)).toBe(0)
  return events
}

async function report (provider: ProviderId, i: number): Promise<void> {
  const url = `https://replica-${provider}-${i}.events.example/login`
  if (provider === 'phishfort' || provider === 'bforeai') {
    const pf = provider === 'phishfort'
    const res = await request(pf ? `${sims.phishfort.baseUrl}/v1/incident/tkd` : `${sims.bforeai.baseUrl}/v2/takedown/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(pf ? { 'x-api-key': SANDBOX_CREDENTIALS.phishfort } : { 'x-authorization': SANDBOX_CREDENTIALS.bforeai }) },
      body: JSON.stringify(pf ? { url } : { url, brand_id: 501, comment: 'scripted lifecycle' })
    })
    await res.body.dump()
    expect(res.statusCode).toBeLessThan(300)
    return
  }
  // the vendors whose reports need their full form go through the gateway's own create
  const res = await httpRequest(a.origin, '/v1/cases', { method: 'POST', headers, body: PROVIDER_MODULES[provider].exampleCreate({ type: 'url', value: url }) })
  expect(res.status, res.body).toBe(201)
}

beforeAll(async () => {
  sims = await startVendors(clock, 5)
  const env: Record<string, string> = {
    ...liveVendorEnv(sims),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: `events-replicas-${randomUUID()}:`,
    GATEWAY_SECRET: 'replicas-test-secret-0123456789',
    GATEWAY_API_KEYS: 'ops:ops-secret-key-0001:read+write',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // Cloudflare's budget is 1200 calls per 5 min; at the default 20 % share the watcher reads the changed mitigations
    // of 200 reports in about 4 min per step, so here it gets the whole budget
    WATCH_BUDGET_SHARE_PERCENT: '100'
  }
  for (const id of PROVIDER_IDS) env[`WATCH_${id.toUpperCase()}_INTERVAL_MS`] = '1000'
  // two replicas listing 200 reports every second would spend most of that budget on listings alone
  env.WATCH_CLOUDFLARE_INTERVAL_MS = '4000'
  ;[a, b] = await Promise.all([listening(spawnGateway(env)), listening(spawnGateway(env))])
}, 40_000)

afterAll(async () => {
  await killAll()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

describe('two gateway processes watching one set of vendors', () => {
  it(`record every change of ${PER_VENDOR} cases per vendor exactly once, with gapless sequences, through a SIGKILL of one replica`, async () => {
    // the first look (silent) has to be done before the scripted cases appear
    await new Promise(resolve => setTimeout(resolve, 3000))
    expect(await feed(a)).toEqual([])
    for (let i = 0; i < PER_VENDOR; i++) await Promise.all(PROVIDER_IDS.map(async id => await report(id, i)))
    let events = await settle(a, 0)
    expect(events.filter(e => e.type === 'case.created')).toHaveLength(PROVIDER_IDS.length * PER_VENDOR)

    // every status change of every lifecycle, one clock step each, a minute after it is due
    const offsets = [...new Set(PROVIDER_IDS.flatMap(id => PATHS[id].map(([at]) => at)))].filter(at => at > 0).sort((x, y) => x - y)
    let now = 0
    let reader = a
    for (const [i, at] of offsets.entries()) {
      if (i === Math.floor(offsets.length / 2)) {
        // half-way: one replica dies without a chance to finish anything it was doing
        a.child.kill('SIGKILL')
        await a.exited
        reader = b
      }
      clock.advance(at + MIN - now)
      now = at + MIN
      events = await settle(reader, now)
    }

    const byCase = new Map<string, CaseEvent[]>()
    for (const e of events) byCase.set(e.case.id, [...(byCase.get(e.case.id) ?? []), e])
    expect(byCase.size).toBe(PROVIDER_IDS.length * PER_VENDOR)
    for (const [id, list] of byCase) {
      const provider = list[0]?.case.provider as ProviderId
      expect(list.map(e => e.sequence), id).toEqual(list.map((_e, n) => n + 1))
      // no change recorded twice: each event shows another case than the one before it
      const shown = list.map(e => JSON.stringify(e.case))
      expect(shown.filter((c, n) => c === shown[n - 1]), id).toEqual([])
      // every status of the path, in order, once each (no change missed, none recorded twice)
      const seen = list.map(e => `${e.case.providerStatus ?? ''}/${e.case.status}`).filter((s, n, all) => s !== all[n - 1])
      expect(seen, id).toEqual(PATHS[provider].map(([, ps, s]) => `${ps}/${s}`))
      expect(list.at(-1)?.case.terminal, id).toBe(true)
    }
    const ids = events.map(e => e.id)
    expect(new Set(ids).size).toBe(ids.length)
  }, 240_000)
})
