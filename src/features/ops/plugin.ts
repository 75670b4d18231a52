/** Operations: `/healthz` and `/readyz` (no auth, no /v1 prefix; `/metrics` is the HTTP layer's). */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../../core/core.js'
import type { ProviderId } from '../../schemas/provider.js'
import { describeOff, type ProviderMode } from '../../services/provider-set.js'
import { opsRoutes } from './routes.js'

export async function opsFeature (app: FastifyInstance, { core }: { core: Core }): Promise<void> {
  const { providers, store, epoch } = core
  await app.register(opsRoutes, {
    providers: () => Object.fromEntries(providers.all().map(e => [e.id, e.mode])) as Record<ProviderId, ProviderMode>,
    configErrors: () => Object.fromEntries(providers.all().flatMap(e => {
      const error = e.configError?.() ?? null
      return error === null ? [] : [[e.id, `${e.id} ${error}`]]
    })),
    readiness: async () => {
      if (core.closing()) return 'shutting down'
      if (providers.active().length === 0) return `no provider is on: ${providers.all().map(describeOff).join(', ')}`
      const storeProblem = await store.health()
      return storeProblem === null ? null : `${storeProblem} (answers still flow from process memory and the vendors)`
    },
    degraded: () => epoch.degraded()
  })
}
