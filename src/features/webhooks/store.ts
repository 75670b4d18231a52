/**
 * Where webhook endpoints and their delivery logs live: Redis (shared by the replicas) or process memory, behind one
 * port. Endpoint secrets are stored sealed (signing.ts SecretBox); nothing here ever holds a plaintext secret.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../clock.js'
import type { WebhookEventType, WebhookFilter } from '../../schemas/webhook.js'

export type EndpointFilter = WebhookFilter

export interface SealedSecret {
  sealed: string
  createdAt: string
  /** end of the rotation overlap for a replaced secret; null for the current one */
  expiresAt: string | null
}

export interface EndpointRecord {
  id: string
  /** name of the gateway key that registered it */
  owner: string
  url: string
  description: string | null
  /** empty: every case event */
  eventTypes: WebhookEventType[]
  filter: EndpointFilter
  enabled: boolean
  disabledReason: string | null
  disabledAt: string | null
  createdAt: string
  updatedAt: string
  /** newest first */
  secrets: SealedSecret[]
}

export type AttemptOutcome = 'delivered' | 'failed' | 'gave_up' | 'endpoint_disabled'

export interface DeliveryAttempt {
  eventId: string
  eventType: string
  /** 1 for the first try of this event at this endpoint */
  attempt: number
  at: string
  outcome: AttemptOutcome
  statusCode: number | null
  durationMs: number
  error: string | null
  nextRetryAt: string | null
}

export interface WebhookStore {
  saveEndpoint: (ep: EndpointRecord) => Promise<void>
  getEndpoint: (id: string) => Promise<EndpointRecord | null>
  listEndpoints: () => Promise<EndpointRecord[]>
  deleteEndpoint: (id: string) => Promise<void>
  /** the start of the current failing streak: set by the first failure, returned unchanged by the next ones */
  markFailing: (id: string, at: number) => Promise<number>
  clearFailing: (id: string) => Promise<void>
  /** appends to the endpoint's log, which keeps the newest `keep` attempts */
  addAttempt: (endpointId: string, a: DeliveryAttempt) => Promise<void>
  /** newest first */
  listAttempts: (endpointId: string, limit: number) => Promise<DeliveryAttempt[]>
  /** the body of a message (event or test) for retries and recovery; kept `ttlMs` */
  putMessage: (eventId: string, body: string, ttlMs: number) => Promise<void>
  getMessage: (eventId: string) => Promise<string | null>
  /** true the first time (endpoint, event) is marked delivered: a repeated job then sends nothing */
  markDelivered: (endpointId: string, eventId: string, ttlMs: number) => Promise<boolean>
  isDelivered: (endpointId: string, eventId: string) => Promise<boolean>
  /** forgets a delivered mark (manual retry, recovery) */
  unmarkDelivered: (endpointId: string, eventId: string) => Promise<void>
  /** messages queued and not yet delivered or given up (`key` = endpoint id + event id), with when they were first queued */
  addPending: (key: string, at: number) => Promise<void>
  removePending: (key: string) => Promise<void>
  pending: () => Promise<{ count: number, oldest: number | null }>
  getCursor: (name: string) => Promise<string | null>
  setCursor: (name: string, value: string) => Promise<void>
}

const P = 'tgw:v1:wh:'
const K = {
  endpoints: `${P}endpoints`,
  endpoint: (id: string) => `${P}ep:{${id}}`,
  failing: (id: string) => `${P}ep:{${id}}:failing`,
  attempts: (id: string) => `${P}ep:{${id}}:attempts`,
  message: (eventId: string) => `${P}msg:${eventId}`,
  delivered: (id: string, eventId: string) => `${P}ep:{${id}}:done:${eventId}`,
  cursor: (name: string) => `${P}cursor:${name}`,
  pending: `${P}pending`
}

export const ATTEMPTS_KEPT = 1000

export class MemoryWebhookStore implements WebhookStore {
  readonly #endpoints = new Map<string, EndpointRecord>()
  readonly #failing = new Map<string, number>()
  readonly #attempts = new Map<string, DeliveryAttempt[]>()
  readonly #kv = new Map<string, { value: string, expiresAt: number }>()
  constructor (private readonly clock: Clock) {}

  #get (key: string): string | null {
    const e = this.#kv.get(key)
    if (e === undefined) return null
    if (e.expiresAt <= this.clock.now()) { this.#kv.delete(key); return null }
    return e.value
  }

  #set (key: string, value: string, ttlMs: number): void { this.#kv.set(key, { value, expiresAt: this.clock.now() + ttlMs }) }

