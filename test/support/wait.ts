/**
 * Waiting on a condition instead of a fixed sleep: polls `probe` until it gives a value (anything but null,
 * undefined or false) and returns it; past `timeoutMs` it throws naming what it waited for. The bound is only a
 * safety net: a test never asserts how long the wait took.
 */
export async function waitFor<T> (what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  opts: { timeoutMs?: number, stepMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000)
  for (;;) {
    const value = await probe()
    if (value !== null && value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, opts.stepMs ?? 20))
  }
}
