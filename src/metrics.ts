/**
 * Prometheus metrics: the one module that owns the registry, one per app instance (never prom-client's global one,
 * so several gateways in one test process do not clash), and the core's families. A feature defines its own families
 * in its folder on this registry (events/metrics.ts, features/reporting/metrics.ts, features/webhooks/metrics.ts);
 * `text()` renders them all. The core's families are fed at the narrowest seams: VendorHttp's observer (every
 * vendor request and retry), SharedCache's onOutcome, the status engine's unknown-status listener; the gauges and
 * the idempotency replays are read when Prometheus scrapes. Labels never carry a raw URL, an id or a secret.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { UpstreamObserver } from './connectors/connector.js'
import type { OutboundBudget } from './connectors/outbound-budget.js'
import type { ProviderId } from './schemas/provider.js'
import type { ProviderSet } from './services/provider-set.js'
import type { CacheLabels, CacheOutcome } from './store/cached.js'
import { KeyedCounter, KeyedHistogram } from './keyed-metrics.js'

/** every family's name starts with it; the features' own families (events, webhooks, reporting) use it too */
export const METRIC_PREFIX = 'takedown_gateway_'
const PREFIX = METRIC_PREFIX

/** 0 closed, 1 half-open, 2 open */
export const CIRCUIT_STATE_VALUES = { closed: 0, half_open: 1, open: 2 } as const

export interface MetricSources {
  providers: ProviderSet
  budgets: Partial<Record<ProviderId, OutboundBudget>>
  /** idempotency replays so far (Idempotency#replays) */
  replays: () => number
}

export class GatewayMetrics {
  readonly registry = new Registry()
  /** per request and per vendor call: series looked up by key, counted into numbers, read at scrape time */
  readonly httpDuration: KeyedHistogram
  readonly upstreamDuration: KeyedHistogram
  readonly upstreamRequests: KeyedCounter
  readonly upstreamRetries: Counter<'provider' | 'method' | 'kind'>
  readonly circuitState: Gauge<'provider'>
  readonly budgetRemaining: Gauge<'provider'>
  /** per provider on every reference hit: keyed, like the request histogram */
  readonly cacheOutcomes: KeyedCounter
  readonly unknownStatuses: Counter<'provider'>
  readonly idempotencyReplays: Counter
  readonly storeDataLosses: Counter
  readonly storeLostRecords: Counter<'kind'>
  /** 1 for a metric whose scrape-time read failed on the last scrape (the store down): the scrape still answers */
  readonly unavailable: Gauge<'metric'>
  readonly #guarded = new WeakSet<object>()
  #sources: MetricSources | null = null

