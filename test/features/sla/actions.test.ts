/**
 * Service levels acting, across two replicas on the suite's Redis (one prefix, one manual clock, the vendors'
 * simulators over loopback): a case that sees no action breaches firstActionWithin; escalateAfter calls Netcraft's
 * escalate/ once; failoverAfter files exactly one case at the next provider of the routing order, linked both ways;
 * dry-run rules record what they would have done and send nothing; a case whose target is verified down in time is
 * met. Both replicas tick every step at once, as the jobs port would on a busy second. Each step is an event in the
 * feed, the case's timeline and a subscribed webhook endpoint.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { DEFAULT_ROUTING } from '../../../src/config.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'
import { eventually, startReceiver, type Receiver } from '../../support/receiver.js'

const H = 3_600_000
const KEY = Buffer.alloc(32, 9).toString('base64')
const POLICY = {
  rules: [
    { id: 'domains-met', match: { targetType: 'domain' }, downWithin: 'PT6H' },
    { id: 'netcraft-escalate', match: { provider: 'netcraft' }, firstActionWithin: 'PT1H', downWithin: 'PT24H', warnBefore: 'PT30M', escalateAfter: 'PT2H' },
    { id: 'phishfort-failover', match: { provider: 'phishfort', targetType: 'url' }, downWithin: 'PT24H', failoverAfter: 'PT3H' },
    { id: 'bforeai-dry', match: { provider: 'bforeai' }, firstActionWithin: 'PT1H', downWithin: 'PT4H', escalateAfter: 'PT2H', failoverAfter: 'PT3H', dryRun: true },
  ]
}
const clock = new ManualClock(Date.now())
const replicas: TestGateway[] = []
let rx: Receiver

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sla-actions-'))
  const path = join(dir, 'policy.json')
  writeFileSync(path, JSON.stringify(POLICY))
  const prefix = `t-sla-actions-${process.pid}-${Date.now()}:`
  for (let i = 0; i < 2; i++) {
    replicas.push(await testGateway({
      clock,
      store: 'redis',
      redisPrefix: prefix,
      ...(replicas[0] === undefined ? {} : { sandbox: replicas[0].sandbox }),
      // verification on (down = verified_down) with its probes far away: the test records the verified outcome itself
      env: { SLA_POLICY_FILE: path, WEBHOOK_ENCRYPTION_KEY: KEY, VERIFY_ENABLED: 'true', VERIFY_TICK_MS: '3600000', VERIFY_OPEN_INTERVAL_MS: String(7 * 24 * H) }
    }))
  }
  rx = await startReceiver()
})
afterAll(async () => {
  for (const gw of replicas.reverse()) await gw.close()
  await rx?.close()
})

const a = (): TestGateway => replicas[0] as TestGateway
async function tickBoth (): Promise<number> {
  const n = await Promise.all(replicas.map(async gw => await gw.app.sla.engine.tick()))
  return n.reduce((x, y) => x + y, 0)
}
async function create (provider: string, value: string, type = 'url'): Promise<string> {
  const res = await a().app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider, target: { type, value }, brand: { id: 501 }, comment: 'phishing clone of the login page' } })
  expect(res.statusCode, res.body).toBe(201)
  const id = res.json<{ id: string }>().id
  // case.created reaches the engine of the replica that recorded it
  expect(await eventually(async () => await a().app.sla.store.get(id) !== null)).toBe(true)
  return id
}
interface Ev { type: string, data: { caseId: string, policy: string, dryRun: boolean, clock: string | null, escalation: { via: string } | null, failover: { caseId: string | null, provider: string | null } | null, relatedCaseIds: string[] } }
async function eventsOf (caseId: string): Promise<Ev[]> {
  const res = await a().app.inject({ url: `/v1/events?caseId=${encodeURIComponent(caseId)}&types=case.sla_warning,case.sla_breached,case.escalated,case.failed_over`, headers: auth() })
  expect(res.statusCode).toBe(200)
  return res.json<{ items: Ev[] }>().items
}
async function sla (caseId: string): Promise<{ policy: string, state: string, breachedAt: string | null, relatedCaseIds: string[] } | null> {
  const res = await a().app.inject({ url: `/v1/cases/${encodeURIComponent(caseId)}`, headers: auth() })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<{ sla: never }>().sla
}

describe('service-level steps', () => {
  it('no action breaches firstActionWithin; escalateAfter calls Netcraft\'s escalation once; each step once across replicas, in the feed, the timeline and webhooks', async () => {
    const ep = await a().app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: rx.url, eventTypes: ['case.sla_breached', 'case.escalated'] } })
    expect(ep.statusCode).toBe(201)
    const escalations = (): number => a().sandbox.running.netcraft.sim.stats.get('POST', '/api/v1/escalate/')
    const before = escalations()
    const id = await create('netcraft', 'https://acme-bank-login.sla-escalate.example/signin')
    expect(await sla(id)).toMatchObject({ policy: 'netcraft-escalate', state: 'on_track', breachedAt: null })

    // the state without a case read (a read would observe the vendor moving the case along)
    const state = async (): Promise<string | undefined> => {
      const r = await a().app.sla.store.get(id)
      return r === null ? undefined : a().app.sla.engine.evaluation(r)?.state
    }
    clock.advance(31 * 60_000) // 29 min before the first-action due time
    expect(await tickBoth()).toBe(1)
    expect(await state()).toBe('at_risk')
    clock.advance(30 * 60_000) // past 1 h: the gateway saw no status move
    expect(await tickBoth()).toBe(1)
    expect(await state()).toBe('breached')
    expect(escalations()).toBe(before)

    clock.advance(H) // past escalateAfter (2 h)
    expect(await tickBoth()).toBe(1)
    expect(await tickBoth()).toBe(0)
    expect(escalations()).toBe(before + 1)
    const events = await eventsOf(id)
    expect(events.map(e => [e.type, e.data.clock])).toEqual([['case.sla_warning', 'first_action'], ['case.sla_breached', 'first_action'], ['case.escalated', null]])
    // the block says so, whatever the vendor did since: the first action came after its due time, if at all
    const block = await sla(id)
    expect(block).toMatchObject({ policy: 'netcraft-escalate', state: 'breached' })
    expect(Date.parse(block?.breachedAt ?? '')).toBeLessThan(clock.now())
    expect(events[2]?.data).toMatchObject({ policy: 'netcraft-escalate', dryRun: false, escalation: { via: 'vendor' } })
    // the timeline holds them beside the case's own events
    const timeline = await a().app.inject({ url: `/v1/cases/${encodeURIComponent(id)}/timeline`, headers: auth() })
    expect(timeline.json<{ items: Array<{ type: string }> }>().items.map(e => e.type)).toEqual(expect.arrayContaining(['case.created', 'case.sla_breached', 'case.escalated']))
    expect(await eventually(() => rx.received.filter(r => r.body.includes(id)).length >= 2)).toBe(true)
    const delivered = rx.received.filter(r => r.body.includes(id)).map(r => (JSON.parse(r.body) as { type: string }).type)
    expect(delivered.sort()).toEqual(['case.escalated', 'case.sla_breached'])
  })

  it('failoverAfter files exactly one case at the next provider of the routing order, linked both ways', async () => {
    const id = await create('phishfort', 'https://acme-bank-login.sla-failover.example/verify')
    clock.advance(3 * H + 1000)
    const taken = await Promise.all([tickBoth(), tickBoth()])
    expect(taken.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(1)
    const events = (await eventsOf(id)).filter(e => e.type === 'case.failed_over')
    expect(events).toHaveLength(1)
    const failover = events[0]?.data.failover
    // the first provider of the routing order, past the case's own, that takes the target
    const next = failover?.provider as string
    expect(DEFAULT_ROUTING.url.filter(p => p !== 'phishfort')).toContain(next)
    const newId = failover?.caseId as string
    expect(newId.startsWith(`${String(next)}:`)).toBe(true)
    expect(events[0]?.data.relatedCaseIds).toEqual([newId])
    // exactly one case at the next provider for the target
    const list = await a().app.inject({ url: `/v1/cases?provider=${String(next)}&q=${encodeURIComponent('sla-failover.example')}`, headers: auth() })
    expect(list.json<{ items: Array<{ id: string }> }>().items.map(c => c.id)).toEqual([newId])
    expect((await sla(id))?.relatedCaseIds).toEqual([newId])
    const back = await a().app.sla.store.get(newId)
    expect(Object.keys(back?.related ?? {})).toEqual([id])
    clock.advance(H)
    await tickBoth()
    expect((await eventsOf(id)).filter(e => e.type === 'case.failed_over')).toHaveLength(1)
  })

  it('a dry-run rule records what it would have done and sends nothing', async () => {
    const sim = a().sandbox.running.bforeai.sim
    const writesBefore = [...sim.stats.counts.entries()].filter(([k]) => k.startsWith('POST') || k.startsWith('PUT') || k.startsWith('PATCH')).reduce((n, [, v]) => n + v, 0)
    const id = await create('bforeai', 'https://acme-bank-login.sla-dry.example/login')
    const afterCreate = [...sim.stats.counts.entries()].filter(([k]) => k.startsWith('POST') || k.startsWith('PUT') || k.startsWith('PATCH')).reduce((n, [, v]) => n + v, 0)
    expect(afterCreate).toBeGreaterThan(writesBefore)
    clock.advance(4 * H + 1000)
    await tickBoth()
    await tickBoth()
    const events = await eventsOf(id)
    expect(events.map(e => e.type).sort()).toEqual(['case.escalated', 'case.failed_over', 'case.sla_breached', 'case.sla_breached'])
    for (const e of events) expect(e.data.dryRun).toBe(true)
    expect(events.find(e => e.type === 'case.failed_over')?.data.failover?.caseId).toBeNull()
    // no vendor write of any kind after the create: no comment, no escalation, no second case anywhere
    const after = [...sim.stats.counts.entries()].filter(([k]) => k.startsWith('POST') || k.startsWith('PUT') || k.startsWith('PATCH')).reduce((n, [, v]) => n + v, 0)
    expect(after).toBe(afterCreate)
    const elsewhere = await a().app.inject({ url: `/v1/cases?q=${encodeURIComponent('sla-dry.example')}`, headers: auth() })
    expect(elsewhere.json<{ items: Array<{ id: string }> }>().items.map(c => c.id)).toEqual([id])
  })

  it('a case whose target is verified down in time is met, and no step is taken for it', async () => {
    const id = await create('netcraft', 'acme-bank-login.sla-met.example', 'domain')
    clock.advance(2 * H)
    // the verified outcome, as the verification monitor records it (once, from the replica whose probe decided it)
    await a().app.events.service.append({
      type: 'target.verified_down',
      key: `target.verified_down:${id}:${clock.now()}`,
      occurredAt: new Date(clock.now()).toISOString(),
      data: { caseId: id, provider: 'netcraft', target: { type: 'domain', value: 'acme-bank-login.sla-met.example' }, state: 'verified_down', reason: 'dns:NXDOMAIN', probedAt: new Date(clock.now()).toISOString(), verifiedDownAt: new Date(clock.now()).toISOString(), providerStatus: 'taken_down', relatedCaseIds: [] }
    })
    expect(await eventually(async () => (await a().app.sla.store.get(id))?.facts.downAt !== null)).toBe(true)
    clock.advance(10 * H)
    await tickBoth()
    expect(await eventsOf(id)).toEqual([])
    expect(await sla(id)).toMatchObject({ policy: 'domains-met', state: 'met', breachedAt: null })
    const met = await a().app.inject({ url: `/v1/cases?sla=met&provider=netcraft&q=${encodeURIComponent('sla-met.example')}`, headers: auth() })
    expect(met.json<{ items: Array<{ id: string }> }>().items.map(c => c.id)).toEqual([id])
    const breachedOnly = await a().app.inject({ url: `/v1/cases?sla=breached&provider=netcraft&q=${encodeURIComponent('sla-met.example')}`, headers: auth() })
    expect(breachedOnly.json<{ items: unknown[] }>().items).toEqual([])
    // the export takes the same filter and carries the block's columns
    const exported = await a().app.inject({ url: `/v1/cases/export?format=csv&sla=met&provider=netcraft&q=${encodeURIComponent('sla-met.example')}`, headers: auth() })
    expect(exported.statusCode).toBe(200)
    const [header, row, ...rest] = exported.body.trim().split('\r\n')
    expect(rest).toEqual([])
    const cols = (header ?? '').split(',')
    const cells = (row ?? '').split(',')
    expect(cells[cols.indexOf('id')]).toBe(id)
    expect([cells[cols.indexOf('slaPolicy')], cells[cols.indexOf('slaState')], cells[cols.indexOf('slaBreachedAt')]]).toEqual(['domains-met', 'met', ''])
    const bad = await a().app.inject({ url: '/v1/cases?sla=late', headers: auth() })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ detail: string }>().detail).toBe('Unknown sla state late; allowed: on_track, at_risk, breached, met')
  })
})
