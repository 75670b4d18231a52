/** Timestamps in the canonical model: RFC 3339, UTC, milliseconds (`2026-11-23T14:05:00.000Z`). */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const NAIVE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/

/**
 * A vendor timestamp in the canonical form; a timestamp without a zone is read as UTC; null when absent or
 * unparseable. Already-canonical strings are returned as they are (most vendor values: the hot path of a listing).
 */
export function toRfc3339 (value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null
  if (CANONICAL.test(value)) return value
  let s = value.trim()
  if (NAIVE.test(s)) s += 'Z'
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? null : new Date(ms).toISOString()
}

/**
 * Ajv's `date-time` format with one more rule: the instant must exist for JavaScript. RFC 3339 admits leap seconds
 * (`23:59:60Z`) that `Date` cannot represent; they are refused at validation instead of failing later.
 */
export function representableDateTime (base: (s: string) => boolean): (s: string) => boolean {
  return (s: string) => base(s) && !Number.isNaN(Date.parse(s))
}
