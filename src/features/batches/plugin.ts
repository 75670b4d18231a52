/**
 * Bulk submission: a batch's items are worked off on the jobs port (BullMQ with Redis, in process without), started
 * with the events engine; a finished batch is a `batch.completed` event in the log (feed, stream, webhooks).
 */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../../core/core.js'
import type { BatchSettings } from '../../schemas/batch.js'
import { batchRoutes } from './routes.js'
import { batchCompleted, BatchService } from './service.js'

export interface BatchesFeatureOptions {
  core: Core
  settings: BatchSettings
  /** the app exposes the service (tests run an item by hand) */
  expose: (batches: BatchService) => void
}

export async function batchesFeature (app: FastifyInstance, { core, settings, expose }: BatchesFeatureOptions): Promise<void> {
  const { store, writes, events, clock, budgets, epoch } = core
  const batches = new BatchService({
    store,
    writes,
    jobs: events.jobs,
    clock,
    log: app.log,
    settings,
    budgets,
    epoch: () => epoch.current,
    onCompleted: async batch => { await events.service.append(batchCompleted(batch)) }
  })
  batches.defineJobs()
  expose(batches)
  await app.register(batchRoutes, { batches, idempotency: core.idempotency })
}
