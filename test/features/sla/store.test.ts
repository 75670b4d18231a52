/**
 * The timer store, both adapters (process memory, and Redis under a prefix of this test): a step's timer is claimed
 * by one caller, leased (and renewed while its holder lives), taken over by another once the lease ran out (the
 * replica that held it died), and gone once finished; re-timing a case replaces its timers but never brings back a step done; milestones are kept once set.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import type { SlaFacts } from '../../../src/features/sla/evaluate.js'
import { MemorySlaStore, RedisSlaStore, type SlaStore } from '../../../src/features/sla/store.js'

const clock = new ManualClock(Date.parse('2026-03-02T00:00:00.000Z'))
const redis = new Redis(inject('redisUrl'), { keyPrefix: `t-sla-store-${randomUUID()}:` })
afterAll(async () => { await redis.quit() })

const facts = (caseId: string): SlaFacts => ({
  caseId,
  provider: 'phishfort',
  target: { type: 'url', value: 'https://x.example/a' },
  threatClass: null,
  brand: { id: null, name: null },
  createdAt: clock.now(),
  status: 'received',
  terminal: false,
  firstActionAt: null,
  downAt: null
})

describe.each([
  ['memory', (): SlaStore => new MemorySlaStore()],
  ['redis', (): SlaStore => new RedisSlaStore(redis, clock)]
])('%s store', (_name, open) => {
  it('one claim per due timer; the lease runs out and another caller takes it over; finished, it is gone for good', async () => {
    const store = open()
    const id = `phishfort:${randomUUID()}`
    // tracking answers the record it made (the engine times it from that), and nothing for a case tracked already
    expect(await store.track(facts(id))).toEqual({ facts: facts(id), done: [], related: {} })
    expect(await store.track(facts(id))).toBeNull()
    const t0 = clock.now()
    await store.schedule(id, [{ kind: 'breach-first', at: t0 + 1000 }, { kind: 'failover', at: t0 + 5000 }])
    expect(await store.due(t0, 10)).toEqual([])
    const [due] = await store.due(t0 + 1000, 10)
    expect(due).toEqual({ caseId: id, kind: 'breach-first', at: t0 + 1000 })
    const claims = await Promise.all([1, 2, 3].map(async () => await store.claim(due!, t0 + 1000, 60_000)))
    expect(claims.filter(Boolean)).toHaveLength(1)
    expect(await store.claim(due!, t0 + 30_000, 60_000)).toBe(false)
    // the holder died: after its lease another caller has it
    expect(await store.claim(due!, t0 + 61_001, 60_000)).toBe(true)
    await store.finish(id, 'breach-first')
    expect((await store.due(t0 + 70_000, 10)).map(t => t.kind)).toEqual(['failover'])
    // re-timed (a change of the case, a new policy at start): the step done stays done
    await store.schedule(id, [{ kind: 'breach-first', at: t0 + 1000 }, { kind: 'failover', at: t0 + 9000 }])
    expect(await store.due(t0 + 70_000, 10)).toEqual([{ caseId: id, kind: 'failover', at: t0 + 9000 }])
    expect((await store.get(id))?.done).toEqual(['breach-first'])
    await store.schedule(id, [])
    expect(await store.due(t0 + 70_000, 10)).toEqual([])
  })

  it('a holder that is alive renews its lease and keeps the step until it stops renewing', async () => {
    const store = open()
    const id = `phishfort:${randomUUID()}`
    await store.track(facts(id))
    const t0 = clock.now()
    await store.schedule(id, [{ kind: 'failover', at: t0 }])
    const [due] = await store.due(t0, 10)
    expect(await store.claim(due!, t0, 3000)).toBe(true)
    await store.renew(due!, t0 + 5000)
    await store.renew(due!, t0 + 4000) // a late renewal never shortens it
    expect(await store.claim(due!, t0 + 4500, 3000)).toBe(false)
    expect(await store.claim(due!, t0 + 5001, 3000)).toBe(true)
  })

  it('milestones are kept once set; status moves; links are kept both ways', async () => {
    const store = open()
    const id = `phishfort:${randomUUID()}`
    await store.track(facts(id))
    await store.update(id, { status: 'in_progress', firstActionAt: clock.now() + 10 })
    await store.update(id, { status: 'taken_down', terminal: true, firstActionAt: clock.now() + 99, downAt: clock.now() + 50 })
    const after = await store.update(id, { downAt: clock.now() + 70 })
    // the update answers the record it left (the engine re-times from it)
    expect(after?.facts).toMatchObject({ caseId: id, status: 'taken_down', terminal: true, firstActionAt: clock.now() + 10, downAt: clock.now() + 50 })
    await store.link(id, 'netcraft:1', 'netcraft')
    const r = await store.get(id)
    expect(r?.facts).toMatchObject({ status: 'taken_down', terminal: true, firstActionAt: clock.now() + 10, downAt: clock.now() + 50 })
    expect(r?.related).toEqual({ 'netcraft:1': 'netcraft' })
    const untracked = `phishfort:${randomUUID()}`
    expect(await store.update(untracked, { status: 'in_progress' })).toBeNull() // an untracked case: nothing
    expect(await store.get(untracked)).toBeNull()
    expect((await store.getMany([id, 'phishfort:none'])).map(x => x?.facts.caseId ?? null)).toEqual([id, null])
  })
})
