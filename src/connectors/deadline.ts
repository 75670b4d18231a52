/**
 * Cancellation for vendor calls: a token that says a call should stop (deadline passed, client gone), and one
 * deadline scope per vendor operation.
 *
 * Why not AbortController/AbortSignal: on Node 20 they are a measurable cost on the read path (profile
 * of GET /v1/cases/{id}: createAbortSignal and the EventTarget listener bookkeeping at ~5 % of the gateway's CPU with
 * the request's signal and one per call), and in a micro-benchmark bare AbortControllers survive young-generation
 * GCs where EventTarget and EventEmitter objects do not. `AbortSignal.any([parent, AbortSignal.timeout(ms)])` was
 * worse still: timers armed for the whole timeout after the call ended and dependants kept on the parent
 * (nodejs/node#54614, #55351).
 * The token below has the shape undici (and the code here) needs: `aborted`, `reason`, add/removeEventListener.
 */

/** What a vendor call needs of a cancellation signal. An AbortSignal has this shape too (tests pass real ones). */
export interface CancelSignal {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener: (type: 'abort', listener: () => void, options?: { once?: boolean }) => void
  removeEventListener: (type: 'abort', listener: () => void) => void
}

/** A plain-object cancellation token: listeners run once, on the first abort. */
export class Cancellation implements CancelSignal {
  aborted = false
  reason: unknown = undefined
  #listeners: Array<() => void> | null = null

  addEventListener (_type: 'abort', listener: () => void): void {
    if (!this.aborted) (this.#listeners ??= []).push(listener)
  }

  removeEventListener (_type: 'abort', listener: () => void): void {
    const i = this.#listeners?.indexOf(listener) ?? -1
    if (i >= 0) this.#listeners!.splice(i, 1)
  }

  abort (reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.#listeners
    this.#listeners = null
    if (listeners !== null) for (const l of listeners) l()
  }
}

export interface DeadlineScope {
  readonly signal: CancelSignal
  /** epoch ms */
  readonly deadline: number
  /** clears the timer and the parent listener; idempotent */
  end: () => void
}

/**
 * Aborted when its deadline passes (reason: a `TimeoutError` DOMException, like `AbortSignal.timeout`) or when the
 * parent aborts (the parent's reason is kept); `end()` releases the timer and the parent listener.
 */
export function deadlineScope (parent: CancelSignal | null, ms: number): DeadlineScope {
  const c = new Cancellation()
  const deadline = Date.now() + ms
  if (parent?.aborted === true) {
    c.abort(parent.reason)
    return { signal: c, deadline, end: () => {} }
  }
  const timer = setTimeout(() => { c.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError')) }, ms)
  const onAbort = (): void => { c.abort(parent?.reason) }
  parent?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: c,
    deadline,
    end: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onAbort)
    }
  }
}

/** True when a signal was aborted by its deadline rather than by the caller. */
export function timedOut (signal: CancelSignal): boolean {
  return signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError'
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export async function sleep (ms: number, signal: CancelSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
