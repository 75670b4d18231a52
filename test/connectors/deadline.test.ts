import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { deadlineScope, timedOut } from '../../src/connectors/deadline.js'

describe('deadlineScope', () => {
  it('aborts with a TimeoutError once its deadline passes', async () => {
    const scope = deadlineScope(null, 20)
    expect(scope.signal.aborted).toBe(false)
    expect(scope.deadline).toBeGreaterThan(Date.now())
    await sleep(60)
    expect(scope.signal.aborted).toBe(true)
    expect(timedOut(scope.signal)).toBe(true)
    expect((scope.signal.reason as Error).message).toBe('deadline of 20 ms passed')
  })

  it('aborts with the parent\'s reason when the parent aborts first, and that is not a timeout', () => {
    const parent = new AbortController()
    const scope = deadlineScope(parent.signal, 10_000)
    const reason = new Error('client went away')
    parent.abort(reason)
    expect(scope.signal.aborted).toBe(true)
    expect(scope.signal.reason).toBe(reason)
    expect(timedOut(scope.signal)).toBe(false)
    scope.end()
  })

  it('starts aborted under an aborted parent', () => {
    const parent = new AbortController()
    parent.abort(new Error('gone'))
    const scope = deadlineScope(parent.signal, 10_000)
    expect(scope.signal.aborted).toBe(true)
    expect(timedOut(scope.signal)).toBe(false)
  })

  it('end() disarms the timer and detaches from the parent', async () => {
    const parent = new AbortController()
    const scope = deadlineScope(parent.signal, 20)
    scope.end()
    scope.end() // idempotent
    parent.abort(new Error('late'))
    await sleep(60)
    expect(scope.signal.aborted).toBe(false)
  })
})
