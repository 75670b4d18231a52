/**
 * The store epoch: how a running gateway notices that its Redis restarted empty (ADR 0032). The first replica to
 * start writes an epoch id into the shared store and into the event log's store, without expiry. Every replica
 * checks both every STORE_EPOCH_CHECK_MS and after every reconnect. An epoch gone (or replaced by another replica
 * that noticed first) means the data is lost: the replica logs one error, counts the loss, says "degraded" on /readyz
 * for STORE_LOSS_DEGRADED_MS, begins (or adopts) the new epoch and runs the heal steps the features registered
 * (job schedulers, the watcher's baseline, idempotency tombstones, the webhook endpoints report).
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { KvStore } from './kv-store.js'
import { keys } from './keys.js'

/** kept for good: ten years (the port takes a TTL; the key must outlive every deployment) */
const FOREVER_MS = 10 * 365 * 86_400_000

/** A second store that keeps the epoch (the event log's): read and written with the shared one. */
export interface EpochHolder {
  readEpoch: () => Promise<string | null>
  writeEpoch: (epoch: string) => Promise<void>
}

/** What a heal step is told about a loss. */
export interface Loss {
  /** the epoch that was lost */
  previous: string
  /** the epoch now in force */
  epoch: string
  /** the event log's store lost its data too (its snapshots and checkpoints are gone) */
  eventsLost: boolean
  /** epoch ms the loss was noticed */
  at: number
}

export interface StoreEpochOptions {
  kv: KvStore
  /** the event log's store (events/store.ts), which keeps its own copy of the epoch */
  events: EpochHolder
  clock: Clock
  log: Logger
  /** how long /readyz says degraded after a loss */
  degradedMs: number
  /** a loss noticed (metrics) */
  onCounted?: () => void
}

/** A new epoch id: its start time (base 36) and 6 random hex digits; letters, digits and `-` only (it goes into batch ids). */
export function newEpochId (now: number): string {
  return `${now.toString(36)}-${randomBytes(3).toString('hex')}`
}

export class StoreEpoch {
  #current: string | null = null
  #lostAt: number | null = null
  #checking: Promise<void> | null = null
  readonly #heal: Array<(loss: Loss) => Promise<void>> = []
  readonly #checked: Array<() => Promise<void>> = []
  readonly o: StoreEpochOptions

  constructor (opts: StoreEpochOptions) { this.o = opts }

  /** the epoch in force here; null until the store was first reached */
  get current (): string | null { return this.#current }

  /** when this replica last noticed a loss (epoch ms), null when never */
  get lostAt (): number | null { return this.#lostAt }

  /** a heal step run once per loss this replica notices (a step that throws is logged; the others still run) */
  onLoss (step: (loss: Loss) => Promise<void>): void { this.#heal.push(step) }

  /** a step run after every check that found the epoch in place (what a later loss report needs to know) */
  onChecked (step: () => Promise<void>): void { this.#checked.push(step) }

  /** null, or why /readyz says degraded */
  degraded (): string | null {
    if (this.#lostAt === null || this.o.clock.now() - this.#lostAt >= this.o.degradedMs) return null
    return `Redis lost its data (noticed ${new Date(this.#lostAt).toISOString()}): a new store epoch began; see docs/operations.md 'Redis data loss'`
  }

  /** Checks the epoch once (checks asked for while one runs share it). Rejects when the store cannot be reached. */
  async check (): Promise<void> {
    this.#checking ??= this.#check().finally(() => { this.#checking = null })
    await this.#checking
  }

  async #check (): Promise<void> {
    const { kv, events } = this.o
    const [stored, inEvents] = await Promise.all([kv.get(keys.epoch()), events.readEpoch()])
    if (this.#current === null) {
      // first contact: adopt the epoch the store holds, or begin one (the first replica's SET NX wins)
      const epoch = stored ?? await this.#begin()
      this.#current = epoch
      // also when the event log holds it already: the write makes it the epoch this process's events carry
      await events.writeEpoch(epoch)
      this.o.log.info({ epoch }, 'store epoch')
      await this.#census()
      return
    }
    if (stored === this.#current && inEvents === this.#current) {
      await this.#census()
      return
    }
    const previous = this.#current
    // gone: begin the next one; replaced: another replica noticed first and began it
    const epoch = stored !== null && stored !== previous ? stored : await this.#begin()
    await events.writeEpoch(epoch)
    this.#current = epoch
    this.#lostAt = this.o.clock.now()
    this.o.onCounted?.()
    const loss: Loss = { previous, epoch, eventsLost: inEvents !== previous, at: this.#lostAt }
    this.o.log.error({ previousEpoch: previous, epoch, eventsLost: loss.eventsLost },
      'Redis lost its data (the store epoch was gone): a new epoch began; job schedulers, the watcher baseline and idempotency records are being restored as far as they can be; see docs/operations.md \'Redis data loss\'')
    for (const step of this.#heal) {
      await step(loss).catch((err: unknown) => { this.o.log.warn({ err: (err as Error).message }, 'store epoch: a heal step failed; it runs again at the next loss only') })
    }
  }

  async #census (): Promise<void> {
    for (const step of this.#checked) await step().catch((err: unknown) => { this.o.log.warn({ err: (err as Error).message }, 'store epoch: a census step failed') })
  }

  /**
   * Checks every `everyMs` and whenever a store connection is back (a restarted Redis may be an empty one).
   * `afterReconnect` runs after that check (the job schedulers are upserted again: they may be gone).
   */
  start (everyMs: number, connections: Array<{ on: (event: 'ready', fn: () => void) => unknown } | undefined>, afterReconnect: () => Promise<void>): () => void {
    const quietly = (): void => { this.check().catch((err: unknown) => { this.o.log.debug({ err: (err as Error).message }, 'store epoch check: the store did not answer') }) }
    const timer = setInterval(quietly, everyMs)
    timer.unref()
    const onReady = (): void => {
      this.check().then(afterReconnect).catch((err: unknown) => { this.o.log.warn({ err: (err as Error).message }, 'after a Redis reconnect: the epoch check or the schedules failed; the next check retries') })
    }
    for (const c of connections) c?.on('ready', onReady)
    return () => { clearInterval(timer) }
  }

  /** writes a new epoch unless another replica just did; returns the one in force */
  async #begin (): Promise<string> {
    const epoch = newEpochId(this.o.clock.now())
    if (await this.o.kv.set(keys.epoch(), epoch, { ttlMs: FOREVER_MS, nx: true })) return epoch
    return await this.o.kv.get(keys.epoch()) ?? epoch
  }
}
