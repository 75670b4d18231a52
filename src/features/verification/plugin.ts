/**
 * Verified outcomes wired into the app: the store (built with the core, which also reads it for the cases' verification block), the monitor, its
 * tick on the jobs port (one run per tick across replicas, each run takes this replica's budget), the case-events
 * subscription (case.created → baseline, case.status_changed → confirmation) and the routes.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../../clock.js'
import { ConfigError, type VerifyConfig } from '../../config.js'
import { GatewayError } from '../../domain/problems.js'
import type { JobRunner } from '../../jobs/port.js'
import type { LastProbePort } from '../../core/last-probe.js'
import type { GatewayMetrics } from '../../metrics.js'
import { Counter, Histogram } from 'prom-client'
import { AUTH_PROBLEMS, CaseIdParamsSchema, problems } from '../../routes/responses.js'
import type { AppendInput, CaseEvent, TargetEventData } from '../../schemas/event.js'
import { loadSignatures } from './classify.js'
import type { TargetEvent, Verification } from './lifecycle.js'
import { VerificationMonitor } from './monitor.js'
import { probeTarget, type ProbeRoute } from './probe.js'
import { commentReappeared, resubmit, type ReappearDeps } from './reappear.js'
import { dnsResolver, type DnsResolver } from './resolver.js'
import { verificationReport } from './analytics.js'
import { CheckAcceptedSchema, CheckPageSchema, CheckSchema, ChecksQuerySchema, VerificationAnalyticsQuerySchema, VerificationReportSchema } from './schema.js'
import { verificationView } from './view.js'
import type { VerificationStore } from './store.js'

export const VERIFY_QUEUE = 'verify-tick'

export interface VerificationWiring {
  config: VerifyConfig
  /** the core's verification store (features/verification/store.ts: openVerificationStore) */
  store: VerificationStore
  jobs: JobRunner
  clock: Clock
  events: { onRecorded: (fn: (event: CaseEvent) => Promise<unknown>) => void, append: (input: AppendInput) => Promise<unknown> }
  metrics: GatewayMetrics
  /** sandbox mode: probes reach loopback only, and without a sandbox resolver every name is NXDOMAIN */
  sandbox: boolean
  /** tests: their resolver */
  resolver?: DnsResolver
  /**
   * the sandbox's small internet (simulators/targets/, ADR 0044): its resolver, and the route of every probe hop to
   * its loopback servers; refused outside sandbox mode
   */
  internet?: { resolver: DnsResolver, route: ProbeRoute }
  /** the sandbox's SANDBOX_SPEED: the lifecycle's waits, the tick and the budgets' minute are that many times shorter */
  speed?: number
  /** a registry hold (RDAP `clientHold`/`serverHold`) counts as down: target intelligence's check, when it is on */
  holdCheck?: (host: string) => Promise<boolean | null>
  /** the target lookup's last probe: filled from the probe history when verification is on */
  lastProbe?: LastProbePort
  /** `VERIFY_ON_REAPPEAR` resubmit/reopen: the write path `POST /v1/cases` uses, the case reads and idempotency */
  reappear?: Omit<ReappearDeps, 'log'>
  /** the app exposes the monitor and the store (tests tick replicas by hand) */
  expose?: (v: { monitor: VerificationMonitor, store: VerificationStore }) => void
}

/** The sandbox's resolver when none is given: no name resolves, so no probe asks the system resolver or leaves the machine. */
const CLOSED_INTERNET: DnsResolver = {
  resolve4: async () => { throw Object.assign(new Error('sandbox: no such host'), { code: 'ENOTFOUND' }) },
  resolve6: async () => { throw Object.assign(new Error('sandbox: no such host'), { code: 'ENOTFOUND' }) },
  resolveCname: async () => { throw Object.assign(new Error('sandbox: no such host'), { code: 'ENODATA' }) }
}

const iso = (t: number | null): string | null => t === null ? null : new Date(t).toISOString()

