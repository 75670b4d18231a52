/** Reference data (statuses, brands, kinds: cached in the shared store) and `GET /v1/providers`. */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../../core/core.js'
import { providerRoutes } from './providers-routes.js'
import { referenceRoutes } from './routes.js'
import { ReferenceService } from './service.js'

export async function referenceFeature (app: FastifyInstance, { core, ttlMs }: { core: Core, ttlMs: number }): Promise<void> {
  await app.register(referenceRoutes, { reference: new ReferenceService(core.providers, core.referenceCache, ttlMs) })
  await app.register(providerRoutes, { providers: core.providers, cache: core.referenceCache, watcher: core.events.watcher })
}
