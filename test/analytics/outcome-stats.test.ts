/**
 * The measurements measured routing ranks by (features/reporting/outcome-stats.ts), over milestone rows written by
 * the recorder (the real write path) into the memory store, on the manual clock: what counts as an outcome, the
 * window, the verified time where the lookup knows one, and the one-minute cache.
 */
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { MilestoneRecorder, type CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import { MilestoneOutcomeStats } from '../../src/features/reporting/outcome-stats.js'
import { MemoryMilestoneStore, type MilestoneStore } from '../../src/features/reporting/store.js'
import type { UnifiedStatus } from '../../src/schemas/unified-status.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const iso = (ms: number): string => new Date(ms).toISOString()

function event (id: string, created: number, status: UnifiedStatus, downAfterHours: number | null, suffix: string | null = 'com'): CaseChangeEvent {
  const down = downAfterHours === null ? null : created + downAfterHours * HOUR
  return {
    type: 'case.created',
    occurredAt: null,
    observedAt: iso(down ?? created + HOUR),
    observedVia: 'poll',
    case: { id: `phishfort:${id}`, provider: 'phishfort', status, createdAt: iso(created), updatedAt: null, ...(down === null ? {} : { resolvedAt: iso(down) }), target: { type: 'url', publicSuffix: suffix } },
    previous: null,
    sequence: 1
  }
}

async function fixture (): Promise<{ clock: ManualClock, store: MemoryMilestoneStore, recorder: MilestoneRecorder }> {
  const clock = new ManualClock('2026-11-20T00:00:00.000Z')
  const store = new MemoryMilestoneStore()
  const recorder = new MilestoneRecorder(store)
  const now = clock.now()
  // in the window: 3 down at .com (1, 2, 9 h), 1 failed, 1 closed at .net, 1 cancelled, 1 open; before it: 1 down
  await recorder.record(event('a', now - 2 * DAY, 'taken_down', 1))
  await recorder.record(event('b', now - 3 * DAY, 'taken_down', 2))
  await recorder.record(event('c', now - 4 * DAY, 'taken_down', 9))
  await recorder.record(event('d', now - 5 * DAY, 'failed', null))
  await recorder.record(event('e', now - 5 * DAY, 'closed', null, 'net'))
  await recorder.record(event('f', now - 6 * DAY, 'cancelled', null))
  await recorder.record(event('g', now - 1 * DAY, 'in_progress', null))
  await recorder.record(event('old', now - 40 * DAY, 'taken_down', 1))
  return { clock, store, recorder }
}

describe('the measured outcomes of a provider', () => {
  it('count down and failed/closed cases created in the window; cancelled and open ones have no outcome yet', async () => {
    const { clock, store } = await fixture()
    const stats = new MilestoneOutcomeStats(store, clock)
    const { byType, atTld } = await stats.outcomes('url', 'com', 30)
    expect(byType.get('phishfort')).toEqual({ cases: 5, down: 3, p50Hours: 2 })
    expect(atTld.get('phishfort')).toEqual({ cases: 4, down: 3, p50Hours: 2 })
    expect((await stats.outcomes('url', 'net', 30)).atTld.get('phishfort')).toEqual({ cases: 1, down: 0, p50Hours: null })
    expect((await stats.outcomes('domain', null, 30)).byType.size).toBe(0)
    // a 60-day window reaches the old case (another window is another pass)
    expect((await stats.outcomes('url', null, 60)).byType.get('phishfort')).toEqual({ cases: 6, down: 4, p50Hours: 1.5 })
  })

  it('time a case by its verified down time where the lookup knows one', async () => {
    const { clock, store } = await fixture()
    const asked: string[] = []
    const now = clock.now()
    // the gateway's probes confirmed case a 20 h and case b 30 h after they were created (later than the vendor said)
    const verified: Record<string, number> = { 'phishfort:a': now - 2 * DAY + 20 * HOUR, 'phishfort:b': now - 3 * DAY + 30 * HOUR }
    const stats = new MilestoneOutcomeStats(store, clock, {
      verifiedDownAt: async ids => { asked.push(...ids); return ids.map(id => verified[id] ?? null) }
    })
    expect((await stats.outcomes('url', null, 30)).byType.get('phishfort')).toEqual({ cases: 5, down: 3, p50Hours: 20 })
    // only the cases that went down are looked up
    expect(asked.sort()).toEqual(['phishfort:a', 'phishfort:b', 'phishfort:c'])
  })

  it('are computed once a minute on the clock, not per create; a pass that failed is not kept', async () => {
    const { clock, store, recorder } = await fixture()
    let passes = 0
    let fail = false
    const counted: MilestoneStore = {
      read: async (shard, id) => await store.read(shard, id),
      write: async (shard, id, expected, row) => await store.write(shard, id, expected, row),
      shards: async () => await store.shards(),
      nameTld: async (id, suffix) => { await store.nameTld(id, suffix) },
      tlds: async () => await store.tlds(),
      caseIds: async shards => await store.caseIds(shards),
      rows: async shards => {
        passes++
        if (fail) throw new Error('store down')
        return await store.rows(shards)
      }
    }
    const stats = new MilestoneOutcomeStats(counted, clock)
    await Promise.all([stats.outcomes('url', null, 30), stats.outcomes('url', 'com', 30), stats.outcomes('domain', null, 30)])
    expect(passes).toBe(1)
    await recorder.record(event('h', clock.now() - DAY, 'taken_down', 4))
    clock.advance(59_000)
    expect((await stats.outcomes('url', null, 30)).byType.get('phishfort')?.cases).toBe(5)
    expect(passes).toBe(1)
    clock.advance(1000)
    fail = true
    await expect(stats.outcomes('url', null, 30)).rejects.toThrow('store down')
    fail = false
    expect((await stats.outcomes('url', null, 30)).byType.get('phishfort')).toEqual({ cases: 6, down: 4, p50Hours: 3 })
    expect(passes).toBe(3)
  })
})
