/**
 * Outbound rate governance: a request budget per vendor credential, shared by every replica through the KvStore,
 * so the gateway never trips a vendor's own limit (a vendor that publishes one, e.g. 1200 requests per 5 minutes per
 * token, may refuse every call for minutes once it is passed; the module's `budget` gives its source).
 *
 * Sliding-window approximation over two fixed windows (the previous window's count weighted by how much of it still
 * overlaps the sliding window, plus the current one), counted with `incr`. Only calls that go out are counted (a
 * refused call reads the counters and leaves them alone): counting refusals would keep a busy gateway locked out
 * for ever. Replicas racing for the last slot are settled by the counter `incr` returns.
 *
 * One round trip per call while the window is far from its limit: the previous window's count is read once per window
 * (it no longer grows once its window has passed), and while the current count this replica last saw, plus one, is
 * within half the limit, the call is counted with `incr` straight away instead of after a read. The count `incr`
 * returns is judged as before, so a call is still refused when the window is full; the only difference is that a
 * refusal found this way (other replicas took more than half the limit since this one last looked) has been counted,
 * as a replica that loses the race for the last slot always was.
 *
 * Reads over budget fail fast (`rate_limited` with our own retryAfter → 503 + Retry-After); writes wait for room
 * within their deadline. The store is optional at run time: when it fails or is slow, the budget fails open (the
 * vendor's own 429 handling still applies), logs once per outage and leaves the store alone for a few seconds.
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { ProviderId } from '../schemas/provider.js'
import type { KvStore } from '../store/kv-store.js'
import { keys } from '../store/keys.js'
import { ConnectorError, type CallBudget } from './connector.js'
import { sleep, type CancelSignal } from './deadline.js'

export interface OutboundBudgetOptions {
  provider: ProviderId
  /** the vendor credential; only a hash of it reaches the store key */
  credential: string
  limit: number
  windowMs: number
  store: KvStore
  clock: Clock
  log: Logger
  /** longest a store round trip may take before the budget fails open (default 250 ms) */
  storeTimeoutMs?: number
  /** how long the store is left alone after a failure (default 5000 ms) */
  storeBackoffMs?: number
}

export interface AcquireOptions {
  /** writes wait for room within the deadline; reads fail fast */
  write: boolean
  /** epoch ms */
  deadline: number
  signal: CancelSignal
}

/** Marks a ConnectorError raised by the budget, so VendorHttp never retries it. */
export const BUDGET_REFUSAL = Symbol.for('takedown-gateway.budget-refusal')

export class OutboundBudget implements CallBudget {
  readonly provider: ProviderId
  readonly limit: number
  readonly windowMs: number
  readonly #id: string
  readonly #opts: OutboundBudgetOptions
  #storeDownUntil = 0
  #storeDown = false
  /** the current window's count as the store last returned it, and the previous window's (read once per window) */
  #seen = { window: Number.NaN, current: 0, previous: 0 }

  constructor (opts: OutboundBudgetOptions) {
    this.provider = opts.provider
    this.limit = opts.limit
    this.windowMs = opts.windowMs
    this.#opts = opts
    this.#id = createHash('sha256').update(`${opts.provider}\0${opts.credential}`).digest('hex').slice(0, 16)
  }

