/**
 * The jobs port, both adapters, the same expectations: the BullMQ one against the suite's real Redis, the in-process
 * one in memory. Ticks are compared by value (which tick ran, how often), never by how late they ran.
 */
import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { BullJobRunner } from '../../src/jobs/bullmq.js'
import { MemoryJobRunner } from '../../src/jobs/memory.js'
import type { JobRunner } from '../../src/jobs/port.js'

const log = pino({ level: 'silent' })
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function until (cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(20)
  }
}

const open: JobRunner[] = []
afterEach(async () => { await Promise.all(open.splice(0).map(async r => { await r.close() })) })

const adapters: Array<[string, (prefix: string) => JobRunner]> = [
  ['bullmq', prefix => new BullJobRunner(inject('redisUrl'), { redisKeyPrefix: prefix, log })],
  ['memory', () => new MemoryJobRunner(log)]
]

describe.each(adapters)('%s job runner', (kind, make) => {
  const runner = (prefix: string): JobRunner => { const r = make(prefix); open.push(r); return r }

  it('runs a job once per id while it is pending, with its data', async () => {
    const r = runner(`t-${randomUUID()}:`)
    const seen: Array<{ data: unknown, id: string }> = []
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    r.define<{ n: number }>('work', async (data, info) => { await gate; seen.push({ data, id: info.id }) })
    await r.start()
    await r.add('work', { n: 1 }, { jobId: 'case-a' })
    await r.add('work', { n: 2 }, { jobId: 'case-a' })
    await r.add('work', { n: 3 }, { jobId: 'case-b' })
    release()
    await until(() => seen.length >= 2)
    await sleep(200)
    expect(seen.map(s => s.id).sort()).toEqual(['case-a', 'case-b'])
    expect(seen.find(s => s.id === 'case-a')?.data).toEqual({ n: 1 })
  })

  it('retries a failing job with the attempt number, then succeeds', async () => {
    const r = runner(`t-${randomUUID()}:`)
    const attempts: number[] = []
    r.define('flaky', async (_data, info) => {
      attempts.push(info.attempt)
      if (info.attempt < 3) throw new Error('vendor down')
    }, { attempts: 3, backoffMs: 50 })
    await r.start()
    await r.add('flaky', {})
    await until(() => attempts.length === 3)
    await sleep(300)
    expect(attempts).toEqual([1, 2, 3])
  })

  it('holds a delayed job back at least its delay', async () => {
    const r = runner(`t-${randomUUID()}:`)
    let ranAt = 0
    r.define('later', async () => { ranAt = Date.now() })
    await r.start()
    const addedAt = Date.now()
    await r.add('later', {}, { delayMs: 400 })
    await until(() => ranAt > 0)
    expect(ranAt - addedAt).toBeGreaterThanOrEqual(390)
  })

  it('never runs more jobs at once than the concurrency', async () => {
    const r = runner(`t-${randomUUID()}:`)
    let running = 0
    let peak = 0
    let done = 0
    r.define('bounded', async () => { running++; peak = Math.max(peak, running); await sleep(30); running--; done++ }, { concurrency: 2 })
    await r.start()
    for (let i = 0; i < 8; i++) await r.add('bounded', { i })
    await until(() => done === 8)
    expect(peak).toBe(2)
  })

  it('refuses a job id with ":"', async () => {
    const r = runner(`t-${randomUUID()}:`)
    r.define('work', async () => {})
    await expect(r.add('work', {}, { jobId: 'bforeai:1' })).rejects.toThrow(/no ":"/)
  })

  it('runs a schedule exactly once per tick across replicas', async () => {
    const prefix = `t-${randomUUID()}:`
    const replicas = kind === 'bullmq' ? [runner(prefix), runner(prefix)] : [runner(prefix)]
    const ticks: number[] = []
    for (const r of replicas) {
      r.define('sync', async (_data, info) => { ticks.push(info.tick ?? -1); await sleep(20) })
      await r.start()
    }
    await Promise.all(replicas.map(async r => { await r.schedule('sync-every', 200, 'sync', { provider: 'bforeai' }) }))
    await until(() => ticks.length >= 5)
    await Promise.all(replicas.map(async r => { await r.unschedule('sync-every') }))
    expect(new Set(ticks).size).toBe(ticks.length)
    const sorted = [...ticks].sort((x, y) => x - y)
    for (let i = 1; i < sorted.length; i++) expect((sorted[i] as number - (sorted[i - 1] as number)) % 200).toBe(0)
  })
})

describe('bullmq job runner, a replica killed mid-job', () => {
  it('hands the job to another replica once the lock runs out', async () => {
    const prefix = `t-${randomUUID()}:`
    const a = new BullJobRunner(inject('redisUrl'), { redisKeyPrefix: prefix, log })
    const b = new BullJobRunner(inject('redisUrl'), { redisKeyPrefix: prefix, log })
    open.push(b)
    const runs: Array<{ replica: string, attempt: number }> = []
    a.define('refresh', async (_d, info) => { runs.push({ replica: 'a', attempt: info.attempt }); await new Promise(() => {}) }, { lockMs: 1000 })
    b.define('refresh', async (_d, info) => { runs.push({ replica: 'b', attempt: info.attempt }) }, { lockMs: 1000 })
    await a.start()
    await a.add('refresh', { caseId: 'x' }, { jobId: 'refresh-x' })
    await until(() => runs.length === 1)
    await a.kill()
    await b.start()
    await until(() => runs.length === 2, 15_000)
    expect(runs.map(r => r.replica)).toEqual(['a', 'b'])
  })
})
