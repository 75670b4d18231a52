/**
 * THE jobs port: named queues of background work and repeatable schedules, shared by replicas.
 * Two adapters run the same handlers: BullMQ (Redis; work shared by every replica, a killed replica's job is picked up
 * again) and in-process (memory store: one replica, same semantics inside the process).
 */

export interface JobInfo {
  /** the job's id (ours when given, else the engine's) */
  readonly id: string
  /** 1 on the first run, 2 on the first retry... */
  readonly attempt: number
  /** for a run started by a schedule: the tick (epoch ms) it belongs to; null otherwise */
  readonly tick: number | null
}

export type JobHandler<T = unknown> = (data: T, info: JobInfo) => Promise<void>

export interface QueueOptions {
  /** handler runs at once per replica (default 1) */
  concurrency?: number
  /** runs of one job before it is dropped as failed (default 3) */
  attempts?: number
  /** first retry delay; doubled on each further retry (default 1000) */
  backoffMs?: number
  /** how long a running job's lock holds before another replica may take it back (BullMQ; default 30000) */
  lockMs?: number
}

export interface AddOptions {
  /**
   * Deduplicates: while a job with this id waits or runs, adding another is a no-op. Letters, digits, `-` `_` `.` only
   * (BullMQ reserves `:` in its keys).
   */
  jobId?: string
  delayMs?: number
}

export interface JobRunner {
  readonly kind: 'bullmq' | 'memory'
  /** one handler per queue; call before start() */
  define: <T>(queue: string, handler: JobHandler<T>, opts?: QueueOptions) => void
  add: <T>(queue: string, data: T, opts?: AddOptions) => Promise<void>
  /** a repeatable schedule: one job on `queue` per tick of `everyMs`, exactly one run per tick across all replicas */
  schedule: <T>(scheduleId: string, everyMs: number, queue: string, data: T) => Promise<void>
  unschedule: (scheduleId: string) => Promise<void>
  /** starts taking work */
  start: () => Promise<void>
  /**
   * stops taking work and waits for the jobs running here up to a deadline; the ones still running then are abandoned
   * and named to `abandoned` (BullMQ leaves unfinished ones for another replica)
   */
  close: (abandoned?: (what: string) => void) => Promise<void>
}

const JOB_ID = /^[\w.-]{1,200}$/

/** Job and schedule ids: `:` is BullMQ's key separator, so ids are kept to a safe alphabet everywhere. */
export function checkJobId (id: string): string {
  if (!JOB_ID.test(id)) throw new TypeError(`job id "${id}" must be 1-200 letters, digits, - _ . (no ":")`)
  return id
}

/** Retry delay of attempt `attempt` (2 = first retry): exponential from `backoffMs`. */
export function retryDelay (backoffMs: number, attempt: number): number {
  return backoffMs * 2 ** Math.max(0, attempt - 2)
}
