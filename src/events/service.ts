/**
 * The events use-cases: the one observe step every source of truth goes through (watcher polls, vendor webhooks,
 * single-case reads, the gateway's own writes), the feed and the timeline with their filters, retention (410) and
 * store outages (503). No Fastify request or reply in here.
 */
import type { Clock } from '../clock.js'
import { parseCaseId } from '../domain/case-id.js'
import { GatewayError, isStoreUnreachable } from '../domain/problems.js'
import type { Logger } from '../logger.js'
import { CaseSchema, type Case } from '../schemas/case.js'
import { EVENT_TYPES, type AppendInput, type CaseEvent, type Event, type EventListQuery, type GatewayEvent, type EventPage, type EventType, type ObservedVia, type Timeline } from '../schemas/event.js'
import { isProviderId, PROVIDER_IDS } from '../schemas/provider.js'
import type { EventMetrics } from './metrics.js'
import { compareIds, idTime, type EventFilter, type EventRead, type EventStore, type RetentionOptions } from './store.js'

const CASE_KEYS = Object.keys(CaseSchema.properties) as Array<keyof Case>

/** The canonical case of a detail view (history, mitigations, raw... left out): what an event carries. */
export function caseOf (detail: Case): Case {
  const out = {} as Record<string, unknown>
  for (const k of CASE_KEYS) out[k] = detail[k]
  return out as unknown as Case
}

/** the store, with every rejected call reported to `failed` first */
function noticingOutages (store: EventStore, failed: (err: unknown) => void): EventStore {
  return new Proxy(store, {
    get (target, prop) {
      const value: unknown = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args)
        return out instanceof Promise ? out.catch((err: unknown) => { failed(err); throw err }) : out
      }
    }
  })
}

function csv (value: string): string[] {
  return [...new Set(value.split(',').map(s => s.trim()).filter(s => s !== ''))]
}

export class EventService {
  readonly store: EventStore
  readonly #clock: Clock
  readonly #retention: RetentionOptions
  readonly metrics: EventMetrics | null
  readonly #log: Logger
  readonly #owns: (id: string) => boolean
  readonly #recorded = new Set<(event: CaseEvent) => Promise<unknown>>()
  readonly #appended = new Set<(event: GatewayEvent) => Promise<unknown>>()
  readonly #gapWindowMs: number
  /** since when the store has not taken an observe step (unreachable), null while it does */
  #unrecordedSince: number | null = null
  /** after the store came back: status changes of cases last recorded before `since` are flagged `gap` until `until` */
  #gap: { since: number, until: number } | null = null

