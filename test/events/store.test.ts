/**
 * The event-log port, both adapters, the same expectations: the compare-and-record rules, per-case sequences,
 * one event per change however many replicas observe it, paging and filters, timelines and the shared tail.
 */
import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, inject, it, vi } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { MemoryEventStore } from '../../src/events/memory-store.js'
import { EventMetrics } from '../../src/events/metrics.js'
import { RedisEventStore } from '../../src/events/redis-store.js'
import { turnBatch } from '../../src/store/turn-batch.js'
import type { EventStore } from '../../src/events/store.js'
import type { Case } from '../../src/schemas/case.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { isTerminal, type UnifiedStatus } from '../../src/schemas/unified-status.js'
import { fakeCase } from '../support/fake-connector.js'

const DAY = 86_400_000
const retention = { retentionMs: 30 * DAY, timelineRetentionMs: 365 * DAY }
const log = pino({ level: 'silent' })
const open: EventStore[] = []
afterEach(async () => { await Promise.all(open.splice(0).map(async s => { await s.close() })) })

function withStatus (c: Case, status: UnifiedStatus, extra: Partial<Case> = {}): Case {
  return { ...c, status, terminal: isTerminal(status), providerStatus: status, ...extra }
}

type Make = (shared: string) => EventStore
const adapters: Array<[string, () => Make]> = [
  ['redis', () => prefix => new RedisEventStore(inject('redisUrl'), { keyPrefix: prefix, clock: new ManualClock(), log, retention })],
  ['memory', () => {
    // replicas of a memory store share one process: the same instance
    const byPrefix = new Map<string, EventStore>()
    return prefix => byPrefix.get(prefix) ?? byPrefix.set(prefix, new MemoryEventStore(new ManualClock(), retention)).get(prefix) as EventStore
  }]
]

