/**
 * PhishFort's change webhooks as the gateway's inbound route serves them (features/events/inbound-routes.ts): the delivery headers,
 * the signature check and where a delivery names its incident (webhook.ts), and the words of the published contract.
 */
import type { InboundWebhooks } from '../provider-module.js'
import { incidentIdOf, verifyPhishfort } from './webhook.js'

export const phishfortInbound: InboundWebhooks = {
  secretsEnv: 'PHISHFORT_WEBHOOK_SECRETS',
  headers: { signature: 'X-PhishFort-Signature', timestamp: 'X-PhishFort-Timestamp', deliveryId: 'X-PhishFort-Delivery-Id', event: 'X-PhishFort-Event' },
  verify: verifyPhishfort,
  caseIdOf: incidentIdOf,
  // PhishFort retries for about an hour (immediately, 30 s, 2 min, 10 min, 1 h): delivery ids are kept a day
  deliveryTtlMs: 86_400_000,
  docs: {
    delivery: 'Called by PhishFort, not by gateway clients: authenticated by `X-PhishFort-Signature` (`sha256=` + hex HMAC-SHA256 of `timestamp + "." + raw body` ' +
      'with the subscription secret; two secrets are accepted during a rotation), `X-PhishFort-Timestamp` within ±5 minutes and `X-PhishFort-Delivery-Id` ' +
      '(a repeated id is acknowledged and ignored). A delivery that names no incident (a test delivery) is acknowledged and ignored. Answers 202 at once; the incident is then re-read from PhishFort and its change recorded as an event.',
    body: 'Any JSON: PhishFort does not document the payload; only an incident id (`data.incidentId`, `data.id`, `incident.id`, `data.incident.id`, `incidentId`) is read from it',
    bodyExample: { event: 'incident.status_changed', data: { incidentId: '054zKkjCnR1I3B3U812z', status: 'takedown_in_progress' } },
    signature: 'PhishFort\'s delivery signature: `sha256=` + hex HMAC-SHA256(subscription secret, `X-PhishFort-Timestamp` + "." + raw body)',
    registration: 'Calls PhishFort\'s `POST /v1/webhooks` with `url` (this gateway\'s public `…/v1/inbound/phishfort`) and every incident event. ' +
      'PhishFort returns the signing secret once: the gateway keeps it in its store, sealed with WEBHOOK_ENCRYPTION_KEY, and accepts deliveries signed with it, next to PHISHFORT_WEBHOOK_SECRETS. ' +
      'Without WEBHOOK_ENCRYPTION_KEY (live mode) the route answers 503 before calling PhishFort. ' +
      'With `rotate: true` and the subscription `id`, asks PhishFort for a new secret instead (PhishFort revokes the old one at once).'
  }
}
