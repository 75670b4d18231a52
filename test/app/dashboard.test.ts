/**
 * The Grafana dashboard of docker/ against the real GET /metrics: every panel queries at least one metric, and every
 * metric a query names is one the gateway exports (its families read from the `# TYPE` lines of a scrape, so a
 * histogram without observations yet still counts). The compose wiring: Prometheus scrapes both replicas, Grafana
 * provisions the dashboard and a datasource with the uid the panels use.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testGateway, type TestGateway } from '../support/app.js'

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'by', 'without', 'rate', 'increase', 'histogram_quantile', 'le', 'provider', 'outcome',
  'status', 'status_code', 'type', 'and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'count'])

interface Panel { title: string, datasource: { uid: string }, targets: Array<{ expr: string, datasource: { uid: string } }> }

let gw: TestGateway
let exported: Set<string>

beforeAll(async () => {
  gw = await testGateway()
  const text = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
  exported = new Set()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name! + suffix)
    exported.add(name!)
  }
})
afterAll(async () => { await gw?.close() })

/** the metric names in a PromQL expression: identifiers outside label matchers, ranges and strings that are not PromQL words */
function metricsIn (expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').replace(/"[^"]*"/g, '')
  return [...bare.matchAll(/[a-zA-Z_:][\w:]*/g)].map(m => m[0]).filter(w => !PROMQL_WORDS.has(w) && !/^\d/.test(w))
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(read('docker/grafana/dashboards/takedown-gateway.json')) as { uid: string, panels: Panel[] }

  it('queries only metrics the gateway exports, in every panel', () => {
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8)
    const named = new Set<string>()
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0)
      for (const target of panel.targets) {
        const metrics = metricsIn(target.expr)
        expect(metrics.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0)
        for (const m of metrics) {
          named.add(m)
          expect(exported.has(m), `${panel.title}: ${m} is not in GET /metrics`).toBe(true)
        }
      }
    }
    // the panels the dashboard promises: vendor latency and errors, circuits, budget, time to takedown, open cases, events, webhooks, service levels
    for (const m of ['takedown_gateway_upstream_request_duration_seconds_bucket', 'takedown_gateway_upstream_requests_total', 'takedown_gateway_circuit_state',
      'takedown_gateway_outbound_budget_remaining', 'takedown_gateway_time_to_takedown_seconds_bucket', 'takedown_gateway_open_cases',
      'takedown_gateway_events_total', 'takedown_gateway_webhook_deliveries_total', 'takedown_gateway_sla_steps_total', 'takedown_gateway_sla_timers',
      // verified outcomes: verified time to takedown, live time after report, re-emergence and dispute rates
      'takedown_gateway_verified_time_to_takedown_seconds_bucket', 'takedown_gateway_live_after_report_seconds_bucket',
      'takedown_gateway_verification_events_total', 'takedown_gateway_verification_vendor_claims_total']) {
      expect(named.has(m), m).toBe(true)
    }
  })

  it('takes max, not sum, of gauges every replica reads from the shared store', () => {
    const exprs = dashboard.panels.flatMap(p => p.targets.map(t => t.expr))
    for (const shared of ['takedown_gateway_open_cases', 'takedown_gateway_outbound_budget_remaining']) {
      const uses = exprs.filter(e => e.includes(shared))
      expect(uses.length, shared).toBeGreaterThan(0)
      for (const e of uses) expect(e, shared).toMatch(/^(max|min) by/)
    }
  })

  it('is provisioned by the compose file with a Prometheus that scrapes both replicas', () => {
    const compose = read('docker-compose.yml')
    expect(compose).toMatch(/^ {2}prometheus:\n/m)
    expect(compose).toMatch(/^ {2}grafana:\n/m)
    expect(compose).toContain('./docker/grafana/dashboards:/var/lib/grafana/dashboards:ro')
    expect(compose).toContain('./docker/grafana/provisioning:/etc/grafana/provisioning:ro')
    expect(compose).toContain('./docker/prometheus.yml:/etc/prometheus/prometheus.yml:ro')
    expect(compose).toContain('./docker/grafana/grafana.ini:/etc/grafana/grafana.ini:ro')
    const replicas = [...compose.matchAll(/^ {2}(gateway-\d+): \*gateway$/gm)].map(m => m[1])
    expect(replicas).toEqual(['gateway-1', 'gateway-2'])
    const port = /PORT: "(\d+)"/.exec(compose)?.[1]
    const prometheus = read('docker/prometheus.yml')
    expect(prometheus).toContain('metrics_path: /metrics')
    for (const r of replicas) expect(prometheus).toContain(`"${r}:${port}"`)
    const datasource = read('docker/grafana/provisioning/datasources/prometheus.yml')
    const uid = /uid: (\S+)/.exec(datasource)?.[1]
    expect(datasource).toContain('url: http://prometheus:9090')
    for (const p of dashboard.panels) {
      expect(p.datasource.uid, p.title).toBe(uid)
      for (const t of p.targets) expect(t.datasource.uid, p.title).toBe(uid)
    }
    expect(read('docker/grafana/provisioning/dashboards/takedown-gateway.yml')).toContain('path: /var/lib/grafana/dashboards')
  })
})
