/**
 * Service levels wired into the app (README 'Service levels'): the engine fed by the recorded case events (and by
 * target.verified_down when verification is on), its tick on the jobs port, the timers re-computed at start under
 * the rules in force, the metrics and the routes (the active rules, the compliance report). The `sla` block on cases
 * is read by the core's case view (view.ts) from the same store.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge } from 'prom-client'
import type { Config } from '../../config.js'
import type { Core } from '../../core/core.js'
import { AUTH_PROBLEMS, problems } from '../../routes/responses.js'
import type { ProviderId } from '../../schemas/provider.js'
import { SlaPoliciesSchema, SlaReportQuerySchema, SlaReportSchema } from '../../schemas/sla.js'
import { SlaEngine } from './engine.js'
import { slaReport } from './report.js'
import type { SlaStore } from './store.js'

export const SLA_QUEUE = 'sla-tick'

export interface SlaWiring {
  core: Core
  config: Config
  /** the core's service-level store (features/sla/store.ts: openSlaStore) */
  store: SlaStore
  /** the app exposes the engine (tests tick replicas by hand) */
  expose?: (sla: { engine: SlaEngine, store: SlaStore }) => void
}

export async function slaFeature (app: FastifyInstance, w: SlaWiring): Promise<void> {
  const { core, config, store } = w
  const policy = config.sla.policy
  const registers = [core.metrics.registry]
  const m = {
    steps: new Counter({
      name: 'takedown_gateway_sla_steps_total',
      help: 'Service-level steps recorded (case.sla_warning|sla_breached|escalated|failed_over), by provider, rule and dry run',
      labelNames: ['type', 'provider', 'policy', 'dry_run'],
      registers
    }),
    // read at scrape time (one ZCARD): the steps waiting for their due time, across replicas
    timers: new Gauge({
      name: 'takedown_gateway_sla_timers',
      help: 'Service-level steps scheduled and not yet taken, all replicas',
      registers,
      async collect () {
        try { this.set(await store.size()) } catch { /* a scrape never fails on the store */ }
      }
    })
  }
  const engine = new SlaEngine({
    store,
    policy,
    clock: core.clock,
    verifiedDown: config.verify.enabled,
    append: async input => await core.events.service.append(input),
    writes: { writes: core.writes, cases: core.cases, idempotency: core.idempotency },
    leaseMs: config.sla.leaseMs,
    // the provider's own escalation where its capabilities declare one (the `escalate` action)
    escalates: provider => core.providers.get(provider as ProviderId)?.connector?.capabilities.actions.includes('escalate') ?? false,
    log: app.log,
    onStep: (type, provider, rule, dryRun) => { m.steps.inc({ type, provider, policy: rule, dry_run: String(dryRun) }) }
  })
  w.expose?.({ engine, store })

  if (policy.rules.length > 0) {
    // each recorded change reaches the engine once, in the replica that recorded it
    core.events.service.onRecorded(async event => { await engine.caseEvent(event) })
    core.events.service.onAppended(async event => {
      if (event.type === 'target.verified_down') await engine.verifiedDownAt(event.data.caseId, Date.parse(event.data.verifiedDownAt ?? event.occurredAt))
    })
    core.events.jobs.define(SLA_QUEUE, async () => { await engine.tick() }, { attempts: 1 })
    app.addHook('onReady', async () => {
      await core.events.jobs.schedule(SLA_QUEUE, config.sla.tickMs, SLA_QUEUE, {})
      // the rules may have changed since the timers were set: re-time the tracked cases (in the background)
      engine.resync().then(
        n => { app.log.info({ cases: n, rules: policy.rules.length, origin: policy.origin }, 'sla: timers re-computed under the rules in force') },
        (err: unknown) => { app.log.warn({ err: (err as Error).message }, 'sla: the timers could not be re-computed at start; each case is re-timed at its next change') })
    })
  }
  await app.register(slaRoutes, { engine, store })
}

const slaRoutes: FastifyPluginAsyncTypebox<{ engine: SlaEngine, store: SlaStore }> = async (app, { engine, store }) => {
  app.get('/v1/sla/policies', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listSlaPolicies',
      tags: ['Service levels'],
      summary: 'The service-level rules in force, in the order they are matched',
      description: 'The rules of SLA_POLICY_FILE (the sandbox default in sandbox mode without it). A case falls under the first rule that matches it; ' +
        'durations are ISO 8601 calendar time (no business hours). `downMilestone` says what counts as down: `verified_down` with VERIFY_ENABLED, else the vendor\'s taken_down or mitigated.',
      security: [{ bearerAuth: [] }],
      response: { 200: SlaPoliciesSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async () => ({
    origin: engine.policy.origin,
    downMilestone: engine.verifiedDown ? 'verified_down' as const : 'vendor_status' as const,
    rules: engine.policy.rules.map((r, i) => ({ id: r.id, order: i + 1, rule: r.source }))
  }))

  app.get('/v1/analytics/sla', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getSlaCompliance',
      tags: ['Service levels'],
      summary: 'Service-level compliance per provider, target type and rule over a window',
      description: 'The cases created in [`since`, `until`) that a rule matches, each evaluated now: counts of met, breached, at_risk and on_track, and the ' +
        'compliance rate met ÷ (met + breached) (null when no case has an outcome yet). Default window: the 30 days before `until` (default now). ' +
        'A case the gateway never saw created (before SLA_POLICY_FILE, or while the event store was down) is not counted.',
      security: [{ bearerAuth: [] }],
      querystring: SlaReportQuerySchema,
      response: { 200: SlaReportSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async (req) => await slaReport(store, engine.policy, engine.now(), req.query))
}
