/**
 * Vendor pushes: `POST /v1/inbound/phishfort` (authenticated by PhishFort's signature, not by a gateway key) and the
 * admin route that registers this gateway's endpoint at PhishFort. A delivery is answered 202 at once; the incident
 * is then re-read from PhishFort by a job and observed like any other change (the payload is never taken as the case).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import { encodeCaseId } from '../../domain/case-id.js'
import { GatewayError } from '../../domain/problems.js'
import type { EventsEngine } from '../../events/build.js'
import { InboundSecrets } from '../../events/inbound-secrets.js'
import { incidentIdOf, verifyPhishfort } from '../../connectors/phishfort/webhook.js'
import type { ProviderSet } from '../../services/provider-set.js'
import type { KvStore } from '../../store/kv-store.js'
import { inboundKeys } from '../../store/keys.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../responses.js'

export interface InboundRoutesOptions {
  events: EventsEngine
  store: KvStore
  config: Config
  providers: ProviderSet
  clock: Clock
}

/** PhishFort retries for about an hour (immediately, 30 s, 2 min, 10 min, 1 h): delivery ids are kept a day */
const DELIVERY_TTL_MS = 86_400_000
const DELIVERY_ID = /^[\w.-]{1,128}$/

const AcceptedSchema = Type.Object({
  accepted: Type.Boolean(),
  deliveryId: Type.String(),
  duplicate: Type.Boolean({ description: 'true when this delivery id was already received: nothing more is done' })
}, { $id: 'InboundAccepted', additionalProperties: false, examples: [{ accepted: true, deliveryId: 'dlv_01HZX3', duplicate: false }] })

const RegistrationSchema = Type.Object({
  id: Type.String({ description: 'PhishFort\'s subscription id' }),
  url: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
  active: Type.Union([Type.Boolean(), Type.Null()]),
  secretStored: Type.Boolean({ description: 'The signing secret PhishFort returned (once) is kept by the gateway, sealed with WEBHOOK_ENCRYPTION_KEY, and checked next to PHISHFORT_WEBHOOK_SECRETS; it is never returned' })
}, { $id: 'InboundRegistration', additionalProperties: false, examples: [{ id: 'abc123', url: 'https://gateway.example/v1/inbound/phishfort', events: ['incident.created', 'incident.status_changed'], active: true, secretStored: true }] })

const SubscriptionRequestSchema = Type.Union([
  Type.Object({ url: Type.String({ format: 'uri', maxLength: 2083, description: 'The public URL PhishFort will POST to (HTTPS in production)' }) }, { additionalProperties: false }),
  Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, description: 'PhishFort\'s subscription id' }), rotate: Type.Literal(true) }, { additionalProperties: false })
], { $id: 'InboundSubscriptionRequest', examples: [{ url: 'https://gateway.example/v1/inbound/phishfort' }, { id: 'abc123', rotate: true }] })

