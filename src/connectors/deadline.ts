/**
 * One cancellation scope per vendor operation: aborted when its deadline passes (reason: a `TimeoutError`
 * DOMException, like `AbortSignal.timeout`) or when the parent signal aborts (client gone, shutdown; the parent's
 * reason is kept), and released by `end()` as soon as the operation is over.
 *
 * Why not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 that costs two signals, a weak-ref
 * registration and a timer that stays armed for the whole timeout after the call has ended (10 s of retained
 * signals per call at thousands of calls per second), and `any` keeps dependants on the parent until GC
 * (nodejs/node#54614, #55351). The bench profile showed those signals at ~9 % of the gateway's CPU on case reads.
 */
export interface DeadlineScope {
  readonly signal: AbortSignal
  /** epoch ms */
  readonly deadline: number
  /** clears the timer and the parent listener; idempotent */
  end: () => void
}

export function deadlineScope (parent: AbortSignal | null, ms: number): DeadlineScope {
  const ac = new AbortController()
  const deadline = Date.now() + ms
  if (parent?.aborted === true) {
    ac.abort(parent.reason)
    return { signal: ac.signal, deadline, end: () => {} }
  }
  const timer = setTimeout(() => { ac.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError')) }, ms)
  const onAbort = (): void => { ac.abort(parent?.reason) }
  parent?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: ac.signal,
    deadline,
    end: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onAbort)
    }
  }
}

/** True when a signal was aborted by its deadline rather than by the caller. */
export function timedOut (signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError'
}