describe.each(adapters)('%s event store', (_kind, factory) => {
  const store = async (prefix: string, make: Make): Promise<EventStore> => {
    const s = make(prefix)
    if (!open.includes(s)) open.push(s)
    await s.waitReady?.()
    return s
  }

  it('records a first sight silently, then each change once with a gapless sequence', async () => {
    const s = await store(`t-${randomUUID()}:`, factory())
    const c = fakeCase('bforeai', '101', Date.parse('2026-09-01T00:00:00Z'), { status: 'received' })
    expect(await s.observe({ case: c, via: 'poll', silentIfNew: true })).toBeNull()
    expect(await s.observe({ case: c, via: 'poll', silentIfNew: false })).toBeNull()
    const moved = await s.observe({ case: withStatus(c, 'in_progress'), via: 'poll', silentIfNew: false })
    expect(moved).toMatchObject({ type: 'case.status_changed', sequence: 1, observedVia: 'poll', previous: { status: 'received', providerStatus: 'received' }, case: { status: 'in_progress' } })
    const touched = await s.observe({ case: withStatus(c, 'in_progress', { updatedAt: '2026-09-03T10:00:00.000Z' }), via: 'read', silentIfNew: true })
    expect(touched).toMatchObject({ type: 'case.updated', sequence: 2, occurredAt: '2026-09-03T10:00:00.000Z', observedVia: 'read' })
    const done = await s.observe({ case: withStatus(c, 'taken_down', { updatedAt: '2026-09-03T10:00:00.000Z' }), via: 'poll', silentIfNew: false })
    expect(done).toMatchObject({ type: 'case.status_changed', sequence: 3, occurredAt: null, case: { terminal: true } })
    const back = await s.observe({ case: withStatus(c, 'in_progress', { updatedAt: '2026-09-04T00:00:00.000Z' }), via: 'webhook', silentIfNew: false })
    expect(back).toMatchObject({ type: 'case.reopened', sequence: 4, previous: { status: 'taken_down' } })
    const timeline = await s.timeline(c.id, null, 100)
    expect(timeline.items.map(e => e.case === null ? null : e.sequence)).toEqual([1, 2, 3, 4])
    expect(timeline.items.map(e => e.id)).toEqual([moved, touched, done, back].map(e => e?.id))
  })

  it('calls a vendor status move within one unified status case.updated, not case.status_changed', async () => {
    const s = await store(`t-${randomUUID()}:`, factory())
    const c: Case = { ...fakeCase('bforeai', '102', Date.parse('2026-09-01T00:00:00Z'), { status: 'in_progress' }), providerStatus: 'In Progress' }
    await s.observe({ case: c, via: 'poll', silentIfNew: true })
    const moved = await s.observe({ case: { ...c, providerStatus: 'Submitted to Registrar', updatedAt: '2026-09-02T00:00:00.000Z' }, via: 'poll', silentIfNew: false })
    expect(moved).toMatchObject({ type: 'case.updated', previous: { status: 'in_progress', providerStatus: 'In Progress' }, case: { status: 'in_progress', providerStatus: 'Submitted to Registrar' } })
    const done = await s.observe({ case: { ...c, status: 'taken_down', terminal: true, providerStatus: 'Taken Down' }, via: 'poll', silentIfNew: false })
    expect(done).toMatchObject({ type: 'case.status_changed', previous: { status: 'in_progress' } })
  })

  it('takes a read without the vendor status the snapshot has as no change: no unknown, no reopen, no event back', async () => {
    const s = await store(`t-${randomUUID()}:`, factory())
    const failed: Case = { ...fakeCase('bforeai', '103', Date.parse('2026-09-01T00:00:00Z'), { status: 'failed' }), providerStatus: 'Failed' }
    await s.observe({ case: failed, via: 'poll', silentIfNew: true })
    // the same takedown read where its status name is missing (status_name null, the status list not known yet)
    const nameless: Case = { ...failed, status: 'unknown', terminal: false, providerStatus: null }
    expect(await s.observe({ case: nameless, via: 'poll', silentIfNew: false })).toBeNull()
    expect(await s.observe({ case: failed, via: 'read', silentIfNew: false })).toBeNull()
    expect((await s.timeline(failed.id, null, 10)).items).toEqual([])
    // a case first seen without its vendor status still records the status once it is known
    const later: Case = { ...fakeCase('bforeai', '104', Date.parse('2026-09-01T00:00:00Z'), { status: 'unknown' }), providerStatus: null }
    await s.observe({ case: later, via: 'poll', silentIfNew: true })
    expect(await s.observe({ case: { ...later, status: 'failed', terminal: true, providerStatus: 'Failed' }, via: 'poll', silentIfNew: false }))
      .toMatchObject({ type: 'case.status_changed', previous: { status: 'unknown', providerStatus: null } })
  })

  it('gives case.created with the vendor creation time to a case that appears after the first look', async () => {
    const s = await store(`t-${randomUUID()}:`, factory())
    const c = fakeCase('phishfort', 'abc', Date.parse('2026-10-01T00:00:00Z'))
    const e = await s.observe({ case: c, via: 'gateway', silentIfNew: false })
    expect(e).toMatchObject({ type: 'case.created', sequence: 1, previous: null, occurredAt: '2026-10-01T00:00:00.000Z', observedVia: 'gateway' })
    expect(e?.case).toEqual(c)
  })

  it('records one event when replicas observe the same change at once', async () => {
    const prefix = `t-${randomUUID()}:`
    const make = factory()
    const a = await store(prefix, make)
    const b = await store(prefix, make)
    const c = fakeCase('cloudflare', 'r1', Date.parse('2026-10-01T00:00:00Z'), { status: 'received' })
    await a.observe({ case: c, via: 'poll', silentIfNew: true })
    const next = withStatus(c, 'mitigated')
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => await (i % 2 === 0 ? a : b).observe({ case: next, via: 'poll', silentIfNew: false })))
    expect(results.filter(r => r !== null)).toHaveLength(1)
    expect((await a.read(null, 100, {})).items).toHaveLength(1)
  })

  it('pages the log oldest first from any id, with filters, and says where to continue', async () => {
    const s = await store(`t-${randomUUID()}:`, factory())
    expect(await s.newestId()).toBeNull()
    const made: CaseEvent[] = []
    for (let i = 0; i < 6; i++) {
      const c = fakeCase(i % 2 === 0 ? 'bforeai' : 'phishfort', `p${i}`, Date.parse('2026-10-01T00:00:00Z') + i, { status: i === 5 ? 'taken_down' : 'received' })
      made.push(await s.observe({ case: c, via: 'poll', silentIfNew: false }) as CaseEvent)
    }
    const first = await s.read(null, 4, {})
    expect(first.items.map(e => e.id)).toEqual(made.slice(0, 4).map(e => e.id))
    expect(first.next).toBe(made[3]?.id)
    const rest = await s.read(first.next, 4, {})
    expect(rest.items.map(e => e.id)).toEqual(made.slice(4).map(e => e.id))
    expect((await s.read(rest.next, 4, {})).items).toEqual([])
    expect((await s.read(null, 10, { providers: new Set(['phishfort']) })).items.map(e => e.case?.providerCaseId)).toEqual(['p1', 'p3', 'p5'])
    expect((await s.read(null, 10, { terminal: true })).items.map(e => e.case?.providerCaseId)).toEqual(['p5'])
    expect((await s.read(null, 10, { caseId: made[2]?.case.id as string })).items.map(e => e.id)).toEqual([made[2]?.id])
    expect((await s.read(null, 10, { types: new Set(['case.status_changed']) })).items).toEqual([])
    // where an export stops: the newest event of the log, or of one case's timeline
    expect(await s.newestId()).toBe(made[5]?.id)
    expect(await s.newestId(made[2]?.case.id)).toBe(made[2]?.id)
    expect(await s.newestId('bforeai:never-seen')).toBeNull()
  })

  it('keeps the open cases older than a date for the slow refresh, and drops them once terminal', async () => {
    const s = await store(`t-${randomUUID()}:`, factory())
    const old = fakeCase('bforeai', 'old', Date.parse('2026-06-01T00:00:00Z'))
    const recent = fakeCase('bforeai', 'new', Date.parse('2026-10-20T00:00:00Z'))
    await s.observe({ case: old, via: 'poll', silentIfNew: true })
    await s.observe({ case: recent, via: 'poll', silentIfNew: true })
    expect(await s.openCasesCreatedBefore(Date.parse('2026-09-01T00:00:00Z'), 0, 10)).toEqual([old.id])
    await s.observe({ case: withStatus(old, 'closed'), via: 'read', silentIfNew: false })
    expect(await s.openCasesCreatedBefore(Date.parse('2026-09-01T00:00:00Z'), 0, 10)).toEqual([])
    expect((await s.snapshotCounts()).bforeai).toBe(2)
  })

  it('hands every event recorded by any replica to a subscriber, once, in order', async () => {
    const prefix = `t-${randomUUID()}:`
    const make = factory()
    const a = await store(prefix, make)
    const b = await store(prefix, make)
    const seen: string[] = []
    const stop = await a.subscribe(e => { seen.push(e.id) })
    const recorded: string[] = []
    for (let i = 0; i < 10; i++) {
      const e = await (i % 2 === 0 ? a : b).observe({ case: fakeCase('bforeai', `s${i}`, Date.parse('2026-10-01T00:00:00Z')), via: 'poll', silentIfNew: false })
      recorded.push(e?.id as string)
    }
    const end = Date.now() + 5000
    while (seen.length < 10 && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 20))
    stop()
    expect(seen).toEqual(recorded)
  })

  it('appends an event of the gateway itself once per key, in the same log, kept apart by the case filters', async () => {
    const shared = `t-${randomUUID()}:`
    const make = factory()
    const [a, b] = [await store(shared, make), await store(shared, make)]
    const c = fakeCase('phishfort', 'a1', Date.parse('2026-09-01T00:00:00Z'))
    const seen: string[] = []
    const unsubscribe = await b.subscribe(e => { seen.push(e.type) })
    const created = await a.observe({ case: c, via: 'gateway', silentIfNew: false })
    const data = { endpoint: { id: 'we_1', host: 'hooks.example.com', reason: 'the receiver answered 410 Gone', disabledAt: '2026-09-01T00:00:01.000Z' }, owner: 'soc' }
    const input = { type: 'endpoint.disabled' as const, data, key: 'endpoint.disabled:we_1:2026-09-01T00:00:01.000Z', occurredAt: data.endpoint.disabledAt }
    // two replicas record the same occurrence: one event
    const [first, second] = await Promise.all([a.append(input), b.append(input)])
    const recorded = first ?? second
    expect([first, second].filter(e => e === null)).toHaveLength(1)
    expect(recorded).toMatchObject({ type: 'endpoint.disabled', case: null, observedVia: 'gateway', occurredAt: '2026-09-01T00:00:01.000Z', data })
    const all = await b.read(null, 10, {})
    expect(all.items.map(e => e.id)).toEqual([created?.id, recorded?.id])
    expect(all.items[1]).toEqual(recorded)
    expect((await a.read(null, 10, { types: new Set(['endpoint.disabled']) })).items.map(e => e.id)).toEqual([recorded?.id])
    // provider, caseId and terminal select case events: never an event without a case
    expect((await a.read(null, 10, { providers: new Set(['phishfort']) })).items.map(e => e.id)).toEqual([created?.id])
    expect((await a.read(null, 10, { terminal: false })).items.map(e => e.id)).toEqual([created?.id])
    expect((await a.read(null, 10, { caseId: c.id })).items.map(e => e.id)).toEqual([created?.id])
    expect((await a.timeline(c.id, null, 10)).items.map(e => e.id)).toEqual([created?.id])
    await vi.waitFor(() => { expect(seen).toEqual(['case.created', 'endpoint.disabled']) })
    unsubscribe()
    // another occurrence (another key) is another event
    expect(await a.append({ ...input, key: 'endpoint.disabled:we_1:later' })).toMatchObject({ type: 'endpoint.disabled' })
  })

  it('keeps checkpoints per provider', async () => {
    const s = await store(`t-${randomUUID()}:`, factory())
    expect(await s.getCheckpoint('bforeai')).toBeNull()
    await s.setCheckpoint('bforeai', { lastSyncAt: 1234, baselined: true })
    expect(await s.getCheckpoint('bforeai')).toEqual({ lastSyncAt: 1234, baselined: true })
  })
})