/** the facts of a step for its event: the state, the reason, the times and the vendor's claim; never the page */
export function targetEventData (v: Verification, e: TargetEvent): TargetEventData {
  return {
    caseId: v.caseId,
    provider: v.provider,
    // the record holds the case's target as the event gave it (with its host parts): the event names type and value
    target: { type: v.target.type, value: v.target.value },
    state: e.type.slice('target.'.length) as TargetEventData['state'],
    reason: e.reason,
    probedAt: new Date(e.at).toISOString(),
    verifiedDownAt: iso(v.verifiedDownAt),
    providerStatus: v.vendorStatus ?? null,
    relatedCaseIds: v.relatedCaseIds ?? []
  }
}

/** how long POST /checks waits for the probe before answering 202 */
const SHORT_WAIT_MS = 2_000
/** one probe on demand per case per minute */
const PROBE_NOW_EVERY_MS = 60_000

const DAYS_BUCKETS = [300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 345_600, 604_800, 1_209_600]

function verificationMetrics (metrics: GatewayMetrics): { probes: Histogram, events: Counter, claims: Counter, verifiedTtd: Histogram, liveAfterReport: Histogram } {
  const registers = [metrics.registry]
  return {
    probes: new Histogram({
      name: 'takedown_gateway_verification_probe_duration_seconds',
      help: 'Probes of targets by this replica, by outcome (live|down|blocked|unknown|unprobeable)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers
    }),
    events: new Counter({
      name: 'takedown_gateway_verification_events_total',
      help: 'Verification events (target.verified_down|reappeared|disputed|stayed_down), by provider',
      labelNames: ['type', 'provider'],
      registers
    }),
    claims: new Counter({
      name: 'takedown_gateway_verification_vendor_claims_total',
      help: 'Cases a vendor first said mitigated or taken_down, once per case (the dispute rate: target.disputed events divided by these)',
      labelNames: ['provider', 'target_type'],
      registers
    }),
    verifiedTtd: new Histogram({
      name: 'takedown_gateway_verified_time_to_takedown_seconds',
      help: 'Case created to its first verifiedDownAt (the gateway\'s own probes confirmed it down), observed once per case',
      labelNames: ['provider', 'target_type'],
      buckets: DAYS_BUCKETS,
      registers
    }),
    liveAfterReport: new Histogram({
      name: 'takedown_gateway_live_after_report_seconds',
      help: 'Case created to the first down probe, observed when the takedown is verified',
      labelNames: ['provider', 'target_type'],
      buckets: DAYS_BUCKETS,
      registers
    })
  }
}

