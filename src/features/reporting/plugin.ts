/**
 * Reporting: the per-case takedown milestones (fed once by each event this replica records), the analytics over
 * them, the CSV/NDJSON exports, the backfill, and their metrics. In sandbox mode the seeded cases are backfilled at
 * start, so the analytics show real figures from the first minute.
 */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../../core/core.js'
import { Cancellation } from '../../connectors/deadline.js'
import { isTerminal, UNIFIED_STATUSES } from '../../schemas/unified-status.js'
import { backfillMilestones } from './backfill.js'
import { exportPace } from './export.js'
import { ReportingMetrics } from './metrics.js'
import { MilestoneRecorder } from './milestones.js'
import { TakedownAnalytics } from './report.js'
import { reportingRoutes } from './routes.js'
import type { MilestoneStore } from './store.js'

export async function reportingFeature (app: FastifyInstance, { core, milestoneStore, expose }: {
  core: Core
  /** opened by the core (Redis when there is one): measured routing reads the same rows */
  milestoneStore: MilestoneStore
  expose: (milestones: MilestoneRecorder) => void
}): Promise<void> {
  const { clock, cases, events } = core
  const analytics = new TakedownAnalytics(milestoneStore, clock, core.caseEnrichment)
  const metrics = new ReportingMetrics(core.metrics.registry, {
    openCases: async () => {
      try {
        const report = await analytics.report({ groupBy: 'provider' })
        return report.groups.flatMap(g => UNIFIED_STATUSES
          .filter(status => !isTerminal(status))
          .map(status => ({ provider: g.key.provider ?? '', status, count: (g.statuses as Record<string, number>)[status] ?? 0 })))
      } catch (err) {
        app.log.warn({ err }, 'open-cases gauge: the milestone store did not answer')
        return []
      }
    }
  })
  const milestones = new MilestoneRecorder(milestoneStore, {
    onTakenDown: ({ provider, targetType, seconds }) => { metrics.timeToTakedown.observe({ provider, target_type: targetType }, seconds) }
  })
  expose(milestones)
  // each event feeds the milestones once, in the replica that recorded it
  events.service.onRecorded(event => milestones.record(event))
  await app.register(reportingRoutes, { analytics, recorder: milestones, cases, events: events.service, clock, exportPace: exportPace(core.budgets) })
  if (core.ownSandbox) {
    // `npm start` in sandbox mode: the seeded cases give the analytics real figures from the first minute
    const stop = new Cancellation()
    app.addHook('onReady', (done) => {
      backfillMilestones({ cases, recorder: milestones, clock }, stop, app.log).then(
        result => { app.log.info(result, 'sandbox: takedown milestones backfilled from the simulators') },
        err => { if (!stop.aborted) app.log.warn({ err }, 'sandbox: the milestones backfill failed') })
      done()
    })
    app.addHook('onClose', (_app, done) => { stop.abort(new Error('closing')); done() })
  }
}