describe('memory event store retention', () => {
  it('drops log entries past the retention but keeps them in the case timeline', async () => {
    const clock = new ManualClock('2026-09-01T00:00:00Z')
    const s = new MemoryEventStore(clock, retention)
    const c = fakeCase('bforeai', 'keep', clock.now())
    await s.observe({ case: c, via: 'gateway', silentIfNew: false })
    clock.advance(31 * DAY)
    await s.observe({ case: fakeCase('bforeai', 'later', clock.now()), via: 'gateway', silentIfNew: false })
    expect((await s.read(null, 10, {})).items.map(e => e.case?.providerCaseId)).toEqual(['later'])
    expect((await s.timeline(c.id, null, 10)).items).toHaveLength(1)
  })
})

describe('the snapshot-count gauge', () => {
  // terminal snapshots kept 300 ms: on Redis they expire by Redis's own clock, in memory by the store's clock
  const short = { retentionMs: 30 * DAY, timelineRetentionMs: 300 }
  const kinds: Array<[string, () => { store: EventStore, expire: () => void }]> = [
    ['redis', () => ({ store: new RedisEventStore(inject('redisUrl'), { keyPrefix: `t-${randomUUID()}:`, clock: new ManualClock(), log, retention: short }), expire: () => {} })],
    ['memory', () => {
      const clock = new ManualClock()
      return { store: new MemoryEventStore(clock, short), expire: () => { clock.advance(short.timelineRetentionMs) } }
    }]
  ]

  it.each(kinds)('%s: goes down when terminal snapshots expire, and counts a case seen again once', async (_kind, make) => {
    const { store: s, expire } = make()
    open.push(s)
    await s.waitReady?.()
    const registry = new Registry()
    // eslint-disable-next-line no-new
    new EventMetrics(registry, { lastSyncs: async () => ({}), snapshots: async () => await s.snapshotCounts(), now: () => 0 })
    const gauge = async (): Promise<number> => {
      const m = await registry.getSingleMetric('takedown_gateway_event_snapshots')?.get()
      return m?.values.find(v => v.labels.provider === 'bforeai')?.value ?? 0
    }
    const cases = ['g1', 'g2', 'g3'].map(id => fakeCase('bforeai', id, Date.parse('2026-10-01T00:00:00Z'), { status: 'received' }))
    for (const c of cases) await s.observe({ case: c, via: 'poll', silentIfNew: true })
    expect(await gauge()).toBe(3)
    for (const c of cases.slice(1)) await s.observe({ case: withStatus(c, 'taken_down'), via: 'poll', silentIfNew: false })
    expect(await gauge()).toBe(3)

    expire()
    const end = Date.now() + 5000
    while (await gauge() > 1 && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 50))
    expect(await gauge()).toBe(1)
    expect(await s.snapshotCounts()).toEqual({ bforeai: 1 })

    // a case whose snapshot expired and that is seen again is one snapshot again, counted once
    await s.observe({ case: withStatus(cases[1] as Case, 'taken_down'), via: 'read', silentIfNew: true })
    expect(await gauge()).toBe(2)
    expect(await gauge()).toBe(2)
  })
})

