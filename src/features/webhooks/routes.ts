import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { ApiKey } from '../../config.js'
import { GatewayError } from '../../domain/problems.js'
import {
  CreateWebhookEndpointSchema, DeliveriesQuerySchema, DeliveryAttemptSchema, DeliveryListSchema, DeliveryParamsSchema, RecoverResultSchema, RecoverSchema,
  RotateSecretSchema, UpdateWebhookEndpointSchema, WebhookEndpointListSchema, WebhookEndpointParamsSchema, WebhookEndpointSchema, WebhookEndpointWithSecretSchema
} from '../../schemas/webhook.js'
import type { WebhookFanout } from './fanout.js'
import type { WebhookDelivery } from './delivery.js'
import type { Caller, WebhookEndpoints } from './endpoints.js'
import { AUTH_PROBLEMS, problems } from '../../routes/responses.js'

export interface WebhookRoutesOptions {
  endpoints: WebhookEndpoints
  delivery: WebhookDelivery
  /** null while no event log is wired: recover answers 503 */
  fanout: () => WebhookFanout | null
  apiKeys: readonly ApiKey[]
  /** how far back the event log reaches */
  retentionMs: number
  now: () => number
}

const TAGS = ['Webhooks']
const SECURITY = [{ bearerAuth: [] }]
const ONE = [...AUTH_PROBLEMS, 404] as const
const RECOVER_MAX = 100_000

