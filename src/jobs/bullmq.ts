/**
 * BullMQ adapter of the jobs port. BullMQ's own rules (https://docs.bullmq.io, "Connections" and "Going to
 * production"): its connections use `maxRetriesPerRequest: null` (a blocking worker must never give up a command),
 * keys are namespaced with BullMQ's `prefix`, never ioredis' `keyPrefix`, and job ids never contain `:`.
 * Schedules are BullMQ Job Schedulers (`every`): one job per tick whatever the number of replicas. A job whose
 * replica dies keeps its lock until `lockMs` runs out; then another replica's stalled-job check moves it back to wait.
 */
import { Queue, Worker, type Job } from 'bullmq'
import type { Cluster, Redis } from 'ioredis'
import type { RedisTarget } from '../store/redis-kv-store.js'
import type { Logger } from '../logger.js'
import { closeRedisClient, settleWithin, type Abandoned } from '../store/closing.js'
import { createRedisClient } from '../store/redis-kv-store.js'
import { checkJobId, type AddOptions, type JobHandler, type JobRunner, type QueueOptions } from './port.js'

/** BullMQ's key prefix from REDIS_KEY_PREFIX; on a Cluster, one hash tag so each queue's keys share a slot. */
export function bullPrefix (redisKeyPrefix: string, cluster: boolean): string {
  const prefix = `${redisKeyPrefix}tgw-bull`
  return cluster ? `{${prefix}}` : prefix
}

interface Defined { handler: JobHandler, opts: Required<QueueOptions> }

export class BullJobRunner implements JobRunner {
  readonly kind = 'bullmq' as const
  readonly #connection: Redis | Cluster
  readonly #prefix: string
  readonly #defined = new Map<string, Defined>()
  readonly #queues = new Map<string, Queue>()
  readonly #workers: Worker[] = []

  readonly log: Logger

  constructor (target: string | RedisTarget, opts: { redisKeyPrefix: string, log: Logger }) {
    const log = this.log = opts.log
    this.#connection = createRedisClient(target, { maxRetriesPerRequest: null, enableOfflineQueue: true })
    this.#connection.on('error', (err: Error) => { log.debug({ err: err.message }, 'job queue connection error') })
    this.#prefix = bullPrefix(opts.redisKeyPrefix, typeof target !== 'string' && target.kind === 'cluster')
  }

  define<T>(queue: string, handler: JobHandler<T>, opts: QueueOptions = {}): void {
    checkJobId(queue)
    if (this.#defined.has(queue)) throw new Error(`queue ${queue} already has a handler`)
    this.#defined.set(queue, {
      handler: handler as JobHandler,
      opts: { concurrency: opts.concurrency ?? 1, attempts: opts.attempts ?? 3, backoffMs: opts.backoffMs ?? 1000, lockMs: opts.lockMs ?? 30_000 }
    })
  }

  #queue (name: string): Queue {
    let q = this.#queues.get(name)
    if (q === undefined) {
      const def = this.#defined.get(name)
      if (def === undefined) throw new Error(`queue ${name} has no handler`)
      q = new Queue(name, {
        connection: this.#connection,
        prefix: this.#prefix,
        defaultJobOptions: {
          attempts: def.opts.attempts,
          backoff: { type: 'exponential', delay: def.opts.backoffMs },
          removeOnComplete: true,
          removeOnFail: { count: 1000 }
        }
      })
      q.on('error', (err: Error) => { this.log.debug({ err: err.message, queue: name }, 'job queue error') })
      this.#queues.set(name, q)
    }
    return q
  }

  async add<T>(queue: string, data: T, opts: AddOptions = {}): Promise<void> {
    await this.#queue(queue).add(queue, data, {
      ...(opts.jobId === undefined ? {} : { jobId: checkJobId(opts.jobId) }),
      ...(opts.delayMs === undefined ? {} : { delay: opts.delayMs })
    })
  }

  async schedule<T>(scheduleId: string, everyMs: number, queue: string, data: T): Promise<void> {
    await this.#queue(queue).upsertJobScheduler(checkJobId(scheduleId), { every: everyMs }, {
      name: queue,
      data,
      // a tick that fails is not retried: the next tick does the same work with fresher data
      opts: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } }
    })
  }

  async unschedule (scheduleId: string): Promise<void> {
    await Promise.all([...this.#queues.values()].map(async q => await q.removeJobScheduler(scheduleId)))
  }

  async start (): Promise<void> {
    for (const [name, def] of this.#defined) {
      this.#queue(name)
      const worker = new Worker(name, async (job: Job) => {
        // a scheduler's job id is `repeat:<scheduler id>:<tick ms>` (BullMQ's job-scheduler naming)
        const tick = job.repeatJobKey === undefined || job.id === undefined ? null : Number(job.id.slice(job.id.lastIndexOf(':') + 1))
        await def.handler(job.data, { id: job.id ?? '', attempt: job.attemptsMade + 1, tick })
      }, {
        connection: this.#connection,
        prefix: this.#prefix,
        concurrency: def.opts.concurrency,
        lockDuration: def.opts.lockMs,
        stalledInterval: Math.max(500, Math.floor(def.opts.lockMs / 2)),
        maxStalledCount: 2
      })
      worker.on('error', (err: Error) => { this.log.debug({ err: err.message, queue: name }, 'job worker error') })
      worker.on('failed', (job, err) => {
        this.log.warn({ err: err.message, queue: name, jobId: job?.id, attempt: job?.attemptsMade }, 'job failed')
      })
      this.#workers.push(worker)
    }
  }

  async close (abandoned?: Abandoned): Promise<void> {
    // a worker waits for its running job; at the deadline it is closed by force (its lock lapses, another replica takes the job)
    await Promise.all(this.#workers.map(async w => {
      if (await settleWithin(w.close())) return
      abandoned?.(`jobs: the running ${w.name} job (left to another replica)`)
      await settleWithin(w.close(true))
    }))
    await Promise.all([...this.#queues.entries()].map(async ([name, q]) => {
      if (!(await settleWithin(q.close()))) abandoned?.(`jobs: the ${name} queue's pending commands`)
    }))
    if (!(await closeRedisClient(this.#connection))) abandoned?.('jobs: Redis did not answer QUIT; the connection was dropped with its pending commands')
  }

  /** Stops the way a killed process does: no job finishes, no lock is released (tests of the stalled-job path). */
  async kill (): Promise<void> {
    await Promise.allSettled(this.#workers.map(async w => { await w.close(true) }))
    this.#connection.disconnect()
  }
}
