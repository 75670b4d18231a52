/**
 * `GET /metrics` (CONTRACT §4.3: Prometheus text, no auth) and the inbound request histogram. Registered before the
 * routes, so the hook sees every one of them. The route label is the route template (`/v1/cases/:id`), never the
 * raw URL, so case ids and query strings cannot blow up the series count; requests no route matched are `(unmatched)`.
 */
import type { FastifyInstance } from 'fastify'
import type { GatewayMetrics } from '../metrics.js'

export function registerMetrics (app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe({
      method: req.method,
      route: req.routeOptions.url ?? '(unmatched)',
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })

  app.get('/metrics', {
    schema: { hide: true },
    logLevel: 'warn'
  }, async (_req, reply) => {
    const body = await metrics.text()
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(body)
  })
}
