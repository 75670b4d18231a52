/**
 * A case event log for webhook tests: the read/subscribe seam the fan-out uses, with ids `<ms>-<n>` like the
 * Redis Stream log. Tests append events whose cases vary in provider, status and target type.
 */
import type { WebhookEventSource } from '../../src/webhooks/fanout.js'
import type { WebhookEvent } from '../../src/webhooks/service.js'

export interface TestCaseEvent extends WebhookEvent {
  type: 'case.created' | 'case.status_changed' | 'case.updated' | 'case.reopened'
  case: { id: string, provider: string, status: string, terminal: boolean, target: { type: string, value: string } }
  sequence: number
}

export class TestEventLog implements WebhookEventSource {
  readonly events: TestCaseEvent[] = []
  readonly #listeners = new Set<(e: WebhookEvent) => void>()
  #n = 0

  append (e: Omit<TestCaseEvent, 'id' | 'observedAt'>, at = Date.now()): TestCaseEvent {
    const event = { ...e, id: `${at}-${this.#n++}`, observedAt: new Date(at).toISOString() }
    this.events.push(event)
    for (const l of this.#listeners) l(event)
    return event
  }

  async read (after: string | null, limit: number): Promise<{ items: WebhookEvent[], next: string | null }> {
    const cmp = (a: string, b: string): number => {
      const [am = 0, an = 0] = a.split('-').map(Number)
      const [bm = 0, bn = 0] = b.split('-').map(Number)
      return am !== bm ? am - bm : an - bn
    }
    const items = this.events.filter(e => after === null || cmp(e.id, after) > 0).slice(0, limit)
    return { items, next: items.at(-1)?.id ?? after }
  }

  subscribe (listener: (e: WebhookEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }
}

const PROVIDERS = ['bforeai', 'phishfort', 'cloudflare'] as const
const STATUSES = [['received', false], ['in_review', false], ['in_progress', false], ['mitigated', false], ['taken_down', true], ['failed', true], ['closed', true]] as const
const TARGETS = ['url', 'domain', 'email', 'social'] as const
const TYPES = ['case.created', 'case.status_changed', 'case.updated', 'case.reopened'] as const

/** The i-th event of a varied, deterministic series. */
export function variedEvent (i: number): Omit<TestCaseEvent, 'id' | 'observedAt'> {
  const provider = PROVIDERS[i % 3]!
  const [status, terminal] = STATUSES[(i * 7) % STATUSES.length]!
  const target = TARGETS[(i * 5) % TARGETS.length]!
  return {
    type: TYPES[(i * 3) % TYPES.length]!,
    case: { id: `${provider}:case-${i}`, provider, status, terminal, target: { type: target, value: `https://phish-${i}.example` } },
    sequence: 1
  }
}
