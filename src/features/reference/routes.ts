import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ReferenceKindSchema } from '../../schemas/reference.js'
import { ReferencePageSchema, ReferenceQuerySchema } from '../../schemas/reference-page.js'
import type { ReferenceService } from './service.js'
import { AUTH_PROBLEMS, problems, PROVIDER_PROBLEMS } from '../../routes/responses.js'

export const referenceRoutes: FastifyPluginAsyncTypebox<{ reference: ReferenceService }> = async (app, { reference }) => {
  // bodies as bytes: a pre-encoded Buffer goes to the socket as is, while a string is re-encoded to UTF-8 on every write
  const bodies = new Map<string, Buffer>()
  app.get('/v1/reference/:kind', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getReference',
      tags: ['Reference'],
      summary: 'Vendor reference data of one kind',
      description: 'Statuses, takedown types, platforms, threat types, cancellation reasons, report types and mitigation types, per provider. ' +
        '`statuses` lists the unified statuses (provider `gateway`) and every vendor status with the unified status it maps to. ' +
        'Served from a shared cache (fresh for REFERENCE_TTL_MS, then stale-while-revalidate and stale-if-error for REFERENCE_STALE_MS); ' +
        'the RFC 9211 `Cache-Status` header says, per provider, whether the answer was a hit, stale, or fetched. ' +
        'Supports `If-None-Match` (304). A kind the named `provider` does not have is a 404 naming the kinds it has (`capabilities.reference` in GET /v1/providers).',
      security: [{ bearerAuth: [] }],
      params: Type.Object({ kind: ReferenceKindSchema }),
      querystring: ReferenceQuerySchema,
      headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()) }),
      response: {
        200: ReferencePageSchema,
        304: Type.Null({ description: 'Not modified (If-None-Match matched the ETag)' }),
        ...problems(...AUTH_PROBLEMS, 404, 422, ...PROVIDER_PROBLEMS)
      }
    }
  }, async (req, reply) => {
    const result = await reference.get(req.params.kind, req.query.provider, () => req.cancellation, req.log)
    reply.header('cache-status', result.cacheStatus.join(', '))
    reply.header('etag', result.etag)
    reply.header('cache-control', 'private, max-age=0, must-revalidate')
    const inm = req.headers['if-none-match']
    if (inm !== undefined && inm.split(',').map(s => s.trim()).includes(result.etag)) {
      // no body at all (RFC 9110 §15.4.5): send() without a payload skips the serializer, which would write "null"
      return reply.code(304).send(undefined as unknown as null)
    }
    // the body only changes when the etag does: serialise each version once
    let body = bodies.get(result.etag)
    if (body === undefined) {
      body = Buffer.from(reply.serialize(result.page()) as string)
      if (bodies.size >= 64) bodies.delete(bodies.keys().next().value as string)
      bodies.set(result.etag, body)
    }
    return reply.type('application/json; charset=utf-8').send(body as never) // pre-serialised bytes go out as they are
  })
}
