/**
 * The gateway as a Fastify instance, composed: the HTTP server and what every route shares (src/http/), the shared
 * core built once (src/build-core.ts), then one encapsulated plugin per feature (src/features/<name>/plugin.ts,
 * ADR 0037). server.ts only adds the process around it (listen, signals); tests build it directly and talk to it
 * with inject() or over loopback.
 */
import type { FastifyInstance } from 'fastify'
import { systemClock } from './clock.js'
import type { Config } from './config.js'
import { buildCore, type CoreOptions } from './build-core.js'
import type { EventsEngine } from './events/build.js'
import { batchesFeature } from './features/batches/plugin.js'
import type { BatchService } from './features/batches/service.js'
import { brandProtectionFeature } from './features/brand-protection/plugin.js'
import { casesFeature } from './features/cases/plugin.js'
import { detectionsFeature } from './features/detections/plugin.js'
import { eventsFeature } from './features/events/plugin.js'
import { opsFeature } from './features/ops/plugin.js'
import { referenceFeature } from './features/reference/plugin.js'
import type { MilestoneRecorder } from './features/reporting/milestones.js'
import { reportingFeature } from './features/reporting/plugin.js'
import type { Targets } from './features/targets/build.js'
import { LastProbePort } from './core/last-probe.js'
import type { CaseEnrichmentRecords } from './core/case-enrichment.js'
import { targetsFeature } from './features/targets/plugin.js'
import { verificationFeature } from './features/verification/plugin.js'
import { slaFeature } from './features/sla/plugin.js'
import type { SlaEngine } from './features/sla/engine.js'
import type { SlaStore } from './features/sla/store.js'
import type { VerificationMonitor } from './features/verification/monitor.js'
import type { DnsResolver } from './features/verification/resolver.js'
import type { VerificationStore } from './features/verification/store.js'
import { webhooksFeature, type WebhooksHandle } from './features/webhooks/plugin.js'
import { registerHttp } from './http/plugins.js'
import { createServer, type ServerOptions } from './http/server.js'
import { GatewayMetrics } from './metrics.js'
import type { ProviderSet } from './services/provider-set.js'
import type { Sandbox } from './simulators/sandbox.js'
import type { StoreEpoch } from './store/epoch.js'

export interface AppOptions extends ServerOptions, Partial<CoreOptions> {
  config: Config
  /** tests: the resolver verification probes use (sandbox mode without it: no name resolves) */
  verifyResolver?: DnsResolver
}

/** What the app shows of itself to server.ts, the bench and tests; features never read these (they get the core). */
declare module 'fastify' {
  interface FastifyInstance {
    providers: ProviderSet
    sandbox: Sandbox | null
    /** per (provider, vendor status) count of statuses the tables do not know */
    unknownStatuses: Map<string, number>
    metrics: GatewayMetrics
    /** readiness turns 503 ("shutting down") while the app keeps serving: the first step of a graceful stop */
    beginShutdown: () => void
    events: EventsEngine
    /** the store epoch: notices a Redis that lost its data (ADR 0032) */
    epoch: StoreEpoch
    /** per-case takedown milestones: the case-events engine feeds it (`milestones.record(event)`) */
    milestones: MilestoneRecorder
    batches: BatchService
    webhooks: WebhooksHandle
    /** target intelligence: the index, RDAP enrichment and the registry-hold check for verification */
    targets: Targets
    /** per case, its registrar and hosting network once its RDAP enrichment was known (analytics group by them) */
    caseEnrichment: CaseEnrichmentRecords
    /** verified outcomes: the monitor (tests tick it by hand) and its store */
    verification: { monitor: VerificationMonitor, store: VerificationStore }
    /** service levels: the engine (tests tick replicas by hand) and its store */
    sla: { engine: SlaEngine, store: SlaStore }
  }
}

export async function buildApp (opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts
  const metrics = new GatewayMetrics()
  const app = createServer(opts, metrics)
  const core = await buildCore(app, config, metrics, { ...opts, clock: opts.clock ?? systemClock })
  app.decorate('providers', core.providers)
  app.decorate('sandbox', core.sandbox)
  app.decorate('unknownStatuses', core.unknownStatuses)
  app.decorate('metrics', metrics)
  app.decorate('beginShutdown', core.beginShutdown)
  app.decorate('events', core.events)
  app.decorate('epoch', core.epoch)
  app.decorate('targets', core.targets)
  app.decorate('caseEnrichment', core.caseEnrichment)
  await registerHttp(app, config, core)

  // the order the features register in is the order of the paths in the OpenAPI document
  await app.register(opsFeature, { core })
  await app.register(casesFeature, { core })
  // the lookup's last probe: verification (registered below) fills the port when it is on
  const lastProbe = new LastProbePort()
  await app.register(targetsFeature, { index: core.targets.index, rdap: core.targets.rdap, writes: core.writes, cases: core.cases, events: core.events.service, lastProbe })
  await app.register(referenceFeature, { core, ttlMs: config.referenceTtlMs })
  await app.register(detectionsFeature, { core, gatewaySecret: config.gatewaySecret })
  await app.register(brandProtectionFeature, { core })
  await app.register(reportingFeature, { core, milestoneStore: core.milestoneStore, expose: milestones => { app.decorate('milestones', milestones) } })
  await app.register(eventsFeature, { core, config })
  await app.register(batchesFeature, { core, settings: config.batches, expose: batches => { app.decorate('batches', batches) } })
  await app.register(webhooksFeature, { core, config, expose: handle => { app.decorate('webhooks', handle) } })
  // verified outcomes: the gateway probes targets itself (VERIFY_*; a sandbox probe never leaves the machine)
  await app.register(verificationFeature, {
    ...{ config: config.verify, store: core.verificationStore, jobs: core.events.jobs, clock: core.clock, events: core.events.service, metrics, sandbox: config.sandbox, holdCheck: core.targets.holdCheck, lastProbe },
    reappear: { writes: core.writes, cases: core.cases, idempotency: core.idempotency, routing: config.routing },
    expose: v => { app.decorate('verification', v) },
    ...(opts.verifyResolver === undefined ? {} : { resolver: opts.verifyResolver }),
    // the sandbox's small internet plays the targets (ADR 0044); a live gateway never gets it, even beside simulators
    ...(config.sandbox && core.sandbox?.internet !== undefined ? { internet: core.sandbox.internet, speed: config.events.sandboxSpeed } : {})
  })
  // service levels: timers from the case events, escalation and failover through the write path (SLA_POLICY_FILE)
  await app.register(slaFeature, { core, config, store: core.slaStore, expose: sla => { app.decorate('sla', sla) } })
  return app
}
