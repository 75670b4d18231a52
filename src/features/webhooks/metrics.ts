/** The webhooks feature's Prometheus families, registered on the gateway's registry (src/metrics.ts). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Clock } from '../../clock.js'
import { METRIC_PREFIX } from '../../metrics.js'
import type { WebhookStore } from './store.js'

export class WebhookMetrics {
  readonly outcomes: Counter<'outcome'>
  readonly latency: Histogram<'outcome'>
  readonly pending: Gauge
  readonly oldestPending: Gauge
  readonly endpoints: Gauge<'state'>

  /** the gauges read the store (all replicas) when Prometheus scrapes */
  constructor (registry: Registry, store: WebhookStore, clock: Clock) {
    const registers = [registry]
    this.outcomes = new Counter({
      name: `${METRIC_PREFIX}webhook_deliveries_total`,
      help: 'Webhook delivery attempts by outcome (delivered|failed|gave_up|endpoint_disabled)',
      labelNames: ['outcome'],
      registers
    })
    this.latency = new Histogram({
      name: `${METRIC_PREFIX}webhook_attempt_duration_seconds`,
      help: 'Duration of one webhook delivery attempt (connect to last byte read), by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers
    })
    this.pending = new Gauge({
      name: `${METRIC_PREFIX}webhook_pending`,
      help: 'Webhook messages queued and not yet delivered or given up (waiting, running or waiting for a retry), all replicas',
      registers,
      async collect () { this.set((await store.pending()).count) }
    })
    this.oldestPending = new Gauge({
      name: `${METRIC_PREFIX}webhook_oldest_pending_seconds`,
      help: 'Age of the oldest webhook message not yet delivered or given up (0 when none)',
      registers,
      async collect () {
        const { oldest } = await store.pending()
        this.set(oldest === null ? 0 : Math.max(0, (clock.now() - oldest) / 1000))
      }
    })
    this.endpoints = new Gauge({
      name: `${METRIC_PREFIX}webhook_endpoints`,
      help: 'Webhook endpoints by state (enabled|disabled)',
      labelNames: ['state'],
      registers,
      async collect () {
        const all = await store.listEndpoints()
        const disabled = all.filter(ep => !ep.enabled).length
        this.set({ state: 'enabled' }, all.length - disabled)
        this.set({ state: 'disabled' }, disabled)
      }
    })
  }

  /** one delivery attempt finished */
  attempted (outcome: string, seconds: number): void {
    this.outcomes.inc({ outcome })
    this.latency.observe({ outcome }, seconds)
  }
}
