/**
 * Events: the feed and the live stream over the event log, and the vendors' inbound webhooks. The engine they read
 * (the log, the watcher, the jobs runner) is core: the case reads and writes, batches and webhooks use it too.
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.js'
import type { Core } from '../../core/core.js'
import { inboundRoutes } from './inbound-routes.js'
import { eventRoutes } from './routes.js'

export async function eventsFeature (app: FastifyInstance, { core, config }: { core: Core, config: Config }): Promise<void> {
  await app.register(eventRoutes, { events: core.events.service, heartbeatMs: config.events.streamHeartbeatMs })
  await app.register(inboundRoutes, { events: core.events, store: core.store, config, providers: core.providers, clock: core.clock })
}
