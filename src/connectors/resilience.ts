/**
 * Circuit breaker and bulkhead per provider (cockatiel 3), applied once in providers/build.ts around the whole
 * connector, so connectors stay unaware of them.
 *
 * - The breaker counts only failures that say the vendor is unwell (`unavailable`, `timeout`, `protocol`), never
 *   the answers of a healthy vendor (`not_found`, `rejected`, `auth`, `rate_limited`, `unsupported`). After
 *   `failureThreshold` such failures in a row, of all calls or of one connector method, it opens: calls fail fast
 *   for `halfOpenAfterMs`, then one trial call decides between closed and open again. While that trial runs, other
 *   calls fail fast too. A success resets the count of its own method only, so creates failing between successful
 *   duplicate-check reads still open the circuit.
 * - The bulkhead caps the calls in flight to one vendor and queues a few more; a slow vendor cannot take every
 *   socket and every request of the gateway with it.
 * An open circuit or a full bulkhead is a ConnectorError `unavailable` with a retryAfter (→ 503 + Retry-After).
 * A 404 from a vendor's *list* route is no answer about data: the list always exists, so the base URL (or the vendor's
 * API version) is wrong. It becomes a `protocol` failure that counts toward the circuit, is logged once as a
 * configuration error and stays in `configError` (GET /readyz) until a list call succeeds.
 */
import {
  BrokenCircuitError, BulkheadRejectedError, CircuitState, IsolatedCircuitError, TaskCancelledError,
  bulkhead, circuitBreaker, handleWhen, wrap, type BulkheadPolicy, type CircuitBreakerPolicy, type IBreaker
} from 'cockatiel'
import type { Logger } from '../logger.js'
import type { ProviderId } from '../schemas/provider.js'
import { CAPABILITY_APIS, ConnectorError, type ConnectorContext, type ConnectorErrorKind, type ProviderConnector } from './connector.js'

export type CircuitStateName = 'closed' | 'open' | 'half_open'

export interface ResilienceOptions {
  /** consecutive vendor failures that open the circuit */
  failureThreshold: number
  /** how long the circuit stays open before a trial call */
  halfOpenAfterMs: number
  /** calls in flight at once */
  maxConcurrency: number
  /** calls waiting for a slot */
  maxQueue: number
}

/** Failure kinds that mean the vendor is unwell; the others are answers of a healthy vendor. */
export const TRIPPING_KINDS: ReadonlySet<ConnectorErrorKind> = new Set(['unavailable', 'timeout', 'protocol'])

const trips = (err: unknown): boolean => err instanceof ConnectorError && !err.cancelled && TRIPPING_KINDS.has(err.kind)

/**
 * Consecutive tripping failures of all calls (cockatiel's ConsecutiveBreaker) and of each connector method: the policy
 * reports every outcome here, `count` (run inside the call, before the policy's report) keeps the per-method streaks.
 */
class StreakBreaker implements IBreaker {
  state = 0
  readonly #byMethod = new Map<string, number>()
  constructor (readonly threshold: number) {}

  count (method: string, failed: boolean): void {
    if (failed) this.#byMethod.set(method, (this.#byMethod.get(method) ?? 0) + 1)
    else this.#byMethod.delete(method)
  }

  success (): void { this.state = 0 }
  failure (): boolean {
    if (++this.state >= this.threshold) return true
    for (const n of this.#byMethod.values()) if (n >= this.threshold) return true
    return false
  }

  /** a closed circuit starts every count again */
  reset (): void {
    this.state = 0
    this.#byMethod.clear()
  }
}

export class ProviderResilience {
  readonly provider: ProviderId
  readonly #opts: ResilienceOptions
  readonly #breaker: CircuitBreakerPolicy
  readonly #streaks: StreakBreaker
  readonly #bulkhead: BulkheadPolicy
  readonly #policy: ReturnType<typeof wrap>
  readonly #log: Logger | undefined
  #openedAt = 0
  #configError: string | null = null