  /** Resolves when the call may go out; throws ConnectorError `rate_limited` (reads, or writes past their deadline) or `timeout`. */
  async acquire (opts: AcquireOptions): Promise<void> {
    for (;;) {
      const waitMs = await this.#take()
      if (waitMs === 0) return
      if (!opts.write || Date.now() + waitMs >= opts.deadline) {
        const err = new ConnectorError(this.provider, 'rate_limited',
          `the gateway's own budget for ${this.provider} (${this.limit} requests per ${Math.round(this.windowMs / 1000)} s, shared by every replica) is spent`,
          { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) })
        Object.defineProperty(err, BUDGET_REFUSAL, { value: true })
        throw err
      }
      this.#opts.log.debug({ provider: this.provider, waitMs }, 'outbound budget spent; write waits for room')
      try {
        await sleep(waitMs, opts.signal)
      } catch (cause) {
        throw new ConnectorError(this.provider, 'timeout', 'the request deadline passed while waiting for outbound budget', { cause })
      }
    }
  }

  /**
   * A caller's share of this budget (background work such as bulk submissions): a budget of `fraction` of the limit,
   * counted apart under `name`. Pass it as the ConnectorContext `budget` of that work: its calls then fit in the share
   * and in this whole budget, so the rest of the window stays for interactive requests.
   */
  share (name: string, fraction: number): OutboundBudget {
    return new OutboundBudget({ ...this.#opts, credential: `${this.#opts.credential}\u0000${name}`, limit: Math.max(1, Math.floor(this.limit * fraction)) })
  }

  /**
   * Requests left in the sliding window right now, as every replica counted them (for the metrics gauge);
   * null when the store does not answer.
   */
  async remaining (): Promise<number | null> {
    const now = this.#opts.clock.now()
    const window = Math.floor(now / this.windowMs)
    const elapsed = (now - window * this.windowMs) / this.windowMs
    try {
      const [cur, prev] = await withTimeout(Promise.all([
        this.#opts.store.get(keys.outboundBudget(this.#id, window)),
        this.#opts.store.get(keys.outboundBudget(this.#id, window - 1))
      ]), this.#opts.storeTimeoutMs ?? 250)
      const used = Number(cur ?? 0) + Number(prev ?? 0) * (1 - elapsed)
      return Math.max(0, Math.floor(this.limit - used))
    } catch {
      return null
    }
  }

  /** 0 when the call may go out now, else how long (ms) until the sliding window has room. */
  async #take (): Promise<number> {
    if (Date.now() < this.#storeDownUntil) return 0
    const now = this.#opts.clock.now()
    const window = Math.floor(now / this.windowMs)
    const elapsed = (now - window * this.windowMs) / this.windowMs
    const key = keys.outboundBudget(this.#id, window)
    const timeoutMs = this.#opts.storeTimeoutMs ?? 250
    let current: number
    let previous: number
    try {
      const seen = this.#seen
      if (seen.window === window && seen.current + 1 + seen.previous * (1 - elapsed) <= this.limit / 2) {
        // far from the limit: count the call at once (one round trip); the count returned is judged below as ever
        previous = seen.previous
        current = (await withTimeout(this.#opts.store.incr(key, this.windowMs * 2), timeoutMs)).value
      } else {
        const [cur, prev] = await withTimeout(Promise.all([
          this.#opts.store.get(key),
          this.#opts.store.get(keys.outboundBudget(this.#id, window - 1))
        ]), timeoutMs)
        previous = prev === null ? 0 : Number(prev)
        current = (cur === null ? 0 : Number(cur)) + 1
        if (current + previous * (1 - elapsed) <= this.limit) {
          // room: take it; the counter incr returns settles a race with other replicas
          current = (await withTimeout(this.#opts.store.incr(key, this.windowMs * 2), timeoutMs)).value
        }
      }
      this.#seen = { window, current, previous }
    } catch (err) {
      this.#storeFailed(err)
      return 0
    }
    if (this.#storeDown) {
      this.#storeDown = false
      this.#opts.log.info({ provider: this.provider }, 'outbound budget store reachable again')
    }
    const estimate = current + previous * (1 - elapsed)
    if (estimate <= this.limit) return 0
    const windowLeft = (window + 1) * this.windowMs - now
    if (current > this.limit || previous === 0) return Math.max(1, windowLeft)
    // time until the previous window's weight has dropped enough for one more request
    const room = (this.limit - current) / previous // fraction of the previous window that may still overlap
    const wait = ((1 - elapsed) - room) * this.windowMs
    return Math.max(1, Math.min(windowLeft, Math.ceil(wait)))
  }

  #storeFailed (err: unknown): void {
    this.#storeDownUntil = Date.now() + (this.#opts.storeBackoffMs ?? 5000)
    if (!this.#storeDown) {
      this.#storeDown = true
      this.#opts.log.warn({ provider: this.provider, err: err instanceof Error ? err.message : String(err) },
        'outbound budget store unreachable; vendor calls go out unmetered until it answers again')
    }
  }
}

export function isBudgetRefusal (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BUDGET_REFUSAL] === true
}

function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`store did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
