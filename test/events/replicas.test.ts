/**
 * Two real gateway processes on one Redis (one key prefix) watch the same simulators. A scripted lifecycle moves
 * 200 PhishFort incidents and 200 BforeAI takedowns, reported straight at the vendors, through every status of their
 * takedown path on the simulators' clock; one replica is SIGKILLed half-way. Every change must appear exactly once in
 * GET /v1/events, with sequence 1, 2, 3, 4 per case. (Cloudflare is left out here: its reports need the full submit
 * form; its polls go through the same observe step.)
 */
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import type { RunningSimulator } from '../../src/simulators/harness.js'
import { SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'
import { httpRequest, killAll, listening, liveVendorEnv, spawnGateway, startVendors, type GatewayProcess } from '../support/gateway-process.js'

const PER_VENDOR = 200
const MIN = 60_000
const HOUR = 60 * MIN
const headers = { authorization: 'Bearer ops-secret-key-0001' }
// the simulators' time: a month before the machine's clock, so every case is inside the watchers' look-back window
const clock = new ManualClock(Date.now() - 30 * 24 * HOUR)
let sims: Record<ProviderId, RunningSimulator>
let a: GatewayProcess
let b: GatewayProcess

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

async function settle (gw: GatewayProcess, expected: number): Promise<CaseEvent[]> {
  const end = Date.now() + 60_000
  let events: CaseEvent[] = []
  while (Date.now() < end) {
    events = await feed(gw)
    if (events.length >= expected) break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  // two more sync rounds: nothing further may appear
  await new Promise(resolve => setTimeout(resolve, 2500))
  return await feed(gw)
}

async function report (provider: 'phishfort' | 'bforeai', i: number): Promise<void> {
  const url = `https://replica-${provider}-${i}.events.example/login`
  const pf = provider === 'phishfort'
  const res = await request(pf ? `${sims.phishfort.baseUrl}/v1/incident/tkd` : `${sims.bforeai.baseUrl}/v2/takedown/request`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(pf ? { 'x-api-key': SANDBOX_CREDENTIALS.phishfort } : { 'x-authorization': SANDBOX_CREDENTIALS.bforeai }) },
    body: JSON.stringify(pf ? { url } : { url, brand_id: 501, comment: 'scripted lifecycle' })
  })
  await res.body.dump()
  expect(res.statusCode).toBeLessThan(300)
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
    WATCH_PHISHFORT_INTERVAL_MS: '1000',
    WATCH_BFOREAI_INTERVAL_MS: '1000',
    WATCH_CLOUDFLARE_INTERVAL_MS: '0'
  }
  ;[a, b] = await Promise.all([listening(spawnGateway(env)), listening(spawnGateway(env))])
}, 40_000)

afterAll(async () => {
  await killAll()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

describe('two gateway processes watching one set of vendors', () => {
  it('record every change of 400 cases exactly once, with gapless sequences, through a SIGKILL of one replica', async () => {
    // the first look (silent) has to be done before the scripted cases appear
    await new Promise(resolve => setTimeout(resolve, 3000))
    expect(await feed(a)).toEqual([])
    for (let i = 0; i < PER_VENDOR; i++) await Promise.all([report('phishfort', i), report('bforeai', i)])
    let events = await settle(a, 2 * PER_VENDOR)
    expect(events.filter(e => e.type === 'case.created')).toHaveLength(2 * PER_VENDOR)

    // PhishFort: case_building +15 min, takedown_in_progress +2 h, takedown_success +24 h;
    // BforeAI: In Progress +1 h, Submitted to Registrar +7 h, Taken Down +55 h
    const stages: Array<[number, number]> = [[20 * MIN, PER_VENDOR], [HOUR, PER_VENDOR], [HOUR, PER_VENDOR], [6 * HOUR, PER_VENDOR], [17 * HOUR, PER_VENDOR], [32 * HOUR, PER_VENDOR]]
    let expected = 2 * PER_VENDOR
    for (const [i, [advance, changes]] of stages.entries()) {
      if (i === 3) {
        // half-way: one replica dies without a chance to finish anything it was doing
        a.child.kill('SIGKILL')
        await a.exited
      }
      clock.advance(advance)
      expected += changes
      events = await settle(b, expected)
      expect(events.length, `after stage ${i + 1}`).toBe(expected)
    }

    const byCase = new Map<string, CaseEvent[]>()
    for (const e of events) byCase.set(e.case.id, [...(byCase.get(e.case.id) ?? []), e])
    expect(byCase.size).toBe(2 * PER_VENDOR)
    for (const [id, list] of byCase) {
      expect(list.map(e => e.sequence), id).toEqual([1, 2, 3, 4])
      expect(list.at(-1)?.case.terminal, id).toBe(true)
      const statuses = list.map(e => e.case.providerStatus)
      expect(new Set(statuses).size, id).toBe(4)
    }
    const ids = events.map(e => e.id)
    expect(new Set(ids).size).toBe(ids.length)
  }, 240_000)
})
