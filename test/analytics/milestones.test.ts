/**
 * The milestones recorder on its own: where each time comes from (vendor or observation) and how exact it is,
 * reopenings, duplicates, and two replicas recording the same case at once on one Redis.
 */
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { MilestoneRecorder, type CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import { RedisMilestoneStore } from '../../src/features/reporting/redis-store.js'
import { TakedownAnalytics } from '../../src/features/reporting/report.js'
import { decodeRow, shardOf } from '../../src/features/reporting/row.js'
import { ManualClock } from '../../src/clock.js'
import { MemoryMilestoneStore, type MilestoneStore } from '../../src/features/reporting/store.js'

const CREATED = '2026-10-01T00:00:00.000Z'

function event (over: Partial<CaseChangeEvent> & { status: CaseChangeEvent['case']['status'], sequence: number, caseOver?: Partial<CaseChangeEvent['case']> }): CaseChangeEvent {
  const { status, caseOver, ...rest } = over
  return {
    type: 'case.status_changed',
    occurredAt: null,
    observedAt: '2026-10-01T02:00:00.000Z',
    observedVia: 'poll',
    previous: null,
    ...rest,
    case: { id: 'phishfort:abc', provider: 'phishfort', status, createdAt: CREATED, updatedAt: null, target: { type: 'url' }, ...caseOver }
  }
}

async function rowOf (store: MilestoneStore, id = 'phishfort:abc', provider = 'phishfort'): Promise<ReturnType<typeof decodeRow>> {
  const b = await store.read(shardOf(provider, Date.parse(CREATED)), id)
  expect(b).not.toBeNull()
  return decodeRow(b!)
}

describe('milestones recorder', () => {
  it('dates an observed change with the poll interval as its precision, a webhook as exact, a read as unknown', async () => {
    const store = new MemoryMilestoneStore()
    const rec = new MilestoneRecorder(store, { pollIntervalSeconds: { phishfort: 120 } })
    await rec.record(event({ type: 'case.created', status: 'received', sequence: 1 }))
    await rec.record(event({ status: 'in_progress', sequence: 2, observedAt: '2026-10-01T01:00:00.000Z' }))
    await rec.record(event({ status: 'mitigated', sequence: 3, observedVia: 'webhook', observedAt: '2026-10-01T02:00:00.000Z' }))
    await rec.record(event({ status: 'failed', sequence: 4, observedVia: 'read', observedAt: '2026-10-01T03:00:00.000Z' }))
    const row = await rowOf(store)
    expect(row.milestones).toEqual({
      inProgress: { at: Date.parse('2026-10-01T01:00:00.000Z'), source: 'observed', precisionSeconds: 120 },
      mitigated: { at: Date.parse('2026-10-01T02:00:00.000Z'), source: 'observed', precisionSeconds: 0 },
      terminal: { at: Date.parse('2026-10-01T03:00:00.000Z'), source: 'observed', precisionSeconds: null }
    })
    expect(row.firstTerminal).toBe('failed')
    expect(row.status).toBe('failed')
  })

  it('prefers the vendor\'s timestamps, but not one before the case was created', async () => {
    const store = new MemoryMilestoneStore()
    const rec = new MilestoneRecorder(store)
    await rec.record(event({
      type: 'case.created',
      status: 'taken_down',
      sequence: 1,
      caseOver: { takedownStartedAt: '2026-10-01T00:10:00.000Z', resolvedAt: '2026-10-01T00:40:00.000Z' }
    }))
    const pf = await rowOf(store)
    expect(pf.milestones.inProgress).toEqual({ at: Date.parse('2026-10-01T00:10:00.000Z'), source: 'vendor', precisionSeconds: 0 })
    expect(pf.milestones.takenDown).toEqual({ at: Date.parse('2026-10-01T00:40:00.000Z'), source: 'vendor', precisionSeconds: 0 })
    expect(pf.milestones.terminal).toEqual(pf.milestones.takenDown)

    await rec.record(event({
      status: 'mitigated',
      sequence: 1,
      occurredAt: '2026-09-30T00:00:00.000Z',
      caseOver: { id: 'bforeai:7', provider: 'bforeai', updatedAt: '2026-09-30T00:00:00.000Z' }
    }))
    const bf = await rowOf(store, 'bforeai:7', 'bforeai')
    expect(bf.milestones.mitigated?.source).toBe('observed')
  })

  it('dates a case first met by a read (a backfill) by vendor times only, and never overrides a recorded case', async () => {
    const store = new MemoryMilestoneStore()
    const rec = new MilestoneRecorder(store)
    expect(await rec.record(event({ type: 'case.created', status: 'taken_down', sequence: 0, observedVia: 'read' }))).toBe('recorded')
    const row = await rowOf(store)
    expect(row.status).toBe('taken_down')
    expect(row.firstTerminal).toBe('taken_down')
    expect(row.milestones).toEqual({})
    // the events engine's later change applies; a second backfill does not
    expect(await rec.record(event({ status: 'in_progress', type: 'case.reopened', sequence: 1, previous: { status: 'taken_down', providerStatus: null } }))).toBe('recorded')
    expect(await rec.record(event({ type: 'case.created', status: 'closed', sequence: 0, observedVia: 'read' }))).toBe('duplicate')
    expect((await rowOf(store)).status).toBe('in_progress')
  })

  it('counts reopenings and keeps the first takedown; a replayed or older event changes nothing', async () => {
    const store = new MemoryMilestoneStore()
    const seen: number[] = []
    const rec = new MilestoneRecorder(store, { onTakenDown: ({ seconds }) => seen.push(seconds) })
    await rec.record(event({ status: 'taken_down', sequence: 1, observedAt: '2026-10-01T01:00:00.000Z' }))
    expect(await rec.record(event({ status: 'in_progress', type: 'case.reopened', sequence: 2, previous: { status: 'taken_down', providerStatus: 'takedown_success' } }))).toBe('recorded')
    await rec.record(event({ status: 'taken_down', sequence: 3, observedAt: '2026-10-02T00:00:00.000Z', previous: { status: 'in_progress', providerStatus: null } }))
    expect(await rec.record(event({ status: 'received', sequence: 2 }))).toBe('duplicate')
    const row = await rowOf(store)
    expect(row.reopened).toBe(1)
    expect(row.status).toBe('taken_down')
    expect(row.sequence).toBe(3)
    expect(row.milestones.takenDown?.at).toBe(Date.parse('2026-10-01T01:00:00.000Z'))
    expect(seen).toEqual([3600])
  })

  it('reports an unreachable store as a 503 problem', async () => {
    class DownStore extends MemoryMilestoneStore {
      override async shards (): Promise<string[]> { throw new Error('Connection is closed.') }
    }
    const report = new TakedownAnalytics(new DownStore(), new ManualClock()).report({})
    await expect(report).rejects.toMatchObject({ code: 'GW_ERR_UNAVAILABLE', statusCode: 503 })
  })

  it('reads a row only when it cannot tell it: its own last write, none for a first event; a row changed or lost behind its back is read', async () => {
    let store = new MemoryMilestoneStore()
    let reads = 0
    const counted: MilestoneStore = {
      read: async (shard, id) => { reads++; return await store.read(shard, id) },
      write: async (shard, id, expected, row) => await store.write(shard, id, expected, row),
      shards: async () => await store.shards(),
      rows: async shards => await store.rows(shards),
      nameTld: async (id, suffix) => { await store.nameTld(id, suffix) },
      tlds: async () => await store.tlds(),
      caseIds: async shards => await store.caseIds(shards)
    }
    const rec = new MilestoneRecorder(counted, { pollIntervalSeconds: { phishfort: 60 } })
    expect(await rec.record(event({ type: 'case.created', status: 'received', sequence: 1 }))).toBe('recorded')
    expect(await rec.record(event({ status: 'in_progress', sequence: 2, observedAt: '2026-10-01T01:00:00.000Z' }))).toBe('recorded')
    expect(reads).toBe(0)
    // another replica moves the row on: the guess fails its compare-and-set, the row is read and the event applied to it
    await new MilestoneRecorder(store).record(event({ status: 'mitigated', sequence: 3, observedVia: 'webhook', observedAt: '2026-10-01T02:00:00.000Z' }))
    expect(await rec.record(event({ status: 'taken_down', sequence: 4, observedAt: '2026-10-01T03:00:00.000Z' }))).toBe('recorded')
    expect(reads).toBe(1)
    const row = await rowOf(store)
    expect(row.sequence).toBe(4)
    expect(row.milestones.mitigated?.precisionSeconds).toBe(0)
    expect(row.milestones.takenDown).toEqual({ at: Date.parse('2026-10-01T03:00:00.000Z'), source: 'observed', precisionSeconds: 60 })
    // an event it remembers being past is a duplicate once the stored row says so
    expect(await rec.record(event({ status: 'taken_down', sequence: 4 }))).toBe('duplicate')
    expect(reads).toBe(2)
    // the store lost its rows (sequences start again): the event is recorded, not taken for a duplicate of the remembered row
    store = new MemoryMilestoneStore()
    expect(await rec.record(event({ status: 'in_progress', sequence: 2 }))).toBe('recorded')
    expect((await rowOf(store)).sequence).toBe(2)
  })

  describe('two replicas on one Redis', () => {
    const clients: Redis[] = []
    afterAll(async () => { await Promise.all(clients.map(async c => await c.quit())) })

    it('record the same case concurrently without losing a milestone or observing a takedown twice', async () => {
      const prefix = `t-${randomUUID()}:`
      const make = (): MilestoneStore => {
        const c = new Redis(inject('redisUrl'), { keyPrefix: prefix })
        clients.push(c)
        return new RedisMilestoneStore(c)
      }
      const seen: string[] = []
      const a = new MilestoneRecorder(make(), { onTakenDown: () => seen.push('a') })
      const b = new MilestoneRecorder(make(), { onTakenDown: () => seen.push('b') })
      const ids = Array.from({ length: 50 }, (_, i) => `phishfort:r${i}`)
      const steps = (id: string): CaseChangeEvent[] => [
        event({ type: 'case.created', status: 'received', sequence: 1, caseOver: { id } }),
        event({ status: 'in_progress', sequence: 2, observedAt: '2026-10-01T01:00:00.000Z', caseOver: { id } }),
        event({ status: 'taken_down', sequence: 3, observedAt: '2026-10-01T05:00:00.000Z', caseOver: { id } })
      ]
      // both replicas see every change of every case (as two watchers would), at the same time
      await Promise.all(ids.map(async id => {
        for (const e of steps(id)) await Promise.all([a.record(e), b.record(e)])
      }))
      expect(seen).toHaveLength(50)
      const store = make()
      const shard = shardOf('phishfort', Date.parse(CREATED))
      expect(await store.shards()).toEqual([shard])
      const [rows] = await store.rows([shard])
      expect(rows!.length).toBe(50 * 64)
      for (const id of ids) {
        const row = decodeRow((await store.read(shard, id))!)
        expect(row.sequence).toBe(3)
        expect(row.milestones.inProgress?.at).toBe(Date.parse('2026-10-01T01:00:00.000Z'))
        expect(row.milestones.takenDown?.at).toBe(Date.parse('2026-10-01T05:00:00.000Z'))
      }
    })
  })
})
