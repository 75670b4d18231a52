/** The reporting feature's Prometheus families, registered on the gateway's registry (src/metrics.ts). */
import { Gauge, Histogram, type Registry } from 'prom-client'
import { METRIC_PREFIX } from '../../metrics.js'

export interface ReportingMetricSources {
  /** open (non-terminal) recorded cases per provider and unified status, read from the shared milestone store */
  openCases: () => Promise<Array<{ provider: string, status: string, count: number }>>
}

export class ReportingMetrics {
  readonly timeToTakedown: Histogram<'provider' | 'target_type'>
  readonly openCases: Gauge<'provider' | 'status'>

  constructor (registry: Registry, sources: ReportingMetricSources) {
    const registers = [registry]
    this.timeToTakedown = new Histogram({
      name: `${METRIC_PREFIX}time_to_takedown_seconds`,
      help: 'Seconds from a case\'s creation to its first taken_down, observed once per case when it first reaches taken_down, by provider and target type',
      labelNames: ['provider', 'target_type'],
      buckets: [300, 900, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400, 172_800, 259_200, 604_800, 1_209_600, 2_592_000],
      registers
    })
    this.openCases = new Gauge({
      name: `${METRIC_PREFIX}open_cases`,
      help: 'Recorded cases in a non-terminal unified status, by provider and status (all replicas: read from the shared milestone store)',
      labelNames: ['provider', 'status'],
      registers,
      async collect () {
        const rows = await sources.openCases()
        this.reset()
        for (const r of rows) this.set({ provider: r.provider, status: r.status }, r.count)
      }
    })
  }
}