export async function verificationFeature (app: FastifyInstance, w: VerificationWiring): Promise<void> {
  const c = w.config
  const { signatures, errors } = loadSignatures(c.signaturesFile)
  if (errors.length > 0) throw new ConfigError(errors)
  const store = w.store
  if (w.internet !== undefined && !w.sandbox) throw new Error('the small internet is the sandbox\'s: a live gateway probes real sites')
  const resolver = w.resolver ?? w.internet?.resolver ?? (w.sandbox ? CLOSED_INTERNET : dnsResolver(c.dnsServers))
  const route = w.resolver === undefined && w.sandbox ? w.internet?.route : undefined
  // speed shortens waits, never time (ADR 0035): only a sandbox runs faster
  const speed = w.sandbox ? Math.max(1, w.speed ?? 1) : 1
  const m = verificationMetrics(w.metrics)
  const reappear: ReappearDeps | undefined = w.reappear === undefined ? undefined : { ...w.reappear, log: app.log }
  /** a re-emergence policy that failed is logged (the tick that ran it only counts its probes) */
  const noted = async <T>(v: Verification, policy: string, work: Promise<T>): Promise<T> => await work.catch((err: unknown) => {
    app.log.warn({ caseId: v.caseId, policy, err: (err as Error).message }, 'verification: the re-emergence policy failed')
    throw err
  })
  const monitor = new VerificationMonitor({
    store,
    clock: w.clock,
    signatures,
    lifecycle: { confirmProbes: c.confirmProbes, confirmSpacingMs: c.confirmSpacingMs, monitorDays: c.monitorDays, openEveryMs: c.openIntervalMs, speed },
    probe: async (type, value) => await probeTarget(type, value, {
      resolver,
      allowLoopback: w.sandbox,
      loopbackOnly: w.sandbox,
      ...(route === undefined ? {} : { route }),
      timeoutMs: c.timeoutMs,
      maxBytes: 256 * 1024,
      userAgent: c.userAgent,
      proxyUrl: w.sandbox ? null : c.proxyUrl,
      now: () => w.clock.now()
    }),
    // a sandbox minute is `speed` times shorter: so many more probes fit in a wall-clock minute
    perMinute: c.probesPerMinute * speed,
    perHostPerMinute: c.hostProbesPerMinute * speed,
    onReappear: c.onReappear,
    ...(w.holdCheck === undefined ? {} : { holdCheck: w.holdCheck }),
    ...(reappear === undefined
      ? {}
      : {
          resubmit: async v => {
            app.log.info({ caseId: v.caseId, reappearances: v.reappearances }, 'verification: resubmitting a re-emerged target')
            return await noted(v, 'resubmit', resubmit(reappear, v))
          },
          reopen: async v => { await noted(v, 'reopen', commentReappeared(reappear, v)) }
        }),
    // a replica that died while acting on a re-emergence leaves it to another after two ticks
    actLeaseMs: Math.max(5_000, 2 * c.tickMs),
    onFirstClaim: v => { m.claims.inc({ provider: v.provider, target_type: v.target.type }) },
    onProbe: (_v, verdict, ms) => { m.probes.observe({ outcome: verdict.outcome }, ms / 1000) },
    emit: async (v, e) => {
      const labels = { provider: v.provider, target_type: v.target.type }
      m.events.inc({ type: e.type, provider: v.provider })
      // once per case, at its first verification (the analytics' verified time to takedown; a re-verification after a re-emergence is not a second takedown)
      if (e.type === 'target.verified_down' && (v.firstVerifiedDownAt ?? e.at) === e.at) {
        m.verifiedTtd.observe(labels, Math.max(0, e.at - v.reportedAt) / 1000)
        if (v.firstDownAt !== null) m.liveAfterReport.observe(labels, Math.max(0, v.firstDownAt - v.reportedAt) / 1000)
      }
      app.log.info({ caseId: v.caseId, event: e.type, reason: e.reason, provider: v.provider }, `verification: ${e.type}`)
      // the monitor calls this from the replica whose write won; the key also makes a retried step record nothing
      await w.events.append({ type: e.type, data: targetEventData(v, e), key: `${e.type}:${v.caseId}:${e.at}`, occurredAt: new Date(e.at).toISOString() })
    }
  })
  w.expose?.({ monitor, store })

  if (c.enabled) {
    w.events.onRecorded(async event => {
      if (event.type === 'case.created') await monitor.track(event.case)
      else if (event.type === 'case.status_changed' || event.type === 'case.reopened') {
        if (await store.get(event.case.id) === null) await monitor.track(event.case)
        await monitor.vendorStatus(event.case.id, event.case.status)
      }
    })
    w.lastProbe?.provide(async caseId => {
      const [check] = (await store.checks(caseId, 0, 1)).items
      return check === undefined ? null : { caseId, at: check.at, outcome: check.outcome, reason: check.reason, url: check.url, finalStatus: check.finalStatus, title: check.title }
    })
    w.jobs.define(VERIFY_QUEUE, async () => { await monitor.tick() }, { attempts: 1 })
    app.addHook('onReady', async () => { await w.jobs.schedule('verify-tick', Math.max(Math.min(c.tickMs, 1000), Math.round(c.tickMs / speed)), VERIFY_QUEUE, {}) })
  }

  const routes = app.withTypeProvider<TypeBoxTypeProvider>()
  routes.get('/v1/analytics/verification', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getVerificationAnalytics',
      tags: ['Reporting'],
      summary: 'Verified time to takedown, live time after report, re-emergence and dispute rates per provider, target type or month',
      description: 'What the gateway\'s own probes saw, beside the vendor-reported figures of `GET /v1/analytics/takedowns` (same `from`/`to`, `provider`, ' +
        '`targetType` and `groupBy` conventions; `groupBy` takes `provider`, `targetType`, `month`). Over the cases the gateway verifies (VERIFY_ENABLED), ' +
        'selected by creation time: verified time to takedown (created → first `verifiedDownAt`), live time after report (created → first down or blocked probe), ' +
        'the re-emergence rate (verified-down cases seen live again within the monitoring window) and the dispute rate (cases the vendor said mitigated or ' +
        'taken_down whose confirmation run saw the page live throughout). Durations are seconds; median and p90 exact over the cases (PERCENTILE.INC), never bucketed. ' +
        'With Redis configured and unreachable the answer is a 503 problem.',
      security: [{ bearerAuth: [] }],
      querystring: VerificationAnalyticsQuerySchema,
      response: { 200: VerificationReportSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async (req) => await verificationReport(store, w.clock, req.query))

  routes.get('/v1/cases/:id/checks', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listCaseChecks',
      tags: ['Cases'],
      summary: 'The probe history of a case, newest first',
      description: 'What the gateway\'s own probes of the target saw (DNS, redirects, status, TLS, page digest and title; never the page itself), ' +
        'with the case\'s verification state: the newest VERIFY_HISTORY_LIMIT checks, kept VERIFY_RETENTION_DAYS after the case\'s verification ends. ' +
        '`not_checked` with no items for a case the gateway has not probed (or whose retention passed).',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      querystring: ChecksQuerySchema,
      response: { 200: CheckPageSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async (req) => {
    const limit = req.query.limit ?? 20
    const offset = req.query.offset ?? 0
    const [v, page] = await Promise.all([store.get(req.params.id), store.checks(req.params.id, offset, limit)])
    return { verification: verificationView(v), items: page.items, total: page.total, nextOffset: offset + page.items.length < page.total ? offset + page.items.length : null }
  })

  routes.post('/v1/cases/:id/checks', {
    config: { scope: 'write' },
    schema: {
      operationId: 'probeCase',
      tags: ['Cases'],
      summary: 'Probe the case\'s target now',
      description: `The result when the probe finishes within ${SHORT_WAIT_MS / 1000} s, else 202 with the history's location. One probe on demand per case per minute (429). ` +
        '404 for a case the gateway does not verify (created before VERIFY_ENABLED, or verification off).',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      response: { 200: CheckSchema, 202: CheckAcceptedSchema, ...problems(...AUTH_PROBLEMS, 404) }
    }
  }, async (req, reply) => {
    const id = req.params.id
    if (await store.get(id) === null) throw new GatewayError('GW_ERR_NOT_FOUND', `The gateway does not verify case ${id}`)
    if (!await store.claim(`now:${id}:${Math.floor(w.clock.now() / PROBE_NOW_EVERY_MS)}`, PROBE_NOW_EVERY_MS)) {
      throw new GatewayError('GW_ERR_RATE_LIMITED', 'One probe on demand per case per minute', { retryAfter: 60 })
    }
    const location = `/v1/cases/${encodeURIComponent(id)}/checks`
    const probe = monitor.probeNow(id)
    probe.catch((err: unknown) => { req.log.warn({ err }, 'verification: an on-demand probe failed') })
    let timer: NodeJS.Timeout | undefined
    const waited = await Promise.race([probe, new Promise<'later'>(resolve => { timer = setTimeout(() => { resolve('later') }, SHORT_WAIT_MS) })])
    clearTimeout(timer)
    if (waited === 'later' || waited === null) return await reply.code(202).header('location', location).send({ location })
    return waited
  })
}
