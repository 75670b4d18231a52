/**
 * From the event log to the delivery queue. The log's subscription only *wakes* the fan-out; what is fanned out is
 * read from the log after a cursor kept in the store, and the cursor moves only once the deliveries are queued. So an
 * event recorded while no replica ran, or while the replica fanning out died, is still delivered (at least once),
 * and with several replicas one lock holder does the work while the others' wake-ups fall through.
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../../clock.js'
import type { Logger } from '../../logger.js'
import { settleWithin, type Abandoned } from '../../store/closing.js'
import type { KvStore } from '../../store/kv-store.js'
import type { WebhookEvent, WebhookDelivery } from './delivery.js'
import type { WebhookStore } from './store.js'

/** The event log as the fan-out reads it (the events engine's store satisfies it). */
export interface WebhookEventSource {
  /** events after `after` (exclusive), oldest first; `next` is the id of the last entry looked at */
  read: (after: string | null, limit: number, filter: Record<string, never>) => Promise<{ items: WebhookEvent[], next: string | null }>
  /** called for every event recorded from now on, by any replica */
  subscribe: (listener: (event: WebhookEvent) => void) => Promise<() => void>
}

const CURSOR = 'fanout'
const LOCK_KEY = 'tgw:v1:wh:fanout-lock'
/** a pass takes well under a second per 500 events; a replica that dies holding the lock blocks the others this long */
const LOCK_MS = 10_000
const BATCH = 500

/** An event id before every event recorded at or after `ms` (ids are `<ms>-<n>`). */
export const idBefore = (ms: number): string => `${Math.max(0, ms - 1)}-999999999`

export class WebhookFanout {
  #running: Promise<void> | null = null
  #again = false
  #timer: NodeJS.Timeout | null = null
  #unsubscribe: (() => void) | null = null
  #closed = false
  /** recorded time of events fanned out here, for the recorded → queued lag */
  lastLagMs = 0

  constructor (
    private readonly source: WebhookEventSource,
    private readonly service: WebhookDelivery,
    private readonly store: WebhookStore,
    private readonly kv: KvStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { pollMs: number }
  ) {}

  start (): void {
    this.#closed = false
    // the subscription makes delivery prompt; the poll makes it certain (a missed wake-up, a store that was down)
    this.source.subscribe(() => { this.wake() }).then(unsubscribe => { this.#unsubscribe = unsubscribe }, (err: Error) => {
      this.log.warn({ err: err.message }, 'webhook fan-out could not subscribe to the event log; polling only')
    })
    this.#timer = setInterval(() => { this.wake() }, this.opts.pollMs)
    this.#timer.unref()
    this.wake()
  }

  /** runs a pass now, or right after the one running */
  wake (): void {
    if (this.#closed) return
    if (this.#running !== null) { this.#again = true; return }
    this.#running = this.#pass().catch(err => { this.log.warn({ err: (err as Error).message }, 'webhook fan-out pass failed; the next one retries') })
      .finally(() => {
        this.#running = null
        if (this.#again) { this.#again = false; this.wake() }
      })
  }

  /** resolves once the fan-out has caught up with the log (tests, shutdown) */
  async idle (): Promise<void> { while (this.#running !== null) await this.#running }

  async #pass (): Promise<void> {
    const token = randomUUID()
    if (!await this.kv.set(LOCK_KEY, token, { ttlMs: LOCK_MS, nx: true })) return
    try {
      let cursor = await this.store.getCursor(CURSOR)
      if (cursor === null) {
        // the first start: from now on (an endpoint never receives events from before the webhooks existed)
        cursor = idBefore(this.clock.now())
        await this.store.setCursor(CURSOR, cursor)
      }
      for (;;) {
        const page = await this.source.read(cursor, BATCH, {})
        if (page.items.length > 0) {
          const endpoints = await this.store.listEndpoints()
          let queued = 0
          for (const event of page.items) {
            // an endpoint receives the events recorded after it was registered; older ones only through recover
            queued += await this.service.fanOut(event, endpoints.filter(ep => ep.createdAt <= event.observedAt))
          }
          this.log.debug({ events: page.items.length, endpoints: endpoints.length, queued }, 'webhook fan-out')
          const last = page.items[page.items.length - 1]
          if (last !== undefined) this.lastLagMs = this.clock.now() - Date.parse(last.observedAt)
        }
        if (page.next === null || page.next === cursor) break
        cursor = page.next
        await this.store.setCursor(CURSOR, cursor)
      }
    } finally {
      await this.kv.delIfEquals(LOCK_KEY, token)
    }
  }

  /** every event of the log recorded since `sinceMs` (POST …/recover), read in pages */
  async since (sinceMs: number, max: number): Promise<WebhookEvent[]> {
    const out: WebhookEvent[] = []
    let cursor: string | null = idBefore(sinceMs)
    while (out.length < max) {
      const page: { items: WebhookEvent[], next: string | null } = await this.source.read(cursor, Math.min(BATCH, max - out.length), {})
      out.push(...page.items)
      if (page.next === null || page.next === cursor) break
      cursor = page.next
    }
    return out
  }

  /** stops waking; waits up to the close deadline for a pass under way (one stuck on an unreachable Redis is left behind) */
  async close (abandoned?: Abandoned): Promise<void> {
    this.#closed = true
    this.#unsubscribe?.()
    if (this.#timer !== null) clearInterval(this.#timer)
    if (!(await settleWithin(this.idle()))) abandoned?.('webhooks: the fan-out pass under way')
  }
}
