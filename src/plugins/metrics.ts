/**
 * `GET /metrics` (Prometheus text, no auth; README 'Operations'). The inbound request histogram is fed by the one
 * onResponse hook in http/server.ts (with the access log line): its route label is the route template (`/v1/cases/:id`),
 * never the raw URL, so case ids and query strings cannot blow up the series count; unmatched requests are `(unmatched)`.
 */
import type { FastifyInstance } from 'fastify'
import type { GatewayMetrics } from '../metrics.js'

export function registerMetrics (app: FastifyInstance, metrics: GatewayMetrics): void {
  app.get('/metrics', {
    schema: { hide: true },
    logLevel: 'warn'
  }, async (_req, reply) => {
    const body = await metrics.text()
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(body)
  })
}
