import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { PROVIDER_IDS, type ProviderId } from '../../schemas/provider.js'
import type { ProviderMode } from '../../services/provider-set.js'

export interface OpsRoutesOptions {
  /** returns null when ready, else the reason */
  readiness: () => Promise<string | null>
  /** null, or why the gateway serves but is degraded (a recent Redis data loss): /readyz stays 200 and says so */
  degraded: () => string | null
  /** each provider's mode (live, sandbox, off) */
  providers: () => Record<ProviderId, ProviderMode>
  /** configuration errors the providers' calls revealed, by provider (none: empty) */
  configErrors: () => Partial<Record<ProviderId, string>>
}

const ProviderModeSchema = Type.Enum(['live', 'sandbox', 'off'])

const HealthSchema = Type.Object({ status: Type.Literal('ok') }, { $id: 'Health', examples: [{ status: 'ok' }] })
const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('degraded'), Type.Literal('not_ready')], {
    description: '`degraded` (still 200): Redis lost its data recently (STORE_LOSS_DEGRADED_MS); the gateway healed what it could and serves'
  }),
  reason: Type.Optional(Type.String({ description: 'Why the gateway is not ready, or degraded' })),
  providers: Type.Object(Object.fromEntries(PROVIDER_IDS.map(id => [id, ProviderModeSchema])), {
    additionalProperties: false,
    description: 'Each provider\'s mode: `live`, `sandbox` (built-in simulator) or `off` (no credentials; see GET /v1/providers)'
  }),
  configErrors: Type.Optional(Type.Object(Object.fromEntries(PROVIDER_IDS.map(id => [id, Type.Optional(Type.String())])), {
    additionalProperties: false,
    description: 'Providers whose calls show a configuration error (their list route answers 404: a wrong base URL), with what to check. ' +
      'The gateway stays ready: listings serve the other providers and name these in `errors`'
  }))
}, {
  $id: 'Readiness',
  examples: [
    { status: 'ready', providers: Object.fromEntries(PROVIDER_IDS.map((id, i) => [id, i === PROVIDER_IDS.length - 1 ? 'off' : 'live'])) },
    { status: 'not_ready', reason: 'shutting down', providers: Object.fromEntries(PROVIDER_IDS.map(id => [id, 'live'])) }
  ]
})

/** Operational routes: no auth, no /v1 prefix (README 'Operations'). */
export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (app, { readiness, degraded, providers, configErrors }) => {
  app.get('/healthz', {
    schema: {
      operationId: 'health',
      tags: ['Operations'],
      summary: 'The process is up',
      description: 'Liveness: 200 while the process serves HTTP, whatever its dependencies do (see /readyz). Never shed under load. No auth.',
      security: [],
      response: { 200: HealthSchema }
    },
    logLevel: 'warn'
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      operationId: 'ready',
      tags: ['Operations'],
      summary: 'Dependencies are ready',
      description: 'Readiness: 200 when the gateway should get traffic (`degraded` with the reason for a while after Redis lost its data); 503 with the reason while a dependency (Redis, start-up) is not ready, ' +
        'no provider is on (no credentials and not in sandbox mode) or the gateway is shutting down. `providers` gives each provider\'s mode. No auth.',
      security: [],
      response: { 200: ReadySchema, 503: ReadySchema }
    },
    logLevel: 'warn'
  }, async (_req, reply) => {
    const reason = await readiness()
    const errors = configErrors()
    const shown = { providers: providers(), ...(Object.keys(errors).length === 0 ? {} : { configErrors: errors }) }
    if (reason === null) {
      const why = degraded()
      return why === null ? { status: 'ready' as const, ...shown } : { status: 'degraded' as const, reason: why, ...shown }
    }
    // a probe or a load balancer that honours it asks again in a second rather than at once
    return reply.code(503).header('retry-after', '1').send({ status: 'not_ready' as const, reason, ...shown })
  })
}
