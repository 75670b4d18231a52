/**
 * Batch items through passing vendor faults: connection resets at the vendors for 20 s of the manual clock, with the
 * item jobs run on that clock (the jobs port is the seam: this runner hands the real handler each job once the clock
 * reaches its delay), 5xx answers to the duplicate-check read, and the circuit opening on failed creates between
 * successful reads.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { JobHandler, JobRunner } from '../../src/jobs/port.js'
import type { Batch, BatchItem } from '../../src/schemas/batch.js'
import { BATCH_QUEUE } from '../../src/features/batches/run.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

/** The jobs port on a manual clock: a job waits until the clock reaches its delay; `runDue` works what is due, all at once. */
class ClockJobs implements JobRunner {
  readonly kind = 'memory' as const
  readonly #handlers = new Map<string, JobHandler>()
  #waiting: Array<{ id: string, queue: string, data: unknown, at: number }> = []
  #ids = 0
  constructor (private readonly clock: ManualClock) {}

  define<T>(queue: string, handler: JobHandler<T>): void { this.#handlers.set(queue, handler as JobHandler) }
  async add<T>(queue: string, data: T, opts: { jobId?: string, delayMs?: number } = {}): Promise<void> {
    const id = opts.jobId ?? `job-${++this.#ids}`
    if (this.#waiting.some(j => j.id === id)) return
    this.#waiting.push({ id, queue, data, at: this.clock.now() + (opts.delayMs ?? 0) })
  }

  async schedule (): Promise<void> {}
  async unschedule (): Promise<void> {}
  async start (): Promise<void> {}
  async close (): Promise<void> {}

  /** when the next batch item job is due; null when none waits */
  nextDue (): number | null {
    const ats = this.#waiting.filter(j => j.queue === BATCH_QUEUE).map(j => j.at)
    return ats.length === 0 ? null : Math.min(...ats)
  }

  async runDue (): Promise<void> {
    const due = this.#waiting.filter(j => j.queue === BATCH_QUEUE && j.at <= this.clock.now())
    this.#waiting = this.#waiting.filter(j => !due.includes(j))
    const handler = this.#handlers.get(BATCH_QUEUE) as JobHandler
    await Promise.all(due.map(async j => { await handler(j.data, { id: j.id, attempt: 1, tick: null }) }))
  }
}

const clock = new ManualClock()
const jobs = new ClockJobs(clock)
let gw: TestGateway
beforeAll(async () => {
  // the circuit breaker counts in real time, which this test does not move: its own tests cover it
  gw = await testGateway({ store: 'redis', clock, env: { CIRCUIT_FAILURE_THRESHOLD: '1000' }, appOptions: { jobs } })
})
afterAll(async () => { await gw.close() })

const get = async <T>(path: string): Promise<T> => {
  const res = await gw.app.inject({ method: 'GET', url: path, headers: auth() })
  expect(res.statusCode).toBe(200)
  return res.json<T>()
}
const submit = async (items: unknown[]): Promise<Batch> => {
  const res = await gw.app.inject({
    method: 'POST', url: '/v1/batches', headers: auth(), payload: { defaults: { brand: { id: 501, name: 'Acme Bank' }, comment: 'phishing kit hunt' }, items }
  })
  expect(res.statusCode).toBe(202)
  return res.json<Batch>()
}
/** the open cases a vendor has for a host, as the gateway lists them */
const casesFor = async (provider: string, value: string): Promise<unknown[]> =>
  (await get<{ items: unknown[] }>(`/v1/cases?provider=${provider}&q=${encodeURIComponent(new URL(value).hostname)}`)).items

/** works the item jobs off on the manual clock, moving it to each next job's time; `before(round)` runs before each round's jobs */
async function workOff (before: (round: number) => Promise<void> = async () => {}): Promise<void> {
  let rounds = 0
  for (let next = jobs.nextDue(); next !== null; next = jobs.nextDue()) {
    if (next > clock.now()) clock.advance(next - clock.now())
    await before(++rounds)
    await jobs.runDue()
    expect(rounds).toBeLessThan(50)
  }
}

describe('batch items through passing vendor faults', () => {
  it('creates every item exactly once after 20 s of connection resets at the vendors, none failed', async () => {
    const run = randomUUID().slice(0, 8)
    const items = Array.from({ length: 20 }, (_v, i) => {
      const provider = i % 2 === 0 ? 'phishfort' : 'bforeai'
      return { provider, target: { type: 'url', value: `https://reset-${run}-${i}.example.com/login` } }
    })
    const batch = await submit(items)
    const start = clock.now()
    // every request to either vendor has its connection destroyed: the duplicate-check reads and the creates alike
    for (const id of ['phishfort', 'bforeai'] as const) gw.sandbox.running[id].sim.faults.add({ reset: true })
    await workOff(async round => {
      if (clock.now() - start >= 20_000) for (const id of ['phishfort', 'bforeai'] as const) gw.sandbox.running[id].sim.faults.clear()
      if (round === 1) {
        // the first attempt of every item met the resets: all still pending, none failed
        expect((await get<Batch>(`/v1/batches/${batch.id}`)).counts).toMatchObject({ pending: 20, failed: 0, created: 0 })
      }
    })
    expect(clock.now() - start).toBeGreaterThanOrEqual(20_000)
    const done = await get<Batch>(`/v1/batches/${batch.id}`)
    expect(done.counts).toEqual({ created: 20, duplicate: 0, failed: 0, cancelled: 0, pending: 0 })
    const outcomes = (await get<{ items: BatchItem[] }>(`/v1/batches/${batch.id}/items?limit=100`)).items
    // created once the faults had cleared, each with a case of its own
    for (const item of outcomes) expect(Date.parse(item.updatedAt)).toBeGreaterThanOrEqual(start + 20_000)
    expect(new Set(outcomes.map(i => i.caseId)).size).toBe(20)
    for (const item of items) expect(await casesFor(item.provider, item.target.value)).toHaveLength(1)
  }, 60_000)

  it('retries an item whose duplicate-check read met 5xx answers (nothing was sent) and creates it once', async () => {
    const target = `https://lookup-${randomUUID().slice(0, 8)}.example.com/login`
    // two attempts' worth of reads (each read is tried three times) answer 502
    gw.sandbox.running.phishfort.sim.faults.add({ method: 'GET', path: '/v1/incident/subject/', status: 502, times: 6 })
    const batch = await submit([{ provider: 'phishfort', target: { type: 'url', value: target } }])
    await workOff()
    const done = await get<Batch>(`/v1/batches/${batch.id}`)
    expect(done.counts).toMatchObject({ created: 1, failed: 0 })
    expect(await casesFor('phishfort', target)).toHaveLength(1)
  }, 30_000)
})

describe('the circuit under a batch whose creates fail', () => {
  it('opens after CIRCUIT_FAILURE_THRESHOLD failed creates although every duplicate-check read between them succeeded', async () => {
    const own = await testGateway({ store: 'redis', env: { CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_HALF_OPEN_AFTER_MS: '600000', BATCH_CONCURRENCY: '1' } })
    try {
      own.sandbox.running.phishfort.sim.faults.add({ method: 'POST', path: 'incident/tkd$', status: 500 })
      const items = Array.from({ length: 5 }, (_v, i) => ({ target: { type: 'url', value: `https://breaker-${randomUUID().slice(0, 8)}-${i}.example.com/login` } }))
      const res = await own.app.inject({ method: 'POST', url: '/v1/batches', headers: auth(), payload: { defaults: { provider: 'phishfort' }, items } })
      expect(res.statusCode).toBe(202)
      let batch = res.json<Batch>()
      const circuit = async (): Promise<string | undefined> =>
        (await own.app.inject({ method: 'GET', url: '/v1/providers', headers: auth() })).json<{ items: Array<{ id: string, circuit: string }> }>().items.find(p => p.id === 'phishfort')?.circuit
      for (let i = 0; i < 200 && await circuit() !== 'open'; i++) await new Promise(resolve => setTimeout(resolve, 50))
      await new Promise(resolve => setTimeout(resolve, 300))
      batch = (await own.app.inject({ method: 'GET', url: `/v1/batches/${batch.id}`, headers: auth() })).json<Batch>()
      // three items failed on the vendor's 500 (a create that may have been taken is not sent again); the other two
      // wait for the circuit instead of failing
      expect(batch.counts).toMatchObject({ failed: 3, pending: 2, created: 0 })
      const stats = own.sandbox.running.phishfort.sim.stats.counts
      expect([...stats].filter(([route]) => /^POST .*incident\/tkd$/.test(route)).reduce((n, [, c]) => n + c, 0)).toBe(3)
      expect(await circuit()).toBe('open')
    } finally {
      await own.close()
    }
  }, 30_000)
})