export const inboundRoutes: FastifyPluginAsyncTypebox<InboundRoutesOptions> = async (app, { events, store, config, providers, clock }) => {
  const registered = new InboundSecrets(store, config.webhooks.encryptionKey)
  const header = (value: string | string[] | undefined): string | undefined => Array.isArray(value) ? value[0] : value

  // the signature covers the raw bytes: in this scope JSON is kept as a Buffer and parsed after the check
  await app.register(async (scope) => {
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
    scope.removeContentTypeParser('application/json')
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

    scope.post('/v1/inbound/phishfort', {
      schema: {
        operationId: 'receivePhishfortWebhook',
        tags: ['Inbound webhooks'],
        summary: 'PhishFort webhook deliveries',
        description: 'Called by PhishFort, not by gateway clients: authenticated by `X-PhishFort-Signature` (`sha256=` + hex HMAC-SHA256 of `timestamp + "." + raw body` ' +
          'with the subscription secret; two secrets are accepted during a rotation), `X-PhishFort-Timestamp` within ±5 minutes and `X-PhishFort-Delivery-Id` ' +
          '(a repeated id is acknowledged and ignored). A delivery that names no incident (a test delivery) is acknowledged and ignored. Answers 202 at once; the incident is then re-read from PhishFort and its change recorded as an event.',
        security: [{ phishfortSignature: [] }],
        headers: Type.Object({
          'x-phishfort-signature': Type.Optional(Type.String()),
          'x-phishfort-timestamp': Type.Optional(Type.String()),
          'x-phishfort-delivery-id': Type.Optional(Type.String()),
          'x-phishfort-event': Type.Optional(Type.String())
        }),
        body: Type.Unknown({
          $id: 'PhishfortDelivery',
          description: 'Any JSON: PhishFort does not document the payload; only an incident id (`data.incidentId`, `data.id`, `incident.id`, `data.incident.id`, `incidentId`) is read from it',
          examples: [{ event: 'incident.status_changed', data: { incidentId: '054zKkjCnR1I3B3U812z', status: 'takedown_in_progress' } }]
        }),
        response: { 202: AcceptedSchema, ...problems(400, 401, 429, 500, 503) }
      }
    }, async (req, reply) => {
      const metrics = events.service.metrics
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      const verdict = verifyPhishfort({ signature: header(req.headers['x-phishfort-signature']), timestamp: header(req.headers['x-phishfort-timestamp']) }, raw,
        [...config.providers.phishfort.inboundSecrets, ...await registered.read('phishfort', req.log)], clock.now())
      if (!verdict.ok) {
        metrics?.inbound.inc({ provider: 'phishfort', outcome: verdict.outcome })
        req.log.warn({ outcome: verdict.outcome, reason: verdict.reason }, 'PhishFort delivery refused')
        throw new GatewayError('GW_ERR_BAD_SIGNATURE', verdict.reason)
      }
      const deliveryId = header(req.headers['x-phishfort-delivery-id'])
      let incidentId: string | null = null
      try { incidentId = incidentIdOf(JSON.parse(raw.toString('utf8'))) } catch {}
      if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId)) {
        metrics?.inbound.inc({ provider: 'phishfort', outcome: 'malformed' })
        throw new GatewayError('GW_ERR_VALIDATION', 'X-PhishFort-Delivery-Id is missing or not an id', { errors: [{ path: '/headers/x-phishfort-delivery-id', message: 'required' }] })
      }
      if (incidentId === null) {
        // a signed delivery about no incident (PhishFort's test delivery): acknowledged, nothing to re-read
        metrics?.inbound.inc({ provider: 'phishfort', outcome: 'ignored' })
        req.log.info({ deliveryId, event: req.headers['x-phishfort-event'] }, 'PhishFort delivery names no incident; acknowledged')
        return await reply.code(202).send({ accepted: true, deliveryId, duplicate: false })
      }
      const key = inboundKeys.delivery('phishfort', deliveryId)
      if (!(await store.set(key, '1', { ttlMs: DELIVERY_TTL_MS, nx: true }))) {
        metrics?.inbound.inc({ provider: 'phishfort', outcome: 'duplicate' })
        return await reply.code(202).send({ accepted: true, deliveryId, duplicate: true })
      }
      try {
        await events.watcher.touch(encodeCaseId('phishfort', incidentId), 'webhook')
      } catch (err) {
        // not queued: forget the id so PhishFort's retry is taken
        await store.del(key).catch(() => {})
        throw new GatewayError('GW_ERR_UNAVAILABLE', 'The delivery could not be queued; PhishFort will retry it', { retryAfter: 30, cause: err })
      }
      metrics?.inbound.inc({ provider: 'phishfort', outcome: 'accepted' })
      return await reply.code(202).send({ accepted: true, deliveryId, duplicate: false })
    })
  })

  app.post('/v1/admin/inbound/phishfort/subscription', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'registerPhishfortWebhook',
      tags: ['Inbound webhooks'],
      summary: 'Register this gateway\'s webhook endpoint at PhishFort',
      description: 'Calls PhishFort\'s `POST /v1/webhooks` with `url` (this gateway\'s public `…/v1/inbound/phishfort`) and every incident event. ' +
        'PhishFort returns the signing secret once: the gateway keeps it in its store, sealed with WEBHOOK_ENCRYPTION_KEY, and accepts deliveries signed with it, next to PHISHFORT_WEBHOOK_SECRETS. ' +
        'Without WEBHOOK_ENCRYPTION_KEY (live mode) the route answers 503 before calling PhishFort. ' +
        'With `rotate: true` and the subscription `id`, asks PhishFort for a new secret instead (PhishFort revokes the old one at once).',
      security: [{ bearerAuth: [] }],
      body: SubscriptionRequestSchema,
      response: { 201: RegistrationSchema, ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS) }
    }
  }, async (req, reply) => {
    if (!config.webhooks.enabled) {
      // checked before PhishFort is called: a secret it shows once and the gateway could not keep would be lost
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'PhishFort webhook registration is off in this gateway: set WEBHOOK_ENCRYPTION_KEY (32 bytes as 64 hex digits or base64, the same on every replica; it seals the signing secret at rest) and restart')
    }
    const connector = providers.require('phishfort')
    const subscriptions = connector.webhookSubscriptions
    if (subscriptions === undefined) {
      throw new GatewayError('GW_ERR_UNSUPPORTED', 'phishfort cannot register webhooks through this gateway', { provider: 'phishfort' })
    }
    const body = req.body
    const reg = await providers.withContext('phishfort', req.cancellation, req.log, async ctx =>
      'url' in body ? await subscriptions.subscribe(body.url, ctx) : await subscriptions.rotateSecret(body.id, ctx))
    let secretStored = false
    if (reg.secret !== null) {
      // replaces the kept secret: after a rotation the old one is dropped (PhishFort revokes it at once)
      await registered.save('phishfort', reg.secret)
      secretStored = true
    }
    req.log.info({ subscription: reg.id, events: reg.events }, 'PhishFort webhook subscription registered')
    return await reply.code(201).send({ id: reg.id, url: reg.url, events: reg.events, active: reg.active, secretStored })
  })
}