export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, { endpoints, delivery, fanout, apiKeys, retentionMs, now }) => {
  const admins = new Set(apiKeys.filter(k => k.scopes.has('admin')).map(k => k.name))
  const caller = (req: FastifyRequest): Caller => ({ name: req.client ?? '', admin: admins.has(req.client ?? '') })

  app.post('/v1/webhook-endpoints', {
    config: { scope: 'write' },
    schema: {
      operationId: 'createWebhookEndpoint',
      tags: TAGS,
      summary: 'Register a webhook endpoint',
      description: 'Case events matching `eventTypes` and `filter` are POSTed to `url`, signed to the Standard Webhooks specification ' +
        '(`webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once, with retries (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). ' +
        'Order is not guaranteed, not even per case (a retried event does not hold back later ones): every case event carries `epoch` and `sequence` to reorder by. ' +
        'The answer carries the signing `secret`, shown only this once. The endpoint belongs to the calling key; `admin` keys see every endpoint. ' +
        'A URL whose host is a loopback, private, link-local, CGNAT, multicast, unspecified or metadata address is refused with 422 (host names are checked when delivering).',
      security: SECURITY,
      body: CreateWebhookEndpointSchema,
      response: { 201: WebhookEndpointWithSecretSchema, ...problems(...AUTH_PROBLEMS, 422) }
    }
  }, async (req, reply) => {
    const created = await endpoints.create(caller(req), req.body)
    return reply.code(201).header('location', `/v1/webhook-endpoints/${created.id}`).send(created)
  })

  app.get('/v1/webhook-endpoints', {
    config: { scope: 'write' },
    schema: {
      operationId: 'listWebhookEndpoints',
      tags: TAGS,
      summary: 'Webhook endpoints of the calling key (all of them for admin keys)',
      description: 'Oldest first. Secrets are never listed.',
      security: SECURITY,
      response: { 200: WebhookEndpointListSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async (req) => ({ items: await endpoints.list(caller(req)) }))

  app.get('/v1/webhook-endpoints/:id', {
    config: { scope: 'write' },
    schema: {
      operationId: 'getWebhookEndpoint',
      tags: TAGS,
      summary: 'One webhook endpoint (never its secret)',
      description: 'Another key\'s endpoint is a 404, as if it did not exist (admin keys see every endpoint).',
      security: SECURITY,
      params: WebhookEndpointParamsSchema,
      response: { 200: WebhookEndpointSchema, ...problems(...ONE) }
    }
  }, async (req) => await endpoints.get(caller(req), req.params.id))

  app.patch('/v1/webhook-endpoints/:id', {
    config: { scope: 'write' },
    schema: {
      operationId: 'updateWebhookEndpoint',
      tags: TAGS,
      summary: 'Change a webhook endpoint',
      description: 'Only the fields given change. A new `url` is checked like at registration. `enabled: true` re-enables an endpoint the gateway disabled ' +
        '(410 Gone, or failing for WEBHOOK_DISABLE_AFTER_MS); events recorded meanwhile are not sent unless you `recover` them.',
      security: SECURITY,
      params: WebhookEndpointParamsSchema,
      body: UpdateWebhookEndpointSchema,
      response: { 200: WebhookEndpointSchema, ...problems(...ONE, 422) }
    }
  }, async (req) => await endpoints.update(caller(req), req.params.id, req.body))

  app.delete('/v1/webhook-endpoints/:id', {
    config: { scope: 'write' },
    schema: {
      operationId: 'deleteWebhookEndpoint',
      tags: TAGS,
      summary: 'Delete a webhook endpoint',
      description: 'Queued deliveries to it are dropped when they come up; its deliveries log goes with it.',
      security: SECURITY,
      params: WebhookEndpointParamsSchema,
      response: { 204: Type.Null({ description: 'Deleted' }), ...problems(...ONE) }
    }
  }, async (req, reply) => {
    await endpoints.remove(caller(req), req.params.id)
    return await reply.code(204).send(null)
  })

  app.post('/v1/webhook-endpoints/:id/rotate-secret', {
    config: { scope: 'write' },
    schema: {
      operationId: 'rotateWebhookSecret',
      tags: TAGS,
      summary: 'Replace the signing secret, with an overlap',
      description: 'A new secret signs from now on; the replaced one keeps signing next to it for `overlapSeconds` (default 24 h), so `webhook-signature` ' +
        'carries two signatures and a receiver holding either secret verifies. The new secret is in the answer, shown only this once.',
      security: SECURITY,
      params: WebhookEndpointParamsSchema,
      body: RotateSecretSchema,
      response: { 200: WebhookEndpointWithSecretSchema, ...problems(...ONE) }
    }
  }, async (req) => await endpoints.rotate(caller(req), req.params.id, req.body?.overlapSeconds === undefined ? undefined : req.body.overlapSeconds * 1000))

  app.post('/v1/webhook-endpoints/:id/test', {
    config: { scope: 'write' },
    schema: {
      operationId: 'testWebhookEndpoint',
      tags: TAGS,
      summary: 'Send a `webhook.test` message now and return the attempt',
      description: 'Sent synchronously (not queued), signed like every delivery, recorded in the deliveries log. A failure is reported, not retried, and does not disable the endpoint.',
      security: SECURITY,
      params: WebhookEndpointParamsSchema,
      response: { 200: DeliveryAttemptSchema, ...problems(...ONE) }
    }
  }, async (req) => await delivery.test(await endpoints.owned(caller(req), req.params.id)))

  app.get('/v1/webhook-endpoints/:id/deliveries', {
    config: { scope: 'write' },
    schema: {
      operationId: 'listWebhookDeliveries',
      tags: TAGS,
      summary: 'Delivery attempts of an endpoint, newest first',
      description: 'Each attempt with its HTTP status, duration, error and the time of the next retry. The last 1,000 attempts per endpoint are kept.',
      security: SECURITY,
      params: WebhookEndpointParamsSchema,
      querystring: DeliveriesQuerySchema,
      response: { 200: DeliveryListSchema, ...problems(...ONE) }
    }
  }, async (req) => ({ items: await endpoints.deliveries(caller(req), req.params.id, req.query.limit ?? 100, req.query.eventId) }))

  app.post('/v1/webhook-endpoints/:id/deliveries/:eventId/retry', {
    config: { scope: 'write' },
    schema: {
      operationId: 'retryWebhookDelivery',
      tags: TAGS,
      summary: 'Attempt one message again, now',
      description: 'The message must have been attempted at this endpoint and still be kept (event retention). The attempt is made synchronously and returned.',
      security: SECURITY,
      params: DeliveryParamsSchema,
      response: { 200: DeliveryAttemptSchema, ...problems(...ONE) }
    }
  }, async (req) => await delivery.retry(await endpoints.owned(caller(req), req.params.id), req.params.eventId))

  app.post('/v1/webhook-endpoints/:id/recover', {
    config: { scope: 'write' },
    schema: {
      operationId: 'recoverWebhookEndpoint',
      tags: TAGS,
      summary: 'Queue again every matching event since a time',
      description: 'For a receiver that lost messages (or an endpoint that was disabled): every event of the log recorded since `since` that matches the endpoint ' +
        'is queued again, delivered ones included (receivers deduplicate on `webhook-id`). `since` must lie inside the event retention. A disabled endpoint is re-enabled.',
      security: SECURITY,
      params: WebhookEndpointParamsSchema,
      body: RecoverSchema,
      response: { 202: RecoverResultSchema, ...problems(...ONE) }
    }
  }, async (req, reply) => {
    const source = fanout()
    if (source === null) throw new GatewayError('GW_ERR_UNAVAILABLE', 'the event log is not available on this gateway; recovery needs it')
    const since = Date.parse(req.body.since)
    if (since < now() - retentionMs) {
      throw new GatewayError('GW_ERR_VALIDATION', `since is older than the event retention (${Math.round(retentionMs / 86_400_000)} days); re-list cases instead`, {
        errors: [{ path: '/since', message: 'is older than the event retention' }]
      })
    }
    const who = caller(req)
    const ep = await endpoints.owned(who, req.params.id)
    if (!ep.enabled) await endpoints.update(who, ep.id, { enabled: true })
    const queued = await delivery.recover({ ...ep, enabled: true }, await source.since(since, RECOVER_MAX))
    return await reply.code(202).send({ queued, since: new Date(since).toISOString() })
  })
}
