/**
 * PhishFort webhook subscriptions and signed deliveries (PhishFort "Webhooks" docs page; the management routes,
 * headers, signature, retry schedule and the 5-subscription cap as the unofficial phishfort-mcp reference records
 * them):
 * - `POST /v1/webhooks` {url, events, description?} → 201 `{data: {..., secret}, message: "Success"}`, the secret
 *   shown once; `GET /v1/webhooks`, `PATCH /v1/webhooks/{id}` {url?, events?, active?, description?},
 *   `DELETE /v1/webhooks/{id}`, `POST /v1/webhooks/{id}/test`, `POST /v1/webhooks/{id}/rotate-secret` (the old secret
 *   stops working at once; the new one is shown once). At most 5 subscriptions per client.
 * - A delivery is a POST with `X-PhishFort-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`,
 *   `X-PhishFort-Event`, `X-PhishFort-Delivery-Id`, `X-PhishFort-Timestamp`; the receiver has 5 s to answer 2xx.
 *   Retries: immediately, then after 30 s, 2 min, 10 min and 1 h; after 5 failed attempts the subscription is failed.
 * Simulator decisions where the vendor is silent: the timestamp is Unix seconds; the body is
 * `{id, event, createdAt, data: {incidentId, status, previousStatus}}`; http:// URLs are allowed on loopback hosts
 * only (the vendor requires HTTPS). Changes are found by a scan of the lazily computed incidents (status steps and
 * history notes that became visible since the last scan), run every `scanMs` and on `deliverDue()` while there is a
 * subscription (none: no scan, so 25,000 idle incidents cost nothing; the first subscription starts from a fresh one).
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { paced, type Clock } from '../../clock.js'
import { WEBHOOK_EVENTS } from '../../connectors/phishfort/wire.js'
import { MAIN_CLIENT, type IncidentStore } from './state.js'

const MAX_SUBSCRIPTIONS = 5
const RECEIVER_TIMEOUT_MS = 5000
/** delays before attempts 2..5 (attempt 1 goes out at once) */
export const RETRY_DELAYS_MS = [30_000, 120_000, 600_000, 3_600_000]
const MAX_ATTEMPTS = 1 + RETRY_DELAYS_MS.length

interface Subscription {
  id: string
  clientId: string
  url: string
  events: string[]
  active: boolean
  failed: boolean
  description: string | null
  secret: string
  createdAt: number
}

interface Delivery { id: string, subscriptionId: string, event: string, body: string, attempt: number, nextAt: number }

export interface DeliveryRecord { deliveryId: string, subscriptionId: string, event: string, attempt: number, status: number | null }

export class PhishfortWebhooks {
  readonly subscriptions = new Map<string, Subscription>()
  /** every attempt made, oldest first (tests and /__sim read it) */
  readonly attempts: DeliveryRecord[] = []
  #pending: Delivery[] = []
  /** per incident: visible steps and notes at the last scan */
  readonly #seen = new Map<string, { steps: number, notes: number, status: string }>()
  #counter = 0
  #sending: Promise<number> | null = null
  readonly #timer: NodeJS.Timeout

  constructor (private readonly store: IncidentStore, private readonly clock: Clock, scanMs = 500) {
    this.#snapshot()
    this.#timer = setInterval(() => { this.deliverDue().catch(() => {}) }, scanMs)
    this.#timer.unref()
  }

