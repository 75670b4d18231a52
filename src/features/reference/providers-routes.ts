import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ProviderListSchema } from '../../schemas/provider-info.js'
import type { ProviderSet } from '../../services/provider-set.js'
import { describeProviders } from '../../services/providers.js'
import type { SharedCache } from '../../store/cached.js'
import type { Watcher } from '../../events/watcher.js'
import { AUTH_PROBLEMS, problems } from '../../routes/responses.js'

export const providerRoutes: FastifyPluginAsyncTypebox<{ providers: ProviderSet, cache: SharedCache | null, watcher: Pick<Watcher, 'status'> }> = async (app, { providers, cache, watcher }) => {
  app.get('/v1/providers', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listProviders',
      tags: ['Providers'],
      summary: 'Providers, their mode, capabilities and health',
      description: 'Each provider with its mode (`live`, `sandbox` or `off`), the capabilities its connector implements, ' +
        'circuit-breaker state, last error, the age of its cached reference data and how the case-events watcher follows it ' +
        '(cadence, open cases, vendor calls per sync).',
      security: [{ bearerAuth: [] }],
      response: { 200: ProviderListSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async () => ({ items: describeProviders(providers, cache, await watcher.status()) }))
}
