/** Detections: what the vendors found on their own, listed with one cursor, and turned into cases. */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../../core/core.js'
import { detectionRoutes } from './routes.js'
import { DetectionService } from './service.js'

export async function detectionsFeature (app: FastifyInstance, { core, gatewaySecret }: { core: Core, gatewaySecret: string }): Promise<void> {
  const detections = new DetectionService(core.providers, core.store, core.writes, gatewaySecret, { clock: core.clock, ...core.lookahead })
  await app.register(detectionRoutes, { detections, idempotency: core.idempotency })
}
