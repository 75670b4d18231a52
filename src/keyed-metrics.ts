/**
 * Histogram and counter families for the hot path. prom-client's `observe(labels, value)` hashes the label object and
 * checks the label names on every call; these look a series up by a key string the caller already has (route and
 * status, provider and outcome), count into plain numbers, and build prom-client's metric object only when Prometheus
 * scrapes (`get()`, read by the registry like any registered metric). Same names, types, labels and buckets as before.
 */
import type { Registry } from 'prom-client'

interface Series {
  labels: Record<string, string>
  /** per bucket (not cumulative), the last slot counts what is above every bound */
  counts: number[]
  sum: number
  count: number
}

interface MetricValue { labels: Record<string, string | number>, value: number, metricName?: string }

abstract class Keyed {
  readonly aggregator = 'sum'
  protected readonly series = new Map<string, Series>()
  abstract readonly type: 'histogram' | 'counter'

  constructor (readonly name: string, readonly help: string, registers: Registry[], protected readonly slots: number) {
    // the registry reads name, help, type, aggregator and get() (its Metric interface), as it does of its own classes
    for (const r of registers) r.registerMetric(this as never)
  }

  /** The series of `key`, made with `labels()` the first time. */
  protected at (key: string, labels: () => Record<string, string>): Series {
    let s = this.series.get(key)
    if (s === undefined) {
      s = { labels: labels(), counts: new Array<number>(this.slots).fill(0), sum: 0, count: 0 }
      this.series.set(key, s)
    }
    return s
  }

  reset (): void { this.series.clear() }

  abstract get (): Promise<{ name: string, help: string, type: string, values: MetricValue[], aggregator: string }>
}

export class KeyedHistogram extends Keyed {
  readonly type = 'histogram'

  constructor (opts: { name: string, help: string, buckets: readonly number[], registers: Registry[] }) {
    super(opts.name, opts.help, opts.registers, opts.buckets.length + 1)
    this.buckets = opts.buckets
  }

  readonly buckets: readonly number[]

  observe (key: string, labels: () => Record<string, string>, value: number): void {
    const s = this.at(key, labels)
    const b = this.buckets
    let i = 0
    while (i < b.length && value > (b[i] as number)) i++
    s.counts[i] = (s.counts[i] as number) + 1
    s.sum += value
    s.count++
  }

  async get (): Promise<{ name: string, help: string, type: string, values: MetricValue[], aggregator: string }> {
    const values: MetricValue[] = []
    for (const s of this.series.values()) {
      let cumulative = 0
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += s.counts[i] as number
        values.push({ labels: { ...s.labels, le: this.buckets[i] as number }, value: cumulative, metricName: `${this.name}_bucket` })
      }
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` })
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` })
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

export class KeyedCounter extends Keyed {
  readonly type = 'counter'

  constructor (opts: { name: string, help: string, registers: Registry[] }) {
    super(opts.name, opts.help, opts.registers, 0)
  }

  inc (key: string, labels: () => Record<string, string>, by = 1): void {
    this.at(key, labels).count += by
  }

  async get (): Promise<{ name: string, help: string, type: string, values: MetricValue[], aggregator: string }> {
    const values = [...this.series.values()].map(s => ({ labels: s.labels, value: s.count }))
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
