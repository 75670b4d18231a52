/**
 * Outbound webhooks wired into the app: the store (Redis when the gateway has it, else memory), the endpoints API, delivery,
 * the delivery queue on the jobs port, the fan-out from the event log, the metrics and the routes.
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.js'
import type { Core } from '../../core/core.js'
import { webhookRoutes } from './routes.js'
import { WebhookFanout } from './fanout.js'
import { GatewayError } from '../../domain/problems.js'
import { WebhookDelivery, type DeliveryJob } from './delivery.js'
import { WebhookEndpoints } from './endpoints.js'
import { MemoryWebhookStore, RedisWebhookStore, type WebhookStore } from './store.js'
import { WebhookMetrics } from './metrics.js'

export const DELIVERY_QUEUE = 'webhook-delivery'

/** What the app exposes of the feature (tests read the store and wait for the fan-out). */
export interface WebhooksHandle { endpoints: WebhookEndpoints, delivery: WebhookDelivery, store: WebhookStore, fanout: WebhookFanout | null }

export interface WebhooksFeatureOptions {
  core: Core
  config: Config
  expose: (handle: WebhooksHandle) => void
}

export async function webhooksFeature (app: FastifyInstance, { core, config, expose }: WebhooksFeatureOptions): Promise<void> {
  const c = config.webhooks
  const { store: kv, clock, epoch } = core
  const jobs = core.events.jobs
  const eventRetentionMs = config.events.retentionMs
  const store: WebhookStore = kv.kind === 'redis' && kv.client !== undefined ? new RedisWebhookStore(kv.client) : new MemoryWebhookStore(clock)
  const metrics = new WebhookMetrics(core.metrics.registry, store, clock)
  const endpoints = new WebhookEndpoints(store, {
    encryptionKey: c.encryptionKey, allowPrivate: c.allowPrivate, allowHttp: c.allowHttp, rotationOverlapMs: c.rotationOverlapMs
  }, clock)
  const delivery = new WebhookDelivery(store, {
    encryptionKey: c.encryptionKey,
    allowPrivate: c.allowPrivate,
    retry: { scheduleMs: c.retryScheduleMs, jitter: c.retryJitter },
    disableAfterMs: c.disableAfterMs,
    timeoutMs: c.timeoutMs,
    maxResponseBytes: c.maxResponseBytes,
    endpointConcurrency: c.endpointConcurrency,
    messageTtlMs: eventRetentionMs,
    admins: new Set(config.apiKeys.filter(k => k.scopes.has('admin')).map(k => k.name))
  }, clock, app.log, {
    attempted: (outcome, seconds) => { metrics.attempted(outcome, seconds) }
  }, core.webhookLookup === undefined ? {} : { lookup: core.webhookLookup })
  // how many endpoints the store held at the last epoch check: a loss says how many went with it
  let known = 0
  epoch.onChecked(async () => { known = (await store.listEndpoints()).length })
  epoch.onLoss(async () => {
    const lost = known - (await store.listEndpoints()).length
    known = 0
    if (lost <= 0) return
    core.metrics.storeLostRecords.inc({ kind: 'webhook_endpoint' }, lost)
    app.log.error({ endpoints: lost }, 'webhook endpoints were lost with the store\'s data (no endpoint.disabled was sent): their owners must register them again')
  })

  jobs.define<DeliveryJob>(DELIVERY_QUEUE, async (job) => { await delivery.deliver(job) }, {
    concurrency: c.concurrency,
    // the handler records its own failed attempts and schedules the next one; the queue retries only a handler that
    // threw (the store unreachable mid-delivery)
    attempts: 5,
    backoffMs: 1000,
    lockMs: c.jobLockMs
  })
  delivery.useQueue({ add: async (job, opts) => { await jobs.add(DELIVERY_QUEUE, job, opts) } })
  // endpoint.disabled is recorded through the events service (the store plus its metrics)
  delivery.useEventLog(core.events.service)
  const fanout = !c.enabled ? null : new WebhookFanout(core.events.service.store, delivery, store, kv, clock, app.log, { pollMs: 1000 })
  if (fanout !== null) {
    app.addHook('onReady', async () => { fanout.start() })
    app.addHook('preClose', async () => { await fanout.close(core.abandoned) })
  }
  app.addHook('onClose', async () => { await delivery.close(core.abandoned) })
  expose({ endpoints, delivery, store, fanout })
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
      endpoints,
      delivery,
      fanout: () => fanout,
      apiKeys: config.apiKeys,
      retentionMs: eventRetentionMs,
      now: () => clock.now()
    })
  })
}
