/** The events engine's Prometheus families, registered on the gateway's registry (src/metrics.ts). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { WatchStatus } from '../services/providers.js'
import { METRIC_PREFIX } from '../metrics.js'

const PREFIX = METRIC_PREFIX

export interface EventMetricSources {
  /** epoch ms of each provider's last completed sync (null: none yet, or the store does not answer) */
  lastSyncs: () => Promise<Record<string, number | null>>
  snapshots: () => Promise<Record<string, number> | null>
  /** each watched provider's cadence, open-set size and sync cost */
  watch?: () => Promise<WatchStatus[]>
  now: () => number
}

export class EventMetrics {
  readonly events: Counter<'type' | 'provider'>
  readonly syncDuration: Histogram<'provider' | 'outcome'>
  readonly inbound: Counter<'provider' | 'outcome'>

  constructor (registry: Registry, sources: EventMetricSources) {
    const registers = [registry]
    this.events = new Counter({
      name: `${PREFIX}events_total`,
      help: 'Events recorded by this replica, by event type and provider (empty for batch.completed and endpoint.disabled)',
      labelNames: ['type', 'provider'],
      registers
    })
    this.syncDuration = new Histogram({
      name: `${PREFIX}watch_sync_duration_seconds`,
      help: 'Watcher syncs (one full read of a provider\'s look-back window) by provider and outcome (ok|failed)',
      labelNames: ['provider', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers
    })
    this.inbound = new Counter({
      name: `${PREFIX}inbound_webhook_deliveries_total`,
      help: 'Vendor webhook deliveries received, by provider and outcome (accepted|duplicate|ignored|bad_signature|stale|malformed)',
      labelNames: ['provider', 'outcome'],
      registers
    })
    // scrape-time gauges: read from the event store, which every replica shares
    new Gauge({ // eslint-disable-line no-new
      name: `${PREFIX}watch_lag_seconds`,
      help: 'Seconds since the last completed watcher sync, per provider (absent before the first one)',
      labelNames: ['provider'],
      registers,
      async collect () {
        this.reset()
        const now = sources.now()
        for (const [provider, at] of Object.entries(await sources.lastSyncs())) {
          if (at !== null) this.set({ provider }, Math.max(0, (now - at) / 1000))
        }
      }
    })
    const watchGauge = (name: string, help: string, value: (s: WatchStatus) => number | null): void => {
      new Gauge({ // eslint-disable-line no-new
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['provider'],
        registers,
        async collect () {
          this.reset()
          for (const s of await sources.watch?.() ?? []) {
            const v = value(s)
            if (v !== null) this.set({ provider: s.provider }, v)
          }
        }
      })
    }
    watchGauge('watch_interval_seconds', 'The watcher\'s sync cadence per provider: the configured one, or longer when a sync costs more vendor calls than its budget share allows',
      s => s.effectiveIntervalMs / 1000)
    watchGauge('watch_open_cases', 'Cases open at the vendor as the last watcher sync saw them, per provider', s => s.openCases)
    watchGauge('watch_sync_calls', 'Vendor calls of the last watcher sync (list pages, single reads, look-ups inside a listing), per provider', s => s.cycleCalls)
    new Gauge({ // eslint-disable-line no-new
      name: `${PREFIX}event_snapshots`,
      help: 'Case snapshots the event store holds, per provider',
      labelNames: ['provider'],
      registers,
      async collect () {
        this.reset()
        for (const [provider, n] of Object.entries(await sources.snapshots() ?? {})) this.set({ provider }, n)
      }
    })
  }
}
