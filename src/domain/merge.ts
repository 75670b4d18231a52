/**
 * Newest-first ordering of cases across providers: createdAt descending, ties broken by id ascending.
 * `compareKeys(a, b) < 0` means a comes first.
 */
export type SortKey = readonly [createdAtMs: number, id: string]

export function compareKeys (a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return b[0] - a[0]
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0
}

export function keyOf (item: { createdAt: string, id: string }): SortKey {
  return [Date.parse(item.createdAt), item.id]
}