describe('redis event store: the HGET before the observe script', () => {
  it('is skipped for a case this process last found stored under another fingerprint; another replica\'s change is still recorded once', async () => {
    const prefix = `t-${randomUUID()}:`
    const make = (): RedisEventStore => new RedisEventStore(inject('redisUrl'), { keyPrefix: prefix, clock: new ManualClock(), log, retention })
    const [a, b] = [make(), make()]
    open.push(a, b)
    await Promise.all([a.waitReady(), b.waitReady()])
    const sent = vi.spyOn(turnBatch(a.client), 'send')
    const hgets = (): number => sent.mock.calls.filter(([name]) => name === 'hget').length
    const c = fakeCase('phishfort', 'h1', Date.parse('2026-10-01T00:00:00Z'), { status: 'received' })
    expect(await a.observe({ case: c, via: 'poll', silentIfNew: true })).toBeNull()
    expect(hgets()).toBe(1) // never seen here: asked
    expect(await a.observe({ case: c, via: 'poll', silentIfNew: false })).toBeNull()
    expect(hgets()).toBe(2) // the same fingerprint: the HGET answers unchanged
    const moved = await a.observe({ case: withStatus(c, 'in_progress'), via: 'poll', silentIfNew: false })
    expect(moved).toMatchObject({ type: 'case.status_changed', sequence: 1 })
    expect(hgets()).toBe(2) // known to differ: straight to the script
    // another replica records the next change; this one sees it after and records nothing, then the one after once
    expect(await b.observe({ case: withStatus(c, 'mitigated'), via: 'poll', silentIfNew: false })).toMatchObject({ sequence: 2 })
    expect(await a.observe({ case: withStatus(c, 'mitigated'), via: 'poll', silentIfNew: false })).toBeNull()
    expect(await a.observe({ case: withStatus(c, 'taken_down'), via: 'poll', silentIfNew: false })).toMatchObject({ type: 'case.status_changed', sequence: 3, previous: { status: 'mitigated' } })
    expect((await a.timeline(c.id, null, 10)).items.map(e => e.case?.status)).toEqual(['in_progress', 'mitigated', 'taken_down'])
  })
})
