/**
 * A case's history from two sources: what the vendor reports (`source: 'provider'`) and what the gateway recorded
 * itself (`source: 'gateway'`: its writes, the status changes it saw), for vendors that keep no history (BforeAI shows
 * only the current state, so a cancel replaces the earlier entry). Pure: the caller brings both lists.
 */
import type { HistoryEntry } from '../schemas/case.js'

/**
 * Both lists in one, oldest first. Equal timestamps keep the provider's entry first, and each list its own order. A
 * gateway entry that repeats a provider entry (same instant, same status) is dropped: the vendor's word is kept.
 * Entries without a readable `at` go last, in their order.
 */
export function mergeHistory (provider: readonly HistoryEntry[], gateway: readonly HistoryEntry[]): HistoryEntry[] {
  const seen = new Set(provider.map(e => `${Date.parse(e.at)}|${e.status ?? ''}`))
  const fromGateway = gateway.filter(e => !seen.has(`${Date.parse(e.at)}|${e.status ?? ''}`))
  const all = [...provider.map(e => ({ e, side: 0 })), ...fromGateway.map(e => ({ e, side: 1 }))]
    .map((x, index) => ({ ...x, index, ms: Date.parse(x.e.at) }))
  return all
    .sort((a, b) => (Number.isNaN(a.ms) ? Infinity : a.ms) - (Number.isNaN(b.ms) ? Infinity : b.ms) || a.side - b.side || a.index - b.index)
    .map(x => x.e)
}
