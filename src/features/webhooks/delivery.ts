/**
 * Outbound webhooks: delivery (the endpoints API is endpoints.ts). Delivery of one message to one endpoint is a
 * job on the delivery queue (`deliver`): one HTTP attempt, recorded; on failure the next attempt is a new delayed job
 * (the retry schedule is ours, as data, not the queue's backoff). A job that dies with its replica is run again by
 * the queue (at least once); `markDelivered` keeps a repeated job from sending a delivered message again.
 */
import { randomBytes } from 'node:crypto'
import type { Agent } from 'undici'
import type { Clock } from '../../clock.js'
import type { AppendInput } from '../../schemas/event.js'
import { GatewayError } from '../../domain/problems.js'
import type { Logger } from '../../logger.js'
import { attempt, webhookAgent, type AttemptResult } from './attempt.js'
import { matches, type FilterableEvent } from './filter.js'
import { retryDelayMs, type RetryPolicy } from '../../domain/retry-schedule.js'
import { SecretBox, signatureHeaders } from '../../domain/signing.js'
import type { GuardOptions } from '../../connectors/ssrf.js'
import { settleWithin, type Abandoned } from '../../store/closing.js'
import type { DeliveryAttempt, EndpointRecord, WebhookStore } from './store.js'

export interface DeliverySettings {
  encryptionKey: Buffer
  allowPrivate: boolean
  retry: RetryPolicy
  /** an endpoint failing without a success for this long is disabled */
  disableAfterMs: number
  timeoutMs: number
  maxResponseBytes: number
  /** deliveries to one endpoint in flight at once, per replica */
  endpointConcurrency: number
  /** how long a message body is kept for retries and recovery */
  messageTtlMs: number
  /** names of the admin keys: their endpoints also receive other keys' batch.completed and endpoint.disabled */
  admins: ReadonlySet<string>
}

/** The event log as the service writes to it (the events service satisfies it). */
export interface EventAppender {
  append: (input: AppendInput) => Promise<unknown>
}

/** The delivery queue as the service needs it (the jobs port's `add` on the webhook queue). */
export interface DeliveryQueue {
  add: (job: DeliveryJob, opts: { jobId: string, delayMs?: number }) => Promise<void>
}

export interface DeliveryJob { endpointId: string, eventId: string, eventType: string, attempt: number }

/** An event as the event log records it (a case event, or one of the gateway itself); only what delivery needs is typed here. */
export interface WebhookEvent extends FilterableEvent {
  id: string
  observedAt: string
}

export interface DeliveryListener {
  /** one attempt done (metrics) */
  attempted?: (outcome: DeliveryAttempt['outcome'], seconds: number) => void
  /** an endpoint was disabled; `reason` says why */
  disabled?: (ep: EndpointRecord, reason: string) => void
}

const iso = (ms: number): string => new Date(ms).toISOString()
/** job ids: letters, digits, `-` `_` `.` (the queue reserves `:`) */
const jobPart = (s: string): string => s.replace(/[^\w.-]/g, '_')
export const deliveryJobId = (endpointId: string, eventId: string, n: number): string => `wh.${jobPart(endpointId)}.${jobPart(eventId)}.${n}`

/** the error of an attempt this replica could not sign */
const UNDECRYPTABLE = 'not sent: the endpoint secret cannot be decrypted with this replica\'s WEBHOOK_ENCRYPTION_KEY'

export class WebhookDelivery {
  readonly #box: SecretBox
  readonly agent: Agent
  readonly #inFlight = new Map<string, number>()
  /** endpoints whose secret this process could not decrypt: logged once each, not once per attempt */
  readonly #undecryptable = new Set<string>()
  #queue: DeliveryQueue | null = null
  #events: EventAppender | null = null

  constructor (
    private readonly store: WebhookStore,
    private readonly settings: DeliverySettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly listener: DeliveryListener = {},
    guard: Pick<GuardOptions, 'lookup'> = {}
  ) {
    this.#box = new SecretBox(settings.encryptionKey)
    this.agent = webhookAgent({ ...guard, allowPrivate: settings.allowPrivate, timeoutMs: settings.timeoutMs, maxResponseBytes: settings.maxResponseBytes, connectionsPerOrigin: settings.endpointConcurrency })
  }