  close (): void { clearInterval(this.#timer) }

  #snapshot (): Array<{ incidentId: string, event: string, status: string, previousStatus: string | null }> {
    const changes: Array<{ incidentId: string, event: string, status: string, previousStatus: string | null }> = []
    const now = this.clock.now()
    for (const incident of this.store.all()) {
      const steps = this.store.visibleSteps(incident).length
      const notes = incident.notes.filter(n => n.at <= now).length
      const status = this.store.statusOf(incident)
      const before = this.#seen.get(incident.id)
      this.#seen.set(incident.id, { steps, notes, status })
      if (before === undefined) {
        changes.push({ incidentId: incident.id, event: 'incident.created', status, previousStatus: null })
        continue
      }
      if (before.status !== status) changes.push({ incidentId: incident.id, event: 'incident.status_changed', status, previousStatus: before.status })
      else if (before.notes !== notes || before.steps !== steps) changes.push({ incidentId: incident.id, event: 'incident.history_created', status, previousStatus: before.status })
    }
    return changes
  }

  #enqueue (sub: Subscription, event: string, data: Record<string, unknown>): void {
    const id = `dlv_${(++this.#counter).toString(36).padStart(6, '0')}${randomBytes(4).toString('hex')}`
    const body = JSON.stringify({ id, event, createdAt: new Date(this.clock.now()).toISOString(), data })
    this.#pending.push({ id, subscriptionId: sub.id, event, body, attempt: 0, nextAt: this.clock.now() })
  }

  /** Scans for changes, then sends every delivery that is due; resolves to the number of attempts made. */
  async deliverDue (): Promise<number> {
    this.#sending ??= this.#deliver().finally(() => { this.#sending = null })
    return await this.#sending
  }

