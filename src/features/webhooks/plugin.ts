/**
 * Outbound webhooks wired into the app: the store (Redis when the gateway has it, else memory), the service, the
 * delivery queue on the jobs port, the fan-out from the event log, the metrics and the routes.
 */
import type { FastifyInstance } from 'fastify'
import type { LookupFunction } from 'node:net'
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import type { JobRunner } from '../../jobs/port.js'
import type { GatewayMetrics } from '../../metrics.js'
import { webhookRoutes } from './routes.js'
import type { StoreEpoch } from '../../store/epoch.js'
import type { KvStore } from '../../store/kv-store.js'
import { WebhookFanout, type WebhookEventSource } from './fanout.js'
import { GatewayError } from '../../domain/problems.js'
import { WebhookService, type DeliveryJob, type EventAppender } from './service.js'
import { MemoryWebhookStore, RedisWebhookStore, type WebhookStore } from './store.js'

export const DELIVERY_QUEUE = 'webhook-delivery'

export interface WebhookWiring {
  config: Config
  kv: KvStore
  /** the store epoch: endpoints lost with the store's data are reported (ADR 0032) */
  epoch?: StoreEpoch
  jobs: JobRunner
  /** the event log; null until one is wired (endpoints, tests and retries work; nothing is fanned out) */
  events: WebhookEventSource | null
  /** where endpoint.disabled is recorded (the events service: the store plus its metrics); none: not recorded */
  eventLog?: EventAppender
  /** how far back the event log reaches (recover) */
  eventRetentionMs: number
  clock: Clock
  metrics: GatewayMetrics
  /** tests: a resolver for the SSRF guard */
  lookup?: LookupFunction
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: { service: WebhookService, store: WebhookStore, fanout: WebhookFanout | null }
  }
}

export async function registerWebhooks (app: FastifyInstance, w: WebhookWiring): Promise<void> {
  const c = w.config.webhooks
  const store: WebhookStore = w.kv.kind === 'redis' && w.kv.client !== undefined ? new RedisWebhookStore(w.kv.client) : new MemoryWebhookStore(w.clock)
  const registers = [w.metrics.registry]
  const outcomes = new Counter({
    name: 'takedown_gateway_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered|failed|gave_up|endpoint_disabled)',
    labelNames: ['outcome'],
    registers
  })
  const latency = new Histogram({
    name: 'takedown_gateway_webhook_attempt_duration_seconds',
    help: 'Duration of one webhook delivery attempt (connect to last byte read), by outcome',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers
  })
  const service = new WebhookService(store, {
    encryptionKey: c.encryptionKey,
    allowPrivate: c.allowPrivate,
    allowHttp: c.allowHttp,
    retry: { scheduleMs: c.retryScheduleMs, jitter: c.retryJitter },
    disableAfterMs: c.disableAfterMs,
    timeoutMs: c.timeoutMs,
    maxResponseBytes: c.maxResponseBytes,
    endpointConcurrency: c.endpointConcurrency,
    rotationOverlapMs: c.rotationOverlapMs,
    messageTtlMs: w.eventRetentionMs,
    admins: new Set(w.config.apiKeys.filter(k => k.scopes.has('admin')).map(k => k.name))
  }, w.clock, app.log, {
    attempted: (outcome, seconds) => { outcomes.inc({ outcome }); latency.observe({ outcome }, seconds) }
  }, w.lookup === undefined ? {} : { lookup: w.lookup })
  const gauges = [new Gauge({
    name: 'takedown_gateway_webhook_pending',
    help: 'Webhook messages queued and not yet delivered or given up (waiting, running or waiting for a retry), all replicas',
    registers,
    async collect () { this.set((await store.pending()).count) }
  }), new Gauge({
    name: 'takedown_gateway_webhook_oldest_pending_seconds',
    help: 'Age of the oldest webhook message not yet delivered or given up (0 when none)',
    registers,
    async collect () {
      const { oldest } = await store.pending()
      this.set(oldest === null ? 0 : Math.max(0, (w.clock.now() - oldest) / 1000))
    }
  }), new Gauge({
    name: 'takedown_gateway_webhook_endpoints',
    help: 'Webhook endpoints by state (enabled|disabled)',
    labelNames: ['state'],
    registers,
    async collect () {
      const all = await store.listEndpoints()
      const disabled = all.filter(ep => !ep.enabled).length
      this.set({ state: 'enabled' }, all.length - disabled)
      this.set({ state: 'disabled' }, disabled)
    }
  })]
  app.log.debug({ gauges: gauges.length }, 'webhook gauges registered')
  // how many endpoints the store held at the last epoch check: a loss says how many went with it
  let known = 0
  w.epoch?.onChecked(async () => { known = (await store.listEndpoints()).length })
  w.epoch?.onLoss(async () => {
    const lost = known - (await store.listEndpoints()).length
    known = 0
    if (lost <= 0) return
    w.metrics.storeLostRecords.inc({ kind: 'webhook_endpoint' }, lost)
    app.log.error({ endpoints: lost }, 'webhook endpoints were lost with the store\'s data (no endpoint.disabled was sent): their owners must register them again')
  })

  w.jobs.define<DeliveryJob>(DELIVERY_QUEUE, async (job) => { await service.deliver(job) }, {
    concurrency: c.concurrency,
    // the handler records its own failed attempts and schedules the next one; the queue retries only a handler that
    // threw (the store unreachable mid-delivery)
    attempts: 5,
    backoffMs: 1000,
    lockMs: c.jobLockMs
  })
  service.useQueue({ add: async (job, opts) => { await w.jobs.add(DELIVERY_QUEUE, job, opts) } })
  if (w.eventLog !== undefined) service.useEventLog(w.eventLog)
  const fanout = w.events === null || !c.enabled ? null : new WebhookFanout(w.events, service, store, w.kv, w.clock, app.log, { pollMs: 1000 })
  if (fanout !== null) {
    app.addHook('onReady', async () => { fanout.start() })
    app.addHook('preClose', async () => { await fanout.close() })
  }
  app.addHook('onClose', async () => { await service.close() })
  app.decorate('webhooks', { service, store, fanout })
  if (!c.enabled) {
    // a live gateway without the sealing key keeps every other feature: only the endpoints API is off, and says why
    app.log.warn('WEBHOOK_ENCRYPTION_KEY is unset: outbound webhooks are off (the /v1/webhook-endpoints routes answer 503)')
  }
  await app.register(async (scope) => {
    if (!c.enabled) {
      // after authentication and validation: a caller without a key still gets its 401
      scope.addHook('preHandler', (_req, _reply, done) => {
        done(new GatewayError('GW_ERR_UNAVAILABLE', 'Outbound webhooks are off in this gateway: set WEBHOOK_ENCRYPTION_KEY (32 bytes as 64 hex digits or base64, the same on every replica) and restart'))
      })
    }
    await scope.register(webhookRoutes, {
      webhooks: service,
      fanout: () => fanout,
      apiKeys: w.config.apiKeys,
      retentionMs: w.eventRetentionMs,
      now: () => w.clock.now()
    })
  })
}
