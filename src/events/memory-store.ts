/** The event log in process memory (no Redis): the same rules and retention as the Redis adapter, for one replica. */
import type { Clock } from '../clock.js'
import type { AppendInput, CaseEvent, Event, GatewayEvent, TargetEvent, TimelineEvent } from '../schemas/event.js'
import {
  caseFingerprint, caseOfTargetEvent, compareIds, decide, gatewayEventOf, idTime, isGap, matchesFilter, snapshotOf,
  type Checkpoint, type EventFilter, type EventRead, type EventStore, type ObserveInput, type RetentionOptions, type Snapshot
} from './store.js'

interface Held extends Snapshot { createdAtMs: number, expiresAt: number }

export class MemoryEventStore implements EventStore {
  readonly kind = 'memory' as const
  readonly #log: Event[] = []
  /** append keys recorded, until when they are kept */
  readonly #appended = new Map<string, number>()
  readonly #timelines = new Map<string, TimelineEvent[]>()
  readonly #snapshots = new Map<string, Held>()
  readonly #checkpoints = new Map<string, Checkpoint>()
  readonly #listeners = new Set<(e: Event) => void>()
  #lastMs = 0
  #lastSeq = 0
  #epoch: string | null = null

  readonly clock: Clock
  readonly retention: RetentionOptions

  constructor (clock: Clock, retention: RetentionOptions) {
    this.clock = clock
    this.retention = retention
  }

  #nextId (): string {
    const now = this.clock.now()
    if (now > this.#lastMs) { this.#lastMs = now; this.#lastSeq = 0 } else this.#lastSeq++
    return `${this.#lastMs}-${this.#lastSeq}`
  }

  async observe ({ case: c, via, silentIfNew, gapSince }: ObserveInput): Promise<CaseEvent | null> {
    const now = this.clock.now()
    let prev: Held | undefined = this.#snapshots.get(c.id)
    if (prev !== undefined && prev.expiresAt <= now) { this.#snapshots.delete(c.id); prev = undefined }
    const fp = caseFingerprint(c)
    const outcome = decide(prev, c, fp, silentIfNew)
    if (outcome === null) return null
    const seq = outcome === 'silent' ? 0 : outcome.sequence
    this.#snapshots.set(c.id, { ...snapshotOf(c, seq, now), createdAtMs: Date.parse(c.createdAt), expiresAt: c.terminal ? now + this.retention.timelineRetentionMs : Infinity })
    if (outcome === 'silent') return null
    const event: CaseEvent = {
      id: this.#nextId(),
      type: outcome.type,
      occurredAt: outcome.occurredAt,
      observedAt: new Date(now).toISOString(),
      observedVia: via,
      case: c,
      previous: prev === undefined ? null : { status: prev.status, providerStatus: prev.providerStatus },
      sequence: outcome.sequence,
      epoch: this.#epoch ?? '',
      ...(prev !== undefined && isGap(prev, outcome.type, gapSince) ? { gap: true as const } : {})
    }
    this.#trim(this.#log, now - this.retention.retentionMs)
    this.#log.push(event)
    const timeline = this.#timelines.get(c.id) ?? []
    this.#trim(timeline, now - this.retention.timelineRetentionMs)
    timeline.push(event)
    this.#timelines.set(c.id, timeline)
    for (const listener of this.#listeners) listener(event)
    return event
  }

  async readEpoch (): Promise<string | null> { return this.#epoch }
  async writeEpoch (epoch: string): Promise<void> { this.#epoch = epoch }

  async append (input: AppendInput): Promise<GatewayEvent | null> {
    const now = this.clock.now()
    for (const [key, until] of this.#appended) if (until <= now) this.#appended.delete(key)
    if (this.#appended.has(input.key)) return null
    this.#appended.set(input.key, now + this.retention.retentionMs)
    const event = gatewayEventOf(input, this.#nextId(), new Date(now).toISOString())
    this.#trim(this.#log, now - this.retention.retentionMs)
    this.#log.push(event)
    const about = caseOfTargetEvent(event)
    if (about !== null) {
      const timeline = this.#timelines.get(about.caseId) ?? []
      this.#trim(timeline, now - this.retention.timelineRetentionMs)
      timeline.push(event as TargetEvent)
      this.#timelines.set(about.caseId, timeline)
    }
    for (const listener of this.#listeners) listener(event)
    return event
  }

  #trim (list: Event[], minMs: number): void {
    let drop = 0
    while (drop < list.length && idTime((list[drop] as Event).id) < minMs) drop++
    if (drop > 0) list.splice(0, drop)
  }

  #page<E extends Event> (list: E[], after: string | null, limit: number, filter: EventFilter, scanLimit: number): EventRead<E> {
    let start = 0
    if (after !== null) {
      // binary search: the first event after `after`
      let lo = 0
      let hi = list.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (compareIds((list[mid] as E).id, after) <= 0) lo = mid + 1
        else hi = mid
      }
      start = lo
    }
    const items: E[] = []
    let next = after
    for (let i = start; i < list.length && i - start < scanLimit && items.length < limit; i++) {
      const e = list[i] as E
      next = e.id
      if (matchesFilter(e, filter)) items.push(e)
    }
    return { items, next }
  }

  async read (after: string | null, limit: number, filter: EventFilter, scanLimit = Math.max(1000, limit * 20)): Promise<EventRead> {
    if (filter.caseId !== undefined) return this.#page(this.#timelines.get(filter.caseId) ?? [], after, limit, filter, scanLimit)
    return this.#page(this.#log, after, limit, filter, scanLimit)
  }

  async oldestId (): Promise<string | null> {
    return this.#log[0]?.id ?? null
  }

  async newestId (caseId?: string): Promise<string | null> {
    return (caseId === undefined ? this.#log : this.#timelines.get(caseId))?.at(-1)?.id ?? null
  }

  async timeline (caseId: string, after: string | null, limit: number): Promise<EventRead<TimelineEvent>> {
    return this.#page(this.#timelines.get(caseId) ?? [], after, limit, {}, Number.MAX_SAFE_INTEGER)
  }

  async subscribe (listener: (event: Event) => void): Promise<() => void> {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  async openCasesCreatedBefore (beforeMs: number, offset: number, limit: number): Promise<string[]> {
    return [...this.#snapshots.entries()]
      .filter(([, s]) => !s.terminal && s.createdAtMs < beforeMs)
      .sort((a, b) => a[1].createdAtMs - b[1].createdAtMs)
      .slice(offset, offset + limit)
      .map(([id]) => id)
  }

  async getCheckpoint (provider: string): Promise<Checkpoint | null> {
    return this.#checkpoints.get(provider) ?? null
  }

  async setCheckpoint (provider: string, checkpoint: Checkpoint): Promise<void> {
    this.#checkpoints.set(provider, checkpoint)
  }

  async snapshotCounts (): Promise<Record<string, number>> {
    const now = this.clock.now()
    const counts: Record<string, number> = {}
    for (const [id, held] of this.#snapshots) {
      // a terminal snapshot past its retention is gone, as on Redis
      if (held.expiresAt <= now) {
        this.#snapshots.delete(id)
        continue
      }
      const provider = id.slice(0, id.indexOf(':'))
      counts[provider] = (counts[provider] ?? 0) + 1
    }
    return counts
  }

  async health (): Promise<string | null> { return null }
  async close (): Promise<void> { this.#listeners.clear() }
}