  async #deliver (): Promise<number> {
    // with no subscription nothing is sent: the scan (every incident) waits for the first one, which takes its own
    for (const change of this.subscriptions.size === 0 ? [] : this.#snapshot()) {
      for (const sub of this.subscriptions.values()) {
        if (sub.active && !sub.failed && sub.events.includes(change.event)) {
          this.#enqueue(sub, change.event, { incidentId: change.incidentId, status: change.status, previousStatus: change.previousStatus })
        }
      }
    }
    const now = this.clock.now()
    const due = this.#pending.filter(d => d.nextAt <= now)
    this.#pending = this.#pending.filter(d => d.nextAt > now)
    await Promise.all(due.map(async d => { await this.#send(d) }))
    return due.length
  }

  async #send (d: Delivery): Promise<void> {
    const sub = this.subscriptions.get(d.subscriptionId)
    if (sub === undefined || !sub.active || sub.failed) return
    d.attempt++
    const timestamp = String(Math.floor(this.clock.now() / 1000))
    const signature = 'sha256=' + createHmac('sha256', sub.secret).update(`${timestamp}.${d.body}`).digest('hex')
    let status: number | null = null
    try {
      const res = await request(sub.url, {
        method: 'POST',
        body: d.body,
        headers: {
          'content-type': 'application/json',
          'x-phishfort-signature': signature,
          'x-phishfort-event': d.event,
          'x-phishfort-delivery-id': d.id,
          'x-phishfort-timestamp': timestamp
        },
        headersTimeout: RECEIVER_TIMEOUT_MS,
        bodyTimeout: RECEIVER_TIMEOUT_MS
      })
      await res.body.dump()
      status = res.statusCode
    } catch {}
    this.attempts.push({ deliveryId: d.id, subscriptionId: sub.id, event: d.event, attempt: d.attempt, status })
    if (status !== null && status >= 200 && status < 300) return
    if (d.attempt >= MAX_ATTEMPTS) {
      sub.failed = true
      sub.active = false
      return
    }
    this.#pending.push({ ...d, nextAt: this.clock.now() + paced(this.clock, RETRY_DELAYS_MS[d.attempt - 1] as number) })
  }

  routes (api: FastifyInstance, boom: (status: number, message: string) => unknown): void {
    const view = (s: Subscription): Record<string, unknown> => ({
      id: s.id,
      clientId: s.clientId,
      url: s.url,
      events: s.events,
      active: s.active,
      ...(s.failed ? { status: 'failed' } : {}),
      ...(s.description === null ? {} : { description: s.description }),
      createdAt: new Date(s.createdAt).toISOString()
    })
    const find = (id: string): Subscription | undefined => this.subscriptions.get(id)
    const checkUrl = (url: unknown): string | null => {
      if (typeof url !== 'string') return '"url" is required'
      try {
        const u = new URL(url)
        if (u.protocol === 'https:') return null
        if (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) return null
        return '"url" must be an HTTPS URL'
      } catch { return '"url" must be a valid uri' }
    }
    const checkEvents = (events: unknown): string | null =>
      !Array.isArray(events) || events.length === 0 || !events.every(e => typeof e === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(e))
        ? `"events" must be a non-empty array of ${WEBHOOK_EVENTS.join(', ')}`
        : null

    api.post('/v1/webhooks', async (req, reply) => {
      const b = (req.body ?? {}) as { url?: unknown, events?: unknown, description?: unknown }
      const problem = checkUrl(b.url) ?? checkEvents(b.events)
      if (problem !== null) return reply.code(400).send(boom(400, problem))
      if ([...this.subscriptions.values()].filter(s => s.clientId === MAIN_CLIENT.id).length >= MAX_SUBSCRIPTIONS) {
        return reply.code(400).send(boom(400, `A client can have at most ${MAX_SUBSCRIPTIONS} webhook subscriptions`))
      }
      const sub: Subscription = {
        id: randomBytes(10).toString('hex'),
        clientId: MAIN_CLIENT.id,
        url: b.url as string,
        events: [...new Set(b.events as string[])],
        active: true,
        failed: false,
        description: typeof b.description === 'string' ? b.description : null,
        secret: randomBytes(32).toString('hex'),
        createdAt: this.clock.now()
      }
      // the first subscription: the changes seen since the last scan are nobody's (they were scanned for no one)
      if (this.subscriptions.size === 0) this.#snapshot()
      this.subscriptions.set(sub.id, sub)
      return reply.code(201).send({
        data: { ...view(sub), secret: sub.secret, message: 'Webhook subscription created successfully. Save the secret — it will not be shown again.' },
        message: 'Success'
      })
    })
    api.get('/v1/webhooks', async () => ({ data: [...this.subscriptions.values()].map(view), message: 'success' }))
    api.patch<{ Params: { id: string } }>('/v1/webhooks/:id', async (req, reply) => {
      const sub = find(req.params.id)
      if (sub === undefined) return reply.code(404).send(boom(404, 'Webhook not found'))
      const b = (req.body ?? {}) as { url?: unknown, events?: unknown, active?: unknown, description?: unknown }
      const problem = (b.url === undefined ? null : checkUrl(b.url)) ?? (b.events === undefined ? null : checkEvents(b.events))
      if (problem !== null) return reply.code(400).send(boom(400, problem))
      if (typeof b.url === 'string') sub.url = b.url
      if (Array.isArray(b.events)) sub.events = [...new Set(b.events as string[])]
      if (typeof b.active === 'boolean') { sub.active = b.active; if (b.active) sub.failed = false }
      if (typeof b.description === 'string') sub.description = b.description
      return { data: view(sub), message: 'success' }
    })
    api.delete<{ Params: { id: string } }>('/v1/webhooks/:id', async (req, reply) => {
      if (!this.subscriptions.delete(req.params.id)) return reply.code(404).send(boom(404, 'Webhook not found'))
      return { message: 'success' }
    })
    api.post<{ Params: { id: string } }>('/v1/webhooks/:id/test', async (req, reply) => {
      const sub = find(req.params.id)
      if (sub === undefined) return reply.code(404).send(boom(404, 'Webhook not found'))
      this.#enqueue(sub, 'webhook.test', { message: 'Test delivery from PhishFort' })
      await this.deliverDue()
      return { message: 'success', data: { delivered: this.attempts.at(-1)?.status ?? null } }
    })
    api.post<{ Params: { id: string } }>('/v1/webhooks/:id/rotate-secret', async (req, reply) => {
      const sub = find(req.params.id)
      if (sub === undefined) return reply.code(404).send(boom(404, 'Webhook not found'))
      sub.secret = randomBytes(32).toString('hex')
      return { data: { ...view(sub), secret: sub.secret }, message: 'success' }
    })
  }
}
