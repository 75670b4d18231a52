/**
 * Newest-first ordering of cases across providers: createdAt descending, ties broken by id ascending.
 * `compareKeys(a, b) < 0` means a comes first.
 */
export type SortKey = readonly [createdAtMs: number, id: string]

export function compareKeys (a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return b[0] - a[0]
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0
}

/**
 * Parsed creation times. A listing dates every vendor item it reads (250 on a five-vendor page) and the same cases come
 * back on every read of a page; a Map lookup costs about a third of `Date.parse` on an ISO 8601 string. Bounded: the
 * whole map is dropped when full (a walk over a hundred thousand cases only pays the parse again).
 */
const TIMES = new Map<string, number>()
const TIMES_MAX = 10_000

/** `Date.parse(createdAt)`, remembered */
export function timeOf (createdAt: string): number {
  let t = TIMES.get(createdAt)
  if (t === undefined) {
    t = Date.parse(createdAt)
    if (TIMES.size >= TIMES_MAX) TIMES.clear()
    TIMES.set(createdAt, t)
  }
  return t
}

export function keyOf (item: { createdAt: string, id: string }): SortKey {
  return [timeOf(item.createdAt), item.id]
}

/**
 * Sorts `items` in place newest first by `timeOf` (epoch ms; NaN sorts last), ties by `tie` then original order,
 * reading each item's time once. Input already in that order (what the vendors send) costs one pass.
 * Returns true when it had to reorder.
 */
export function sortNewestFirst<T> (items: T[], timeOf: (item: T) => number, tie?: (a: T, b: T) => number): boolean {
  const times = items.map(item => { const t = timeOf(item); return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t })
  let sorted = true
  for (let i = 1; i < items.length && sorted; i++) {
    const before = times[i - 1]!
    const at = times[i]!
    if (before < at || (before === at && tie !== undefined && tie(items[i - 1]!, items[i]!) > 0)) sorted = false
  }
  if (sorted) return false
  const order = items.map((item, i) => ({ item, t: times[i]! }))
  order.sort((a, b) => (a.t === b.t ? 0 : b.t - a.t) || (tie === undefined ? 0 : tie(a.item, b.item)))
  for (let i = 0; i < order.length; i++) items[i] = order[i]!.item
  return true
}

/** Tie-break by `id` ascending. */
export const byId = (a: { id: string }, b: { id: string }): number => a.id < b.id ? -1 : a.id > b.id ? 1 : 0