  /** the queue retries and recoveries go to; set once the jobs runner exists */
  useQueue (queue: DeliveryQueue): void { this.#queue = queue }

  /** the event log endpoint.disabled is recorded in (the fan-out from the log delivers it) */
  useEventLog (events: EventAppender): void { this.#events = events }

  /** The secrets that sign now and this replica can decrypt, current first (a rotated-in secret signs without the lost one). */
  #signingSecrets (ep: EndpointRecord): string[] {
    const now = this.clock.now()
    return ep.secrets.filter(s => s.expiresAt === null || Date.parse(s.expiresAt) > now).flatMap(s => {
      try {
        return [this.#box.open(s.sealed, ep.id)]
      } catch {
        return []
      }
    })
  }

  async #send (ep: EndpointRecord, eventId: string, body: string): Promise<AttemptResult> {
    const secrets = this.#signingSecrets(ep)
    if (secrets.length === 0) {
      // nothing is sent unsigned: the attempt fails (and is retried on schedule) until the replicas agree on the key
      if (!this.#undecryptable.has(ep.id)) {
        this.#undecryptable.add(ep.id)
        this.log.error({ endpointId: ep.id }, 'cannot decrypt a webhook endpoint secret: WEBHOOK_ENCRYPTION_KEY differs from the key it was sealed with (logged once per endpoint)')
      }
      return { statusCode: null, durationMs: 0, error: UNDECRYPTABLE, retryAfterMs: null, responseExcerpt: '' }
    }
    this.#undecryptable.delete(ep.id)
    const headers = signatureHeaders(eventId, Math.floor(this.clock.now() / 1000), body, secrets)
    return await attempt(this.agent, ep.url, headers, body, { timeoutMs: this.settings.timeoutMs, maxResponseBytes: this.settings.maxResponseBytes, now: () => this.clock.now() })
  }

  /** POST …/test: a `webhook.test` message, sent now (not queued), its attempt recorded and returned. */
  async test (ep: EndpointRecord): Promise<DeliveryAttempt> {
    const eventId = `test_${randomBytes(9).toString('base64url')}`
    const now = this.clock.now()
    const body = JSON.stringify({ type: 'webhook.test', timestamp: iso(now), data: { endpointId: ep.id, message: 'a test delivery from takedown-gateway' } })
    await this.store.putMessage(eventId, body, this.settings.messageTtlMs)
    return await this.#attemptNow(ep, { endpointId: ep.id, eventId, eventType: 'webhook.test', attempt: 1 }, body, { schedule: false })
  }

  /** POST …/deliveries/{eventId}/retry: one more attempt now, whatever happened before. */
  async retry (ep: EndpointRecord, eventId: string): Promise<DeliveryAttempt> {
    const id = ep.id
    const body = await this.store.getMessage(eventId)
    if (body === null) throw new GatewayError('GW_ERR_NOT_FOUND', `no message ${eventId} is kept for this endpoint (it never matched it, or it is older than the retention)`)
    const previous = (await this.store.listAttempts(id, 1000)).find(a => a.eventId === eventId)
    if (previous === undefined) throw new GatewayError('GW_ERR_NOT_FOUND', `endpoint ${id} has no delivery of ${eventId} to retry`)
    await this.store.unmarkDelivered(id, eventId)
    return await this.#attemptNow(ep, { endpointId: id, eventId, eventType: previous.eventType, attempt: previous.attempt + 1 }, body, { schedule: false })
  }

  /** Stores the message and queues its first attempt at every matching enabled endpoint. */
  async fanOut (event: WebhookEvent & { type: string }, endpoints: readonly EndpointRecord[]): Promise<number> {
    const targets = endpoints.filter(ep => ep.enabled && matches(ep, event, this.settings.admins))
    if (targets.length === 0) return 0
    const body = JSON.stringify({ type: event.type, timestamp: event.observedAt, data: event })
    await this.store.putMessage(event.id, body, this.settings.messageTtlMs)
    await Promise.all(targets.map(async ep => await this.#enqueue({ endpointId: ep.id, eventId: event.id, eventType: event.type, attempt: 1 }, 0)))
    return targets.length
  }

  /** POST …/recover: queues again every given event that matches the endpoint (the caller read them from the log). */
  async recover (ep: EndpointRecord, events: readonly WebhookEvent[]): Promise<number> {
    let n = 0
    for (const event of events) {
      if (!matches(ep, event, this.settings.admins)) continue
      await this.store.putMessage(event.id, JSON.stringify({ type: event.type, timestamp: event.observedAt, data: event }), this.settings.messageTtlMs)
      await this.store.unmarkDelivered(ep.id, event.id)
      await this.#enqueue({ endpointId: ep.id, eventId: event.id, eventType: event.type, attempt: 1 }, 0, `r${randomBytes(6).toString('hex')}`)
      n++
    }
    return n
  }

  async #enqueue (job: DeliveryJob, delayMs: number, suffix = ''): Promise<void> {
    if (this.#queue === null) throw new Error('webhook delivery queue not wired')
    await this.store.addPending(`${job.endpointId} ${job.eventId}`, this.clock.now())
    await this.#queue.add(job, { jobId: deliveryJobId(job.endpointId, job.eventId, job.attempt) + suffix, delayMs })
  }

  /** The delivery queue's handler: one attempt of one message at one endpoint. */
  async deliver (job: DeliveryJob): Promise<void> {
    const pendingKey = `${job.endpointId} ${job.eventId}`
    const ep = await this.store.getEndpoint(job.endpointId)
    if (ep === null || !ep.enabled || await this.store.isDelivered(ep.id, job.eventId)) {
      await this.store.removePending(pendingKey)
      return
    }
    const busy = this.#inFlight.get(ep.id) ?? 0
    if (busy >= this.settings.endpointConcurrency) {
      // this endpoint has its share of sockets busy: park the job briefly instead of holding a worker slot,
      // so one slow receiver never takes the slots the other endpoints need
      // (a new job id each time: the running job's own id would be taken for a duplicate of it and dropped)
      await this.#enqueue(job, 250 + Math.floor(Math.random() * 250), `w${randomBytes(6).toString('hex')}`)
      return
    }
    const body = await this.store.getMessage(job.eventId)
    if (body === null) {
      this.log.warn({ endpointId: ep.id, eventId: job.eventId }, 'webhook message expired before it could be delivered')
      await this.store.removePending(pendingKey)
      return
    }
    const done = await this.#attemptNow(ep, job, body, { schedule: true })
    if (done.nextRetryAt === null) await this.store.removePending(pendingKey)
  }

  async #attemptNow (ep: EndpointRecord, job: DeliveryJob, body: string, opts: { schedule: boolean }): Promise<DeliveryAttempt> {
    this.#inFlight.set(ep.id, (this.#inFlight.get(ep.id) ?? 0) + 1)
    let result: AttemptResult
    try {
      result = await this.#send(ep, job.eventId, body)
    } finally {
      const left = (this.#inFlight.get(ep.id) ?? 1) - 1
      if (left === 0) this.#inFlight.delete(ep.id)
      else this.#inFlight.set(ep.id, left)
    }
    const now = this.clock.now()
    const record: DeliveryAttempt = {
      eventId: job.eventId,
      eventType: job.eventType,
      attempt: job.attempt,
      at: iso(now),
      outcome: 'delivered',
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      nextRetryAt: null
    }
    if (result.error === null) {
      await this.store.markDelivered(ep.id, job.eventId, this.settings.messageTtlMs)
      await this.store.clearFailing(ep.id)
    } else if (!opts.schedule) {
      // a test or a manual retry only reports: it neither disables the endpoint nor starts a failing streak
      record.outcome = 'failed'
    } else if (result.statusCode === 410) {
      record.outcome = 'endpoint_disabled'
      await this.#disable(ep, 'the receiver answered 410 Gone')
    } else {
      const since = await this.store.markFailing(ep.id, now)
      const next = retryDelayMs(this.settings.retry, job.attempt + 1, result.retryAfterMs)
      if (now - since >= this.settings.disableAfterMs) {
        record.outcome = 'endpoint_disabled'
        await this.#disable(ep, result.error === UNDECRYPTABLE
          ? `its signing secret cannot be decrypted with WEBHOOK_ENCRYPTION_KEY (sealed under another key) since ${iso(since)}: give the replicas that key, or rotate the secret`
          : `failing since ${iso(since)} without a successful delivery`)
      } else if (next === null) {
        record.outcome = 'gave_up'
      } else {
        record.outcome = 'failed'
        record.nextRetryAt = iso(now + next)
      }
      if (record.nextRetryAt !== null) await this.#enqueue({ ...job, attempt: job.attempt + 1 }, next ?? 0)
    }
    await this.store.addAttempt(ep.id, record)
    this.listener.attempted?.(record.outcome, result.durationMs / 1000)
    return record
  }

  async #disable (ep: EndpointRecord, reason: string): Promise<void> {
    const fresh = await this.store.getEndpoint(ep.id)
    if (fresh === null || !fresh.enabled) return
    // replicas disabling the same enabled record read the same updatedAt: one occurrence, one event
    const key = `endpoint.disabled:${fresh.id}:${fresh.updatedAt}`
    const disabledAt = iso(this.clock.now())
    fresh.enabled = false
    fresh.disabledReason = reason
    fresh.disabledAt = disabledAt
    fresh.updatedAt = disabledAt
    await this.store.saveEndpoint(fresh)
    this.log.warn({ endpointId: ep.id, owner: ep.owner, reason }, 'webhook endpoint disabled')
    this.listener.disabled?.(fresh, reason)
    // recorded in the event log (the URL's host only: its path may hold a token); the fan-out from the log delivers
    // it to the owner's other endpoints and admin keys' endpoints that subscribe to endpoint.disabled
    try {
      await this.#events?.append({
        type: 'endpoint.disabled',
        key,
        occurredAt: disabledAt,
        data: { endpoint: { id: fresh.id, host: new URL(fresh.url).host, reason, disabledAt }, owner: fresh.owner }
      })
    } catch (err) {
      this.log.warn({ endpointId: ep.id, err: (err as Error).message }, 'the event log did not take endpoint.disabled; the endpoint stays disabled')
    }
  }

  /** deliveries in flight get the close deadline; then their connections are destroyed (the job retries them) */
  async close (abandoned?: Abandoned): Promise<void> {
    if (await settleWithin(this.agent.close())) return
    abandoned?.('webhooks: deliveries in flight (retried from the queue)')
    await this.agent.destroy()
  }
}
