/**
 * Vendor pushes: `POST /v1/inbound/<provider>` for every provider whose module declares `inbound` (authenticated by
 * the vendor's signature, not by a gateway key), and the admin route that registers this gateway's endpoint at the
 * vendor. A delivery is answered 202 at once; the case is then re-read from the vendor by a job and observed like any
 * other change (the payload is never taken as the case).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import type { InboundWebhooks, ProviderModule } from '../../connectors/provider-module.js'
import { encodeCaseId } from '../../domain/case-id.js'
import { GatewayError } from '../../domain/problems.js'
import type { EventsEngine } from '../../events/build.js'
import { InboundSecrets } from './inbound-secrets.js'
import { PROVIDERS } from '../../providers/registry.js'
import type { ProviderId } from '../../schemas/provider.js'
import type { ProviderSet } from '../../services/provider-set.js'
import type { KvStore } from '../../store/kv-store.js'
import { inboundKeys } from '../../store/keys.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export interface InboundRoutesOptions {
  events: EventsEngine
  store: KvStore
  config: Config
  providers: ProviderSet
  clock: Clock
}

/** the providers that push webhooks, with their declaration */
const PUSHING = PROVIDERS.filter((m): m is ProviderModule & { id: ProviderId, inbound: InboundWebhooks } => m.inbound !== undefined)

/** `acme` → `Acme` (operation ids and schema names) */
const pascal = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1)

const DELIVERY_ID = /^[\w.-]{1,128}$/

/** the example endpoint of the registration schemas: the first pushing provider's */
const EXAMPLE_URL = `https://gateway.example/v1/inbound/${PUSHING[0]?.id ?? 'vendor'}`

const AcceptedSchema = Type.Object({
  accepted: Type.Boolean(),
  deliveryId: Type.String(),
  duplicate: Type.Boolean({ description: 'true when this delivery id was already received: nothing more is done' })
}, { $id: 'InboundAccepted', additionalProperties: false, examples: [{ accepted: true, deliveryId: 'dlv_01HZX3', duplicate: false }] })

const RegistrationSchema = Type.Object({
  id: Type.String({ description: 'The vendor\'s subscription id' }),
  url: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
  active: Type.Union([Type.Boolean(), Type.Null()]),
  secretStored: Type.Boolean({ description: 'The signing secret the vendor returned (once) is kept by the gateway, sealed with WEBHOOK_ENCRYPTION_KEY, and checked next to the configured secrets; it is never returned' })
}, { $id: 'InboundRegistration', additionalProperties: false, examples: [{ id: 'abc123', url: EXAMPLE_URL, events: ['incident.created', 'incident.status_changed'], active: true, secretStored: true }] })

const SubscriptionRequestSchema = Type.Union([
  Type.Object({ url: Type.String({ format: 'uri', maxLength: 2083, description: 'The public URL the vendor will POST to (HTTPS in production)' }) }, { additionalProperties: false }),
  Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, description: 'The vendor\'s subscription id' }), rotate: Type.Literal(true) }, { additionalProperties: false })
], { $id: 'InboundSubscriptionRequest', examples: [{ url: EXAMPLE_URL }, { id: 'abc123', rotate: true }] })

