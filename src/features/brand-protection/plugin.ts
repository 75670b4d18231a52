/** Brand protection: the vendors' brand monitors (the management APIs a provider module declares). */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../../core/core.js'
import { brandProtectionRoutes } from './routes.js'
import { BrandProtectionService } from './service.js'

export async function brandProtectionFeature (app: FastifyInstance, { core }: { core: Core }): Promise<void> {
  await app.register(brandProtectionRoutes, { brand: new BrandProtectionService(core.providers), idempotency: core.idempotency })
}
