/**
 * A case's timeline on Redis is a list of entries carrying the case deflated (ADR 0049): what it costs in Redis, its
 * trimming by time, target events in it, and a timeline written before as a Redis Stream still read before the list.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { packBase64, packCase, RedisEventStore, unpackBase64, unpackCase } from '../../src/events/redis-store.js'
import type { Case } from '../../src/schemas/case.js'
import { eventKeys } from '../../src/store/keys.js'
import { isTerminal, type UnifiedStatus } from '../../src/schemas/unified-status.js'
import { fakeCase } from '../support/fake-connector.js'

const DAY = 86_400_000
const retention = { retentionMs: 30 * DAY, timelineRetentionMs: 365 * DAY }
const prefix = `tl-${randomUUID()}:`
const keys = eventKeys(prefix)
let raw: Redis
let clock: ManualClock
let store: RedisEventStore

beforeAll(async () => {
  raw = new Redis(inject('redisUrl'))
  clock = new ManualClock(Date.parse('2026-09-01T00:00:00Z'))
  store = new RedisEventStore(inject('redisUrl'), { keyPrefix: prefix, clock, log: pino({ level: 'silent' }), retention })
  await store.waitReady()
})
afterAll(async () => {
  await store.close()
  const [, found] = await raw.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000)
  if (found.length > 0) await raw.unlink(...found)
  raw.disconnect()
})

const at = (c: Case, status: UnifiedStatus): Case => ({ ...c, status, terminal: isTerminal(status), providerStatus: status })

describe('Redis timeline list', () => {
  it('a case with three events costs its snapshot and under 1.5 KB of timeline, and reads back whole', async () => {
    const c = fakeCase('phishfort', `m-${randomUUID()}`, clock.now(), { status: 'received' })
    const recorded = []
    for (const s of ['received', 'in_progress', 'taken_down'] as const) {
      recorded.push(await store.observe({ case: at(c, s), via: 'poll', silentIfNew: false }))
      clock.advance(60_000)
    }
    const bytes = Number(await raw.call('MEMORY', 'USAGE', keys.line(c.id), 'SAMPLES', '0'))
    expect(bytes).toBeGreaterThan(0)
    expect(bytes).toBeLessThan(1536)
    // the stream per case it replaces took a 4 KB listpack up front
    expect(await raw.exists(keys.timeline(c.id))).toBe(0)
    const read = await store.timeline(c.id, null, 10)
    expect(read.items).toEqual(recorded)
    expect(await store.newestId(c.id)).toBe(recorded[2]?.id)
    expect((await store.timeline(c.id, recorded[0]!.id, 10)).items.map(e => e.id)).toEqual([recorded[1]!.id, recorded[2]!.id])
  })

  it('a compact entry keeps what the event said: gap, occurredAt, previous status, epoch', async () => {
    const c = fakeCase('webrisk', `g-${randomUUID()}`, clock.now(), { status: 'received' })
    const created = await store.observe({ case: at(c, 'received'), via: 'webhook', silentIfNew: false })
    clock.advance(60_000)
    const updatedAt = new Date(clock.now() - 1000).toISOString()
    const moved = await store.observe({ case: { ...at(c, 'taken_down'), updatedAt }, via: 'poll', silentIfNew: false, gapSince: clock.now() + 1 })
    expect(moved).toMatchObject({ type: 'case.status_changed', gap: true, occurredAt: updatedAt, previous: { status: 'received', providerStatus: 'received' } })
    expect((await store.timeline(c.id, null, 10)).items).toEqual([created, moved])
    // the entry: its values as JSON, a newline, the deflated case as raw bytes (no base64)
    const entry = await raw.lindexBuffer(keys.line(c.id), 1)
    const nl = entry?.indexOf(10) ?? -1
    expect(nl).toBeGreaterThan(0)
    expect(JSON.parse(entry!.subarray(0, nl).toString())).toEqual([moved!.id, 'case.status_changed', 2, String(Date.parse(moved!.observedAt)), 'poll', moved!.epoch, 1, 0, 'received', 'received', updatedAt])
    expect(unpackCase(entry!.subarray(nl + 1))).toBe(JSON.stringify(moved!.case))
  })

  it('entries older than the timeline retention are dropped from the head by the next append', async () => {
    // entry ids are Redis's clock (the log's XADD *): an entry of long ago is put there by hand, in the format of before
    // (all JSON, the case in base64), which still reads
    const c = fakeCase('bforeai', `r-${randomUUID()}`, clock.now(), { status: 'received' })
    const ancient = JSON.stringify(['1000-0', 't', 'case.created', 'g', '0', 'q', 1, 'pn', '1', 'pst', '', 'pps', '', 'oa', c.createdAt, 'ob', c.createdAt, 'ov', 'poll', 'z', packBase64(JSON.stringify(c)), 'ep', ''])
    await raw.rpush(keys.line(c.id), ancient)
    expect((await store.timeline(c.id, null, 10)).items.map(e => e.id)).toEqual(['1000-0'])
    const now = new RedisEventStore(inject('redisUrl'), { keyPrefix: prefix, clock: new ManualClock(Date.now()), log: pino({ level: 'silent' }), retention })
    try {
      await now.waitReady()
      const moved = await now.observe({ case: at(c, 'in_progress'), via: 'poll', silentIfNew: false })
      expect((await now.timeline(c.id, null, 10)).items.map(e => e.id)).toEqual([moved?.id])
    } finally {
      await now.close()
    }
  })

  it('a target event goes into the case\'s timeline list and reads back with its data', async () => {
    const c = fakeCase('cloudflare', `t-${randomUUID()}`, clock.now(), { status: 'received' })
    const created = await store.observe({ case: c, via: 'poll', silentIfNew: false })
    const data = {
      caseId: c.id,
      provider: 'cloudflare',
      target: { type: 'url', value: 'https://phish.example/' },
      state: 'verified_down',
      reason: 'the page answered 404',
      probedAt: new Date(clock.now()).toISOString(),
      verifiedDownAt: new Date(clock.now()).toISOString(),
      providerStatus: 'mitigated',
      relatedCaseIds: []
    }
    const ev = await store.append({ type: 'target.verified_down', key: `down:${c.id}`, occurredAt: new Date(clock.now()).toISOString(), data } as never)
    expect(ev).not.toBeNull()
    const items = (await store.timeline(c.id, null, 10)).items
    expect(items.map(e => e.id)).toEqual([created?.id, ev?.id])
    expect(items[1]).toMatchObject({ type: 'target.verified_down', case: null, data })
  })

  it('a timeline written before as a stream is read first, then the list; the newest id is the list\'s', async () => {
    const c = fakeCase('netcraft', `o-${randomUUID()}`, clock.now(), { status: 'received' })
    // entry ids are Redis's clock (the log's XADD *): an old entry is one from before any the list holds
    const oldId = '1000-0'
    await raw.xadd(keys.timeline(c.id), oldId, 't', 'case.created', 'g', '0', 'q', '1', 'pn', '1', 'pst', '', 'pps', '', 'oa', c.createdAt,
      'ob', new Date(clock.now() - DAY).toISOString(), 'ov', 'poll', 'c', JSON.stringify(c), 'ep', '')
    await store.observe({ case: c, via: 'poll', silentIfNew: true })
    const moved = await store.observe({ case: at(c, 'in_progress'), via: 'poll', silentIfNew: false })
    const items = (await store.timeline(c.id, null, 10)).items
    expect(items.map(e => e.id)).toEqual([oldId, moved?.id])
    expect(items[0]).toMatchObject({ type: 'case.created', case: { id: c.id, status: 'received' } })
    expect(await store.newestId(c.id)).toBe(moved?.id)
    expect((await store.read(oldId, 10, { caseId: c.id })).items.map(e => e.id)).toEqual([moved?.id])
  })

  it('the deflated case round-trips any case JSON, non-ASCII included', () => {
    const json = JSON.stringify({ ...fakeCase('bforeai', 'x', 0, {}), reportedBy: 'søc→team@bank.example' })
    expect(unpackCase(packCase(json))).toBe(json)
    expect(packCase(json).length).toBeLessThan(json.length / 2)
    expect(unpackBase64(packBase64(json))).toBe(json)
  })
})