  async saveEndpoint (ep: EndpointRecord): Promise<void> { this.#endpoints.set(ep.id, structuredClone(ep)) }
  async getEndpoint (id: string): Promise<EndpointRecord | null> {
    const ep = this.#endpoints.get(id)
    return ep === undefined ? null : structuredClone(ep)
  }

  async listEndpoints (): Promise<EndpointRecord[]> { return [...this.#endpoints.values()].map(ep => structuredClone(ep)) }
  async deleteEndpoint (id: string): Promise<void> {
    this.#endpoints.delete(id)
    this.#failing.delete(id)
    this.#attempts.delete(id)
  }

  async markFailing (id: string, at: number): Promise<number> {
    const since = this.#failing.get(id) ?? at
    this.#failing.set(id, since)
    return since
  }

  async clearFailing (id: string): Promise<void> { this.#failing.delete(id) }
  async addAttempt (endpointId: string, a: DeliveryAttempt): Promise<void> {
    const list = this.#attempts.get(endpointId) ?? []
    list.unshift(a)
    if (list.length > ATTEMPTS_KEPT) list.length = ATTEMPTS_KEPT
    this.#attempts.set(endpointId, list)
  }

  async listAttempts (endpointId: string, limit: number): Promise<DeliveryAttempt[]> { return (this.#attempts.get(endpointId) ?? []).slice(0, limit) }
  async putMessage (eventId: string, body: string, ttlMs: number): Promise<void> { this.#set(K.message(eventId), body, ttlMs) }
  async getMessage (eventId: string): Promise<string | null> { return this.#get(K.message(eventId)) }
  async markDelivered (endpointId: string, eventId: string, ttlMs: number): Promise<boolean> {
    if (this.#get(K.delivered(endpointId, eventId)) !== null) return false
    this.#set(K.delivered(endpointId, eventId), '1', ttlMs)
    return true
  }

  async isDelivered (endpointId: string, eventId: string): Promise<boolean> { return this.#get(K.delivered(endpointId, eventId)) !== null }
  async unmarkDelivered (endpointId: string, eventId: string): Promise<void> { this.#kv.delete(K.delivered(endpointId, eventId)) }
  readonly #pending = new Map<string, number>()
  async addPending (key: string, at: number): Promise<void> { if (!this.#pending.has(key)) this.#pending.set(key, at) }
  async removePending (key: string): Promise<void> { this.#pending.delete(key) }
  async pending (): Promise<{ count: number, oldest: number | null }> {
    let oldest: number | null = null
    for (const at of this.#pending.values()) if (oldest === null || at < oldest) oldest = at
    return { count: this.#pending.size, oldest }
  }

  async getCursor (name: string): Promise<string | null> { return this.#kv.get(K.cursor(name))?.value ?? null }
  async setCursor (name: string, value: string): Promise<void> { this.#kv.set(K.cursor(name), { value, expiresAt: Number.POSITIVE_INFINITY }) }
}

/**
 * Redis: one string per endpoint (JSON) plus a set of ids, the delivery log as a capped list. Keys of one endpoint
 * share a hash tag, so the multi-key steps stay on one Cluster slot.
 */
export class RedisWebhookStore implements WebhookStore {
  constructor (private readonly redis: Redis | Cluster) {}

  async saveEndpoint (ep: EndpointRecord): Promise<void> {
    await this.redis.set(K.endpoint(ep.id), JSON.stringify(ep))
    await this.redis.sadd(K.endpoints, ep.id)
  }

  async getEndpoint (id: string): Promise<EndpointRecord | null> {
    const raw = await this.redis.get(K.endpoint(id))
    return raw === null ? null : JSON.parse(raw) as EndpointRecord
  }

  async listEndpoints (): Promise<EndpointRecord[]> {
    const ids = await this.redis.smembers(K.endpoints)
    const found = await Promise.all(ids.map(async id => await this.getEndpoint(id)))
    return found.filter((ep): ep is EndpointRecord => ep !== null)
  }

  async deleteEndpoint (id: string): Promise<void> {
    await this.redis.srem(K.endpoints, id)
    await this.redis.del(K.endpoint(id), K.failing(id), K.attempts(id))
  }

  async markFailing (id: string, at: number): Promise<number> {
    await this.redis.set(K.failing(id), String(at), 'NX')
    return Number(await this.redis.get(K.failing(id)) ?? at)
  }

  async clearFailing (id: string): Promise<void> { await this.redis.del(K.failing(id)) }

  async addAttempt (endpointId: string, a: DeliveryAttempt): Promise<void> {
    await this.redis.multi().lpush(K.attempts(endpointId), JSON.stringify(a)).ltrim(K.attempts(endpointId), 0, ATTEMPTS_KEPT - 1).exec()
  }

  async listAttempts (endpointId: string, limit: number): Promise<DeliveryAttempt[]> {
    return (await this.redis.lrange(K.attempts(endpointId), 0, limit - 1)).map(s => JSON.parse(s) as DeliveryAttempt)
  }

  async putMessage (eventId: string, body: string, ttlMs: number): Promise<void> { await this.redis.set(K.message(eventId), body, 'PX', Math.max(1, ttlMs)) }
  async getMessage (eventId: string): Promise<string | null> { return await this.redis.get(K.message(eventId)) }
  async markDelivered (endpointId: string, eventId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(K.delivered(endpointId, eventId), '1', 'PX', Math.max(1, ttlMs), 'NX')) === 'OK'
  }

  async isDelivered (endpointId: string, eventId: string): Promise<boolean> { return (await this.redis.exists(K.delivered(endpointId, eventId))) === 1 }
  async unmarkDelivered (endpointId: string, eventId: string): Promise<void> { await this.redis.del(K.delivered(endpointId, eventId)) }
  async addPending (key: string, at: number): Promise<void> { await this.redis.zadd(K.pending, 'NX', String(at), key) }
  async removePending (key: string): Promise<void> { await this.redis.zrem(K.pending, key) }
  async pending (): Promise<{ count: number, oldest: number | null }> {
    const [count, first] = await Promise.all([this.redis.zcard(K.pending), this.redis.zrange(K.pending, '0', '0', 'WITHSCORES')])
    return { count, oldest: first[1] === undefined ? null : Number(first[1]) }
  }

  async getCursor (name: string): Promise<string | null> { return await this.redis.get(K.cursor(name)) }
  async setCursor (name: string, value: string): Promise<void> { await this.redis.set(K.cursor(name), value) }
}
