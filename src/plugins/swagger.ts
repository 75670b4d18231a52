/**
 * OpenAPI 3.1 from the route schemas (@fastify/swagger), named components from TypeBox `$id`s,
 * served at /openapi.json, with Swagger UI at /docs (assets from the package, no CDN).
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { GATEWAY_SUMMARY, INBOUND_SECURITY_SCHEMES } from '../settings/derived.js'
import { finishDocument, transformRoute, type BodyExamples } from './swagger-transform.js'

export const OPENAPI_INFO = {
  title: 'takedown-gateway',
  version: '0.1.0',
  description: `${GATEWAY_SUMMARY}. ` +
    'Errors are RFC 9457 problems (`application/problem+json`). Every response carries `X-Request-Id`.',
  license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
}

export async function registerSwagger (app: FastifyInstance): Promise<void> {
  const bodyExamples: BodyExamples = new Map()
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      // first a relative server: Swagger UI's "Try it out" (and any client that loads /openapi.json from a gateway) then
      // calls the gateway that served the document, behind whatever host, port or proxy, not a fixed localhost
      servers: [
        { url: '/', description: 'The gateway serving this document' },
        { url: 'http://127.0.0.1:3000', description: 'Local sandbox (npm start)' }
      ],
      tags: [
        { name: 'Cases', description: 'Takedown and monitoring cases across providers' },
        { name: 'Reference', description: 'Vendor reference data, cached' },
        { name: 'Providers', description: 'Provider modes and capabilities' },
        { name: 'Detections', description: 'Takedown candidates the providers found (BforeAI confirmed attacks, Cloudflare brand-protection matches) and turning them into cases' },
        { name: 'Brand protection', description: 'Cloudflare Brand Protection saved queries and URL scans' },
        { name: 'Reporting', description: 'Takedown analytics per provider, target type and month; case exports (CSV, NDJSON)' },
        { name: 'Webhooks', description: 'Outbound webhooks: endpoints that receive case events, signed to the Standard Webhooks specification' },
        { name: 'Events', description: 'Case change events: the pull feed, the live SSE stream and per-case timelines' },
        { name: 'Targets', description: 'Target intelligence: the normalised target, its cases at every vendor, the routing plan and RDAP registrar and hosting facts' },
        { name: 'Inbound webhooks', description: 'Vendor pushes, authenticated by the vendor\'s signature, and their registration' },
        { name: 'Batches', description: 'Bulk submission: many create requests in one call (JSON or CSV), worked off in the background with per-item outcomes' },
        { name: 'Service levels', description: 'SLA policies in force and compliance per provider, target type and rule' },
        { name: 'Operations', description: 'Health, readiness, metrics (no auth)' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A gateway key from GATEWAY_API_KEYS (`sandbox` in sandbox mode)' },
          ...INBOUND_SECURITY_SCHEMES
        }
      }
    },
    transform: (input) => transformRoute({ ...input, openapiObject: 'openapiObject' in input ? input.openapiObject : { components: { schemas: {} } } }, bodyExamples),
    transformObject: (input) => 'openapiObject' in input ? finishDocument(input.openapiObject as Record<string, unknown>, bodyExamples) : input.swaggerObject,
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // everything comes from the package: no https: sources, no validator badge, and no upgrade-insecure-requests,
    // which would send "Try it out" to https:// on a gateway served over plain http (e.g. behind a TLS-less proxy)
    transformStaticCSP: (header) => header
      .replace(/ https:/g, '')
      .replace(' validator.swagger.io', '')
      .replace(/\s*upgrade-insecure-requests;/, '')
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