  constructor (opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: PREFIX })
    this.httpDuration = new KeyedHistogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Inbound HTTP requests by method, route template and status code',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers
    })
    this.upstreamDuration = new KeyedHistogram({
      name: `${PREFIX}upstream_request_duration_seconds`,
      help: 'Requests to vendor APIs (each attempt) by provider, HTTP method and outcome',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers
    })
    this.upstreamRequests = new KeyedCounter({
      name: `${PREFIX}upstream_requests_total`,
      help: 'Requests to vendor APIs (each attempt) by provider, HTTP method and outcome (ok|auth|rejected|not_found|rate_limited|unavailable|timeout|protocol)',
      registers
    })
    this.upstreamRetries = new Counter({
      name: `${PREFIX}upstream_retries_total`,
      help: 'Retries of idempotent vendor requests, by provider, HTTP method and the failure kind that caused them',
      labelNames: ['provider', 'method', 'kind'],
      registers
    })
    const self = this
    this.circuitState = new Gauge({
      name: `${PREFIX}circuit_state`,
      help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open',
      labelNames: ['provider'],
      registers,
      collect () {
        this.reset()
        for (const entry of self.#sources?.providers.all() ?? []) {
          if (entry.connector === null) continue
          this.set({ provider: entry.id }, CIRCUIT_STATE_VALUES[entry.circuit?.() ?? 'closed'])
        }
      }
    })
    this.budgetRemaining = new Gauge({
      name: `${PREFIX}outbound_budget_remaining`,
      help: 'Requests left in the outbound budget window per provider credential, counted across replicas (providers without a budget are absent)',
      labelNames: ['provider'],
      registers,
      async collect () {
        this.reset()
        const budgets = Object.entries(self.#sources?.budgets ?? {}) as Array<[ProviderId, OutboundBudget]>
        const left = await Promise.all(budgets.map(async ([id, budget]) => [id, await budget.remaining()] as const))
        for (const [provider, n] of left) if (n !== null) this.set({ provider }, n)
      }
    })
    this.cacheOutcomes = new KeyedCounter({
      name: `${PREFIX}reference_cache_requests_total`,
      help: 'Reference cache lookups by provider, kind and outcome (hit|stale-while-revalidate|stale-if-error|miss|collapsed)',
      registers
    })
    this.unknownStatuses = new Counter({
      name: `${PREFIX}unknown_provider_statuses_total`,
      help: 'Vendor statuses with no unified mapping (reported as unknown), per provider',
      labelNames: ['provider'],
      registers
    })
    let seenReplays = 0
    this.idempotencyReplays = new Counter({
      name: `${PREFIX}idempotency_replays_total`,
      help: 'Writes answered from a recorded Idempotency-Key answer instead of reaching the vendor again',
      registers,
      collect () {
        const now = self.#sources?.replays() ?? 0
        if (now > seenReplays) this.inc(now - seenReplays)
        seenReplays = now
      }
    })
    this.storeDataLosses = new Counter({
      name: `${PREFIX}store_data_losses_total`,
      help: 'Times this replica found its Redis had lost its data (the store epoch gone) and began a new epoch',
      registers
    })
    this.storeLostRecords = new Counter({
      name: `${PREFIX}store_lost_records_total`,
      help: 'Records this replica knew of that a Redis data loss took with it, by kind (webhook_endpoint|idempotency_key)',
      labelNames: ['kind'],
      registers
    })
    this.unavailable = new Gauge({
      name: `${PREFIX}metric_unavailable`,
      help: 'Per metric read at scrape time: 1 when its read failed on this scrape (its store unreachable; the metric is left out), else 0',
      labelNames: ['metric'],
      registers
    })
  }

  /**
   * Wraps every metric's collect step (also those registered later, by the events engine and the webhooks) so that
   * one that throws empties its own metric and sets `metric_unavailable{metric}` to 1 instead of failing the scrape.
   * The unavailable gauge is kept last in the registry, so it reports this scrape's failures.
   */
  #guardCollects (): void {
    let added = false
    for (const m of this.registry.getMetricsAsArray()) {
      const metric = m as unknown as { name: string, collect?: () => unknown, reset: () => void }
      if (metric === this.unavailable as unknown || typeof metric.collect !== 'function' || this.#guarded.has(metric)) continue
      this.#guarded.add(metric)
      added = true
      const collect = metric.collect
      const unavailable = this.unavailable
      metric.collect = async function (this: typeof metric) {
        try {
          await collect.call(this)
          unavailable.set({ metric: metric.name }, 0)
        } catch {
          this.reset()
          unavailable.set({ metric: metric.name }, 1)
        }
      }
    }
    if (added) {
      this.registry.removeSingleMetric(`${PREFIX}metric_unavailable`)
      this.registry.registerMetric(this.unavailable)
    }
  }

  /** Where the scrape-time gauges read from; set once the app has built them. */
  track (sources: MetricSources): void { this.#sources = sources }

  /** VendorHttp observer feeding the upstream families. */
  readonly upstream: UpstreamObserver = {
    request: ({ provider, method, outcome, seconds }) => {
      const key = `${provider} ${method} ${outcome}`
      const labels = (): Record<string, string> => ({ provider, method, outcome })
      this.upstreamDuration.observe(key, labels, seconds)
      this.upstreamRequests.inc(key, labels)
    },
    retry: ({ provider, method, kind }) => { this.upstreamRetries.inc({ provider, method, kind }) }
  }

  readonly cacheOutcome = (outcome: CacheOutcome, labels: CacheLabels): void => {
    const { provider, kind } = labels
    this.cacheOutcomes.inc(`${provider} ${kind} ${outcome}`, () => ({ provider, kind, outcome }))
  }

  /** One inbound request answered (the access hook): `route` is the route template, '(unmatched)' for none. */
  request (method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe(`${method} ${status} ${route}`, () => ({ method, route, status_code: String(status) }), seconds)
  }

  async text (): Promise<string> {
    this.#guardCollects()
    return await this.registry.metrics()
  }

  get contentType (): string { return this.registry.contentType }
}
