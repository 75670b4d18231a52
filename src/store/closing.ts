/**
 * Close-time deadlines: a Redis that died or froze (or a job stuck on one) must not hold a shutdown. Each step of a
 * close gets a deadline; at it the connection is dropped and the work still pending is abandoned, and named in the log.
 */
import type { Cluster, Redis } from 'ioredis'

/** told each thing a close gave up on (the app logs them once it is closed) */
export type Abandoned = (what: string) => void

/** how long one close step may wait (a clean QUIT to a live Redis takes a round trip) */
export const CLOSE_DEADLINE_MS = 2000

/** Resolves true once `work` settles (fulfilled or rejected), false if it has not after `ms`. */
export async function settleWithin (work: Promise<unknown>, ms = CLOSE_DEADLINE_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<false>(resolve => { timer = setTimeout(() => { resolve(false) }, ms) })
  try {
    return await Promise.race([work.then(() => true, () => true), deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * QUIT raced with the deadline, then the socket dropped either way (a command pending on a dead or frozen Redis is
 * failed, not waited on). Resolves false when QUIT did not finish in time.
 */
export async function closeRedisClient (client: Redis | Cluster, ms = CLOSE_DEADLINE_MS): Promise<boolean> {
  if (client.status === 'end') return true
  const quit = settleWithin(client.quit(), ms)
  const clean = await quit
  client.disconnect()
  return clean
}
