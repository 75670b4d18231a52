/** Exact percentiles over sorted durations, shared by the takedown and the verification analytics. */

/** the value at rank p·(n−1) of the sorted values, linear between the two nearest ranks. */
export function percentile (sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null
  const pos = p * (sorted.length - 1)
  const lo = Math.floor(pos)
  const a = sorted[lo]!
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!
  // times are whole milliseconds: a figure finer than that is floating-point noise
  return Math.round((a + (b - a) * (pos - lo)) * 1000) / 1000
}