  constructor (provider: ProviderId, opts: ResilienceOptions, log?: Logger) {
    this.provider = provider
    this.#opts = opts
    this.#log = log
    this.#streaks = new StreakBreaker(opts.failureThreshold)
    this.#breaker = circuitBreaker(handleWhen(trips), { halfOpenAfter: opts.halfOpenAfterMs, breaker: this.#streaks })
    this.#bulkhead = bulkhead(opts.maxConcurrency, opts.maxQueue)
    // breaker outside: an open circuit fails fast without taking a bulkhead slot
    this.#policy = wrap(this.#breaker, this.#bulkhead)
    this.#breaker.onStateChange(state => {
      if (state === CircuitState.Open) this.#openedAt = Date.now()
      if (state === CircuitState.Closed) this.#streaks.reset()
      const name = stateName(state, false)
      if (state === CircuitState.Open) log?.warn({ provider, circuit: name, halfOpenAfterMs: opts.halfOpenAfterMs }, 'provider circuit opened: calls fail fast')
      else log?.info({ provider, circuit: name }, 'provider circuit state changed')
    })
  }

  /** closed / open / half_open; an open circuit whose delay has passed reports half_open (the next call is the trial). */
  get state (): CircuitStateName {
    return stateName(this.#breaker.state, Date.now() - this.#openedAt >= this.#opts.halfOpenAfterMs)
  }

  /** calls running and queued right now */
  get load (): { running: number, queued: number } {
    return { running: this.#opts.maxConcurrency - this.#bulkhead.executionSlots, queued: this.#opts.maxQueue - this.#bulkhead.queueSlots }
  }

  /** why the provider's list route is refused as misconfigured (its last list call answered 404); null when it answered */
  get configError (): string | null {
    return this.#configError
  }

  /**
   * Runs one vendor call through the breaker and the bulkhead. `method`: the connector method the call belongs to (its
   * own count of failures in a row); a list-route method's 404 is a configuration error.
   */
  async run<T> (call: () => Promise<T>, ctx: ConnectorContext, method = 'call'): Promise<T> {
    const attempt = LIST_ROUTES.has(method) ? async () => await this.#listRoute(call) : call
    if (this.#breaker.state === CircuitState.HalfOpen) throw this.#open() // one trial at a time; the rest fail fast
    if (ctx.signal.aborted) throw new ConnectorError(this.provider, 'timeout', 'the request deadline passed before the call started')
    const fn = async (): Promise<T> => {
      try {
        const value = await attempt()
        this.#streaks.count(method, false)
        return value
      } catch (err) {
        if (trips(err)) this.#streaks.count(method, true)
        throw err
      }
    }
    let onAbort: (() => void) | undefined
    try {
      // cockatiel reaches the bulkhead synchronously, so a free slot now means the call starts now and honours the
      // signal itself; only a call that will wait in the queue needs the race that ends it at its deadline
      // (fn is handed to the policy as it is: a wrapper arrow would add a promise and a microtask per call)
      if (this.#bulkhead.executionSlots > 0) return await (this.#policy.execute(fn) as Promise<T>)
      const aborted = new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(new ConnectorError(this.provider, 'timeout', 'the request deadline passed while waiting for a free slot'))
        ctx.signal.addEventListener('abort', onAbort, { once: true })
      })
      aborted.catch(() => {})
      // cockatiel's bulkhead only reads `aborted` of the signal (when a queued call's turn comes): ours has it
      return await Promise.race([this.#policy.execute(fn, ctx.signal as unknown as AbortSignal) as Promise<T>, aborted])
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) throw this.#open()
      if (err instanceof BulkheadRejectedError) {
        throw new ConnectorError(this.provider, 'unavailable',
          `the gateway is at its limit for ${this.provider} (${this.#opts.maxConcurrency} calls in flight, ${this.#opts.maxQueue} queued)`, { retryAfter: 1, cause: err })
      }
      if (err instanceof TaskCancelledError) {
        throw new ConnectorError(this.provider, 'timeout', 'the request deadline passed while waiting for a free slot', { cause: err })
      }
      throw err
    } finally {
      if (onAbort !== undefined) ctx.signal.removeEventListener('abort', onAbort)
    }
  }

  async #listRoute<T> (call: () => Promise<T>): Promise<T> {
    try {
      const result = await call()
      if (this.#configError !== null) this.#log?.info({ provider: this.provider }, 'provider list route answers again')
      this.#configError = null
      return result
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.kind !== 'not_found') throw err
      const detail = `answered HTTP 404 to its list route: a configuration error (check ${this.provider.toUpperCase()}_BASE_URL)`
      if (this.#configError === null) this.#log?.error({ provider: this.provider, providerStatus: 404 }, `${this.provider} ${detail}; it counts toward the provider's circuit`)
      this.#configError = detail
      throw new ConnectorError(this.provider, 'protocol', detail, { upstreamStatus: 404, cause: err })
    }
  }

  #open (): ConnectorError {
    const left = Math.max(0, this.#openedAt + this.#opts.halfOpenAfterMs - Date.now())
    return new ConnectorError(this.provider, 'unavailable',
      `circuit open after ${this.#opts.failureThreshold} consecutive failures${this.#configError === null ? '' : ` (it ${this.#configError})`}; ` +
        'the gateway fails fast until a trial call succeeds',
      { retryAfter: Math.max(1, Math.ceil(left / 1000)) })
  }
}

function stateName (state: CircuitState, delayPassed: boolean): CircuitStateName {
  switch (state) {
    case CircuitState.Closed: return 'closed'
    case CircuitState.HalfOpen: return 'half_open'
    case CircuitState.Open: return delayPassed ? 'half_open' : 'open'
    case CircuitState.Isolated: return 'open'
  }
}

/** The one port method that stays outside the policy: it only validates and builds, and its 400s must not hide behind an open circuit. */
const LOCAL = new Set<PropertyKey>(['prepareCreate'])
/** The port methods that read a vendor's list route (a 404 there is a configuration error, not "nothing there"). */
const LIST_ROUTES: ReadonlySet<string> = new Set(['listCases', 'listCaseRows', 'listDetections'])

/**
 * The connector with every method run through the provider's policy: a Proxy, so a method a connector gains is
 * guarded without a list to keep. Optional methods stay absent when the connector lacks them (capabilities are read
 * from their presence). The context is always the last argument of a vendor-reaching method.
 */
export function resilientConnector (inner: ProviderConnector, resilience: ProviderResilience): ProviderConnector {
  return guarded(inner, resilience, true)
}

/** `inner` with its methods run through the policy; at the connector's top level its capability objects (CAPABILITY_APIS) too. */
function guarded<T extends object> (inner: T, resilience: ProviderResilience, top: boolean): T {
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(inner, {
    get (target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver)
      if (top && typeof name === 'string' && CAPABILITY_APIS.has(name) && typeof value === 'object' && value !== null) {
        let api = wrapped.get(name)
        if (api === undefined) wrapped.set(name, api = guarded(value, resilience, false))
        return api
      }
      if (typeof value !== 'function') return value
      let fn = wrapped.get(name)
      if (fn === undefined) {
        const method = value as (...a: unknown[]) => Promise<unknown>
        const label = String(name)
        // run() is async: a synchronous throw of the method still reaches the caller as a rejection, so no async
        // wrappers here (each cost a promise and a microtask per vendor call)
        fn = LOCAL.has(name)
          ? method.bind(target)
          : (...args: unknown[]) => resilience.run(() => method.apply(target, args), args[args.length - 1] as ConnectorContext, label)
        wrapped.set(name, fn)
      }
      return fn
    }
  })
}