export const inboundRoutes: FastifyPluginAsyncTypebox<InboundRoutesOptions> = async (app, { events, store, config, providers, clock }) => {
  const registered = new InboundSecrets(store, config.webhooks.encryptionKey)
  const header = (value: string | string[] | undefined): string | undefined => Array.isArray(value) ? value[0] : value

  for (const { id: provider, name, inbound } of PUSHING) {
    const h = { signature: inbound.headers.signature.toLowerCase(), timestamp: inbound.headers.timestamp.toLowerCase(), deliveryId: inbound.headers.deliveryId.toLowerCase(), event: inbound.headers.event.toLowerCase() }

    // the signature covers the raw bytes: in this scope JSON is kept as a Buffer and parsed after the check
    await app.register(async (scope) => {
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
      scope.removeContentTypeParser('application/json')
      scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

      scope.post(`/v1/inbound/${provider}`, {
        schema: {
          operationId: `receive${pascal(provider)}Webhook`,
          tags: ['Inbound webhooks'],
          summary: `${name} webhook deliveries`,
          description: inbound.docs.delivery,
          security: [{ [`${provider}Signature`]: [] }],
          headers: Type.Object(Object.fromEntries(Object.values(h).map(k => [k, Type.Optional(Type.String())]))),
          body: Type.Unknown({ $id: `${pascal(provider)}Delivery`, description: inbound.docs.body, examples: [inbound.docs.bodyExample] }),
          response: { 202: AcceptedSchema, ...problems(400, 401, 429, 500, 503) }
        }
      }, async (req, reply) => {
        const metrics = events.service.metrics
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
        const verdict = inbound.verify({ signature: header(req.headers[h.signature]), timestamp: header(req.headers[h.timestamp]) }, raw,
          [...config.providers[provider].inboundSecrets, ...await registered.read(provider, req.log)], clock.now())
        if (!verdict.ok) {
          metrics?.inbound.inc({ provider, outcome: verdict.outcome })
          req.log.warn({ outcome: verdict.outcome, reason: verdict.reason }, `${name} delivery refused`)
          throw new GatewayError('GW_ERR_BAD_SIGNATURE', verdict.reason)
        }
        const deliveryId = header(req.headers[h.deliveryId])
        let caseId: string | null = null
        try { caseId = inbound.caseIdOf(JSON.parse(raw.toString('utf8'))) } catch {}
        if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId)) {
          metrics?.inbound.inc({ provider, outcome: 'malformed' })
          throw new GatewayError('GW_ERR_VALIDATION', `${inbound.headers.deliveryId} is missing or not an id`, { errors: [{ path: `/headers/${h.deliveryId}`, message: 'required' }] })
        }
        if (caseId === null) {
          // a signed delivery about no case (the vendor's test delivery): acknowledged, nothing to re-read
          metrics?.inbound.inc({ provider, outcome: 'ignored' })
          req.log.info({ deliveryId, event: req.headers[h.event] }, `${name} delivery names no case; acknowledged`)
          return await reply.code(202).send({ accepted: true, deliveryId, duplicate: false })
        }
        const key = inboundKeys.delivery(provider, deliveryId)
        if (!(await store.set(key, '1', { ttlMs: inbound.deliveryTtlMs, nx: true }))) {
          metrics?.inbound.inc({ provider, outcome: 'duplicate' })
          return await reply.code(202).send({ accepted: true, deliveryId, duplicate: true })
        }
        try {
          await events.watcher.touch(encodeCaseId(provider, caseId), 'webhook')
        } catch (err) {
          // not queued: forget the id so the vendor's retry is taken
          await store.del(key).catch(() => {})
          throw new GatewayError('GW_ERR_UNAVAILABLE', `The delivery could not be queued; ${name} will retry it`, { retryAfter: 30, cause: err })
        }
        metrics?.inbound.inc({ provider, outcome: 'accepted' })
        return await reply.code(202).send({ accepted: true, deliveryId, duplicate: false })
      })
    })

    app.post(`/v1/admin/inbound/${provider}/subscription`, {
      config: { scope: 'admin' },
      schema: {
        operationId: `register${pascal(provider)}Webhook`,
        tags: ['Inbound webhooks'],
        summary: `Register this gateway's webhook endpoint at ${name}`,
        description: inbound.docs.registration,
        security: [{ bearerAuth: [] }],
        body: SubscriptionRequestSchema,
        response: { 201: RegistrationSchema, ...problems(...AUTH_PROBLEMS, 422, ...PROVIDER_PROBLEMS) }
      }
    }, async (req, reply) => {
      if (!config.webhooks.enabled) {
        // checked before the vendor is called: a secret it shows once and the gateway could not keep would be lost
        throw new GatewayError('GW_ERR_UNAVAILABLE', `${name} webhook registration is off in this gateway: set WEBHOOK_ENCRYPTION_KEY (32 bytes as 64 hex digits or base64, the same on every replica; it seals the signing secret at rest) and restart`)
      }
      const subscriptions = providers.require(provider).webhookSubscriptions
      if (subscriptions === undefined) {
        throw new GatewayError('GW_ERR_UNSUPPORTED', `${provider} cannot register webhooks through this gateway`, { provider })
      }
      const body = req.body
      const reg = await providers.withContext(provider, req.cancellation, req.log, async ctx =>
        'url' in body ? await subscriptions.subscribe(body.url, ctx) : await subscriptions.rotateSecret(body.id, ctx))
      let secretStored = false
      if (reg.secret !== null) {
        // replaces the kept secret: after a rotation the old one is dropped (the vendor revokes it at once)
        await registered.save(provider, reg.secret)
        secretStored = true
      }
      req.log.info({ subscription: reg.id, events: reg.events }, `${name} webhook subscription registered`)
      return await reply.code(201).send({ id: reg.id, url: reg.url, events: reg.events, active: reg.active, secretStored })
    })
  }
}
