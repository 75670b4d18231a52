/**
 * In-process job runner (no Redis): the same queues, schedules, ids, delays, retries and concurrency as the BullMQ
 * adapter, inside one process. A schedule that is still running when its next tick comes leaves that tick's job
 * waiting (one run per tick, never two at once beyond the queue's concurrency).
 */
import type { Logger } from '../logger.js'
import { settleWithin, type Abandoned } from '../store/closing.js'
import { checkJobId, retryDelay, type AddOptions, type JobHandler, type JobRunner, type QueueOptions } from './port.js'

interface Pending { id: string, data: unknown, attempt: number, tick: number | null }

interface MemoryQueue {
  handler: JobHandler
  concurrency: number
  attempts: number
  backoffMs: number
  waiting: Pending[]
  running: number
  /** ids waiting, delayed or running */
  known: Set<string>
}

let anonymous = 0

export class MemoryJobRunner implements JobRunner {
  readonly kind = 'memory' as const
  readonly #queues = new Map<string, MemoryQueue>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #schedules = new Map<string, NodeJS.Timeout>()
  /** the jobs running, by their queue and id */
  readonly #inFlight = new Map<Promise<void>, string>()
  #started = false
  #closed = false

  constructor (private readonly log: Logger) {}

  define<T>(queue: string, handler: JobHandler<T>, opts: QueueOptions = {}): void {
    if (this.#queues.has(queue)) throw new Error(`queue ${queue} already has a handler`)
    this.#queues.set(queue, {
      handler: handler as JobHandler,
      concurrency: opts.concurrency ?? 1,
      attempts: opts.attempts ?? 3,
      backoffMs: opts.backoffMs ?? 1000,
      waiting: [],
      running: 0,
      known: new Set()
    })
  }

  async add<T>(queue: string, data: T, opts: AddOptions = {}): Promise<void> {
    this.#enqueue(queue, { id: opts.jobId === undefined ? `job-${++anonymous}` : checkJobId(opts.jobId), data, attempt: 1, tick: null }, opts.delayMs ?? 0)
  }

  async schedule<T>(scheduleId: string, everyMs: number, queue: string, data: T): Promise<void> {
    checkJobId(scheduleId)
    await this.unschedule(scheduleId)
    // like BullMQ's `every`: the first tick now, then one every everyMs; a timer firing early or late keeps the tick values
    let tick = Date.now()
    const fire = (): void => {
      this.#enqueue(queue, { id: `${scheduleId}-${tick}`, data, attempt: 1, tick }, 0)
      tick += everyMs
      const t = setTimeout(fire, Math.max(0, tick - Date.now()))
      t.unref()
      this.#schedules.set(scheduleId, t)
    }
    fire()
  }

  async unschedule (scheduleId: string): Promise<void> {
    const t = this.#schedules.get(scheduleId)
    if (t !== undefined) clearTimeout(t)
    this.#schedules.delete(scheduleId)
  }

  async start (): Promise<void> {
    this.#started = true
    for (const name of this.#queues.keys()) this.#pump(name)
  }

  async close (abandoned?: Abandoned): Promise<void> {
    this.#closed = true
    for (const id of [...this.#schedules.keys()]) await this.unschedule(id)
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    // a job stuck on a dead dependency is abandoned at the deadline (it ends with the process)
    if (await settleWithin(Promise.allSettled([...this.#inFlight.keys()]))) return
    for (const job of this.#inFlight.values()) abandoned?.(`jobs: ${job} (still running)`)
  }

  #queue (name: string): MemoryQueue {
    const q = this.#queues.get(name)
    if (q === undefined) throw new Error(`queue ${name} has no handler`)
    return q
  }

  #enqueue (name: string, job: Pending, delayMs: number): void {
    if (this.#closed) return
    const q = this.#queue(name)
    if (job.attempt === 1) {
      if (q.known.has(job.id)) return
      q.known.add(job.id)
    }
    if (delayMs > 0) {
      const t = setTimeout(() => { this.#timers.delete(t); q.waiting.push(job); this.#pump(name) }, delayMs)
      t.unref()
      this.#timers.add(t)
      return
    }
    q.waiting.push(job)
    this.#pump(name)
  }

  #pump (name: string): void {
    const q = this.#queue(name)
    while (this.#started && !this.#closed && q.running < q.concurrency && q.waiting.length > 0) {
      const job = q.waiting.shift() as Pending
      q.running++
      const run = this.#run(name, q, job).finally(() => {
        this.#inFlight.delete(run)
        q.running--
        this.#pump(name)
      })
      this.#inFlight.set(run, `${name} ${job.id}`)
    }
  }

  async #run (name: string, q: MemoryQueue, job: Pending): Promise<void> {
    try {
      await q.handler(job.data, { id: job.id, attempt: job.attempt, tick: job.tick })
      q.known.delete(job.id)
    } catch (err) {
      if (job.attempt >= q.attempts || this.#closed) {
        q.known.delete(job.id)
        this.log.warn({ err, queue: name, jobId: job.id, attempt: job.attempt }, 'job failed; no attempts left')
        return
      }
      this.log.debug({ err, queue: name, jobId: job.id, attempt: job.attempt }, 'job failed; retrying')
      const next = { ...job, attempt: job.attempt + 1 }
      this.#enqueue(name, next, retryDelay(q.backoffMs, next.attempt))
    }
  }
}
