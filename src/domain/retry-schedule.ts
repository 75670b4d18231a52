/**
 * The retry schedule as data. Default: the one the Standard Webhooks specification recommends ("Retry schedule":
 * immediately, 5 seconds, 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours, 10 hours); each entry is the wait
 * before that attempt, so the default gives 8 attempts over about 27.6 hours. WEBHOOK_RETRY_SCHEDULE replaces it.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]

/** A Retry-After longer than this is not waited for (a receiver cannot park a message for a week). */
export const MAX_RETRY_AFTER_MS = 86_400_000

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `0,5s,5m,30m,2h,5h,10h,10h` → milliseconds; a bare number is milliseconds. Null when malformed. */
export function parseSchedule (raw: string): number[] | null {
  const out: number[] = []
  for (const part of raw.split(',').map(s => s.trim())) {
    const m = /^(\d+)(ms|s|m|h)?$/.exec(part)
    if (m?.[1] === undefined) return null
    out.push(Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1))
  }
  return out.length === 0 ? null : out
}

export interface RetryPolicy {
  scheduleMs: readonly number[]
  /** 0–1: each wait is stretched by up to this share, at random, so receivers coming back are not hit in lockstep */
  jitter: number
}

/**
 * The wait before attempt `next` (2 = the first retry), or null when the schedule is used up. A Retry-After the
 * receiver sent (ms) is honoured when it asks for more than the schedule, up to MAX_RETRY_AFTER_MS.
 */
export function retryDelayMs (policy: RetryPolicy, next: number, retryAfterMs: number | null, random: () => number = Math.random): number | null {
  const base = policy.scheduleMs[next - 1]
  if (base === undefined) return null
  const jittered = Math.round(base * (1 + policy.jitter * random()))
  return retryAfterMs === null ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS))
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date; ms from now, or null. */
export function parseRetryAfter (value: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v.trim() === '') return null
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}