  constructor (store: EventStore, opts: {
    clock: Clock
    retention: RetentionOptions
    metrics: EventMetrics | null
    log: Logger
    /** false for an id no provider can own (unknown prefix, or a native part not of its provider's shape) */
    ownsCaseId?: (id: string) => boolean
    gapWindowMs?: number
  }) {
    // every store call a caller makes through the service (the watcher reads its checkpoints here) notes an outage
    this.store = noticingOutages(store, err => { if (isStoreUnreachable(err)) this.#unrecordedSince ??= this.#clock.now() })
    this.#owns = opts.ownsCaseId ?? (id => parseCaseId(id) !== null)
    // long enough for the watcher to read every case once after the store is back (two of its slowest ticks)
    this.#gapWindowMs = opts.gapWindowMs ?? 120_000
    this.#clock = opts.clock
    this.#retention = opts.retention
    this.metrics = opts.metrics
    this.#log = opts.log
  }

  /** The compare-and-record step. Throws when the store fails (a watcher must not advance then). */
  async observe (c: Case, via: ObservedVia, silentIfNew: boolean): Promise<CaseEvent | null> {
    const now = this.#clock.now()
    const gapSince = this.#unrecordedSince ?? (this.#gap !== null && now < this.#gap.until ? this.#gap.since : null)
    const event = await this.store.observe({ case: caseOf(c), via, silentIfNew, gapSince })
    if (this.#unrecordedSince !== null) {
      this.#gap = { since: this.#unrecordedSince, until: now + this.#gapWindowMs }
      this.#unrecordedSince = null
    }
    if (event !== null) {
      this.metrics?.events.inc({ type: event.type, provider: event.case.provider })
      for (const listener of this.#recorded) {
        listener(event).catch((err: unknown) => {
          this.#log.warn({ eventId: event.id, caseId: event.case.id, err: (err as Error).message }, 'a recorded-event listener failed')
        })
      }
    }
    return event
  }

  /**
   * Records an event of the gateway itself (batch.completed, endpoint.disabled) once per `input.key`: null when another
   * replica (or an earlier try) recorded it. Throws when the store fails.
   */
  async append (input: AppendInput): Promise<GatewayEvent | null> {
    const event = await this.store.append(input)
    if (event !== null) {
      this.metrics?.events.inc({ type: event.type, provider: '' })
      for (const listener of this.#appended) {
        listener(event).catch((err: unknown) => { this.#log.warn({ eventId: event.id, err: (err as Error).message }, 'an appended-event listener failed') })
      }
    }
    return event
  }

  /** Called once per event of the gateway itself, in the replica whose append recorded it (a verified takedown ends a service-level clock). */
  onAppended (listener: (event: GatewayEvent) => Promise<unknown>): void {
    this.#appended.add(listener)
  }

  /**
   * Called once per case event, in the replica whose observe step recorded it (two replicas seeing the same change record
   * one event, so one listener call). For work that must happen once per change (takedown milestones).
   */
  onRecorded (listener: (event: CaseEvent) => Promise<unknown>): void {
    this.#recorded.add(listener)
  }

  /** For reads and writes: the answer to the client never waits for, or fails with, the event store. */
  observeQuietly (c: Case, via: ObservedVia, silentIfNew: boolean): void {
    this.observe(c, via, silentIfNew).catch((err: unknown) => { this.observeFailed(c, via, err) })
  }

  /** the warning of an observe step that failed where the answer does not wait for it */
  observeFailed (c: Case, via: ObservedVia, err: unknown): void {
    this.#log.warn({ caseId: c.id, via, err: (err as Error).message }, 'event store did not take an observed case; the watcher will catch the change')
  }

  filter (q: { types?: string | undefined, provider?: string | undefined, caseId?: string | undefined, terminal?: boolean | undefined }): EventFilter {
    const f: EventFilter = {}
    if (q.types !== undefined) {
      const names = csv(q.types)
      const bad = names.filter(n => !(EVENT_TYPES as readonly string[]).includes(n))
      if (bad.length > 0 || names.length === 0) {
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown event type ${bad.join(', ') || '(empty)'}; allowed: ${EVENT_TYPES.join(', ')}`, {
          errors: [{ path: '/types', message: `must be a comma-separated list of ${EVENT_TYPES.join(', ')}` }], allowed: [...EVENT_TYPES]
        })
      }
      f.types = new Set(names as EventType[])
    }
    if (q.provider !== undefined) {
      const names = csv(q.provider)
      const bad = names.filter(n => !isProviderId(n))
      if (bad.length > 0 || names.length === 0) {
        throw new GatewayError('GW_ERR_VALIDATION', `Unknown provider ${bad.join(', ') || '(empty)'}`, {
          errors: [{ path: '/provider', message: `must be a comma-separated list of ${PROVIDER_IDS.join(', ')}` }], allowed: [...PROVIDER_IDS]
        })
      }
      f.providers = new Set(names)
    }
    if (q.caseId !== undefined) {
      if (!this.#owns(q.caseId)) {
        throw new GatewayError('GW_ERR_VALIDATION', `No provider can own case id ${q.caseId}: case ids look like <provider>:<id>, as GET /v1/cases gives them`, {
          errors: [{ path: '/caseId', message: 'is not a case id: <provider>:<id>' }]
        })
      }
      f.caseId = q.caseId
    }
    if (q.terminal !== undefined) f.terminal = q.terminal
    return f
  }

  /**
   * 410 for a position past the retention that the log no longer holds (events after it may be trimmed away): the
   * client must re-list cases, then follow from a fresh id. An old id the log still reaches (trimming is lazy) is fine.
   */
  async checkAfter (after: string | null): Promise<void> {
    if (after === null || idTime(after) >= this.#clock.now() - this.#retention.retentionMs) return
    const oldest = await this.#available(async () => await this.store.oldestId())
    if (oldest === null || compareIds(after, oldest) < 0) {
      throw new GatewayError('GW_ERR_EVENTS_GONE',
        `Event ${after} is older than the ${Math.round(this.#retention.retentionMs / 86_400_000)}-day retention: re-list cases with GET /v1/cases, then follow GET /v1/events without \`after\``)
    }
  }

  async list (q: EventListQuery): Promise<EventPage> {
    const filter = this.filter(q)
    const after = q.after ?? null
    await this.checkAfter(after)
    return await this.#available(async () => await this.store.read(after, q.limit, filter))
  }

  /**
   * The feed from `after` up to the newest event at the call, oldest first, `pageSize` events at a time: what the
   * events export streams. Events recorded meanwhile are left for the next export, so a slow reader's export ends.
   * Bad filters (400), an `after` past the retention (410) and a store that does not answer (503) fail the call
   * itself; a store failing later fails the iteration.
   */
  async walk (q: Omit<EventListQuery, 'limit'>, pageSize = 500): Promise<AsyncIterable<Event[]>> {
    const filter = this.filter(q)
    let after = q.after ?? null
    await this.checkAfter(after)
    const newest = await this.#available(async () => await this.store.newestId(filter.caseId))
    const read = async (): Promise<EventRead> => await this.store.read(after, pageSize, filter)
    const first = newest === null || (after !== null && compareIds(after, newest) >= 0) ? null : await this.#available(read)
    return (async function * () {
      for (let page = first; page !== null; page = await read()) {
        const items = page.items.filter(e => compareIds(e.id, newest as string) <= 0)
        if (items.length > 0) yield items
        if (page.next === null || page.next === after || compareIds(page.next, newest as string) >= 0) return
        after = page.next
      }
    })()
  }

  async timeline (caseId: string, after: string | null, limit: number): Promise<Timeline> {
    if (!this.#owns(caseId)) throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `No case ${caseId}: case ids look like <provider>:<id>`)
    const page = await this.#available(async () => await this.store.timeline(caseId, after, limit))
    return { caseId, items: page.items, next: page.next }
  }

  /** A store failure on an event route is a 503 that says so; the case API is not affected. */
  async #available<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof GatewayError) throw err
      this.#log.warn({ err: (err as Error).message }, 'event store unavailable')
      throw new GatewayError('GW_ERR_EVENTS_UNAVAILABLE', 'The event store is unavailable; the case API keeps working. Retry shortly: nothing recorded is lost.', { retryAfter: 5, cause: err })
    }
  }

  /**
   * the store's shared tail; 503 when the store does not answer. The tail may already run for another subscriber (an
   * SSE client, the webhook fan-out) and then subscribing sends no command: one read proves the store answers now.
   */
  async subscribe (listener: (event: Event) => void): Promise<() => void> {
    return await this.#available(async () => {
      await this.store.oldestId()
      return await this.store.subscribe(listener)
    })
  }

  async health (): Promise<string | null> { return await this.store.health() }
}
