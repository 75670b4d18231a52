/**
 * Runs a write route's work under the request's Idempotency-Key (when it sent one) and sends the answer,
 * replayed or fresh. Problems are rendered here too so that a failure after the vendor may have acted is
 * recorded and replayed rather than retried into a second case.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { notSent } from '../connectors/connector.js'
import { toProblem } from '../plugins/problems.js'
import { fingerprint, type Idempotency, type StoredResponse } from '../services/idempotency.js'

/** The `Idempotency-Key` request header every write route that honours it declares (the routes send with sendIdempotent). */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 255,
    description: 'Makes the write safe to retry: the same key and body replay the first answer (header `Idempotent-Replayed: true`) for 24 h; ' +
      'the same key while the first request runs is 409; with a different body 422.'
  }))
})

export async function sendIdempotent (req: FastifyRequest, reply: FastifyReply, idempotency: Idempotency,
  exec: () => Promise<StoredResponse>): Promise<FastifyReply> {
  const raw = req.headers['idempotency-key']
  const key = Array.isArray(raw) ? raw[0] : raw
  if (key === undefined) {
    const response = await exec()
    return reply.code(response.status).headers(response.headers).send(response.body)
  }
  const fp = fingerprint({
    route: `${req.method} ${req.routeOptions.url ?? ''}`,
    params: req.params,
    body: req.body ?? null,
    files: req.attachments.map(a => ({ name: a.filename, type: a.contentType, data: a.data }))
  })
  const { response, replayed } = await idempotency.run(req.client ?? 'anonymous', key, fp, async () => {
    try {
      const response = await exec()
      return { response, record: true }
    } catch (err) {
      const { problem, headers } = toProblem(err, req)
      // a 4xx means nothing was created: release the key; a 5xx after sending may have created something: record it
      return { response: { status: problem.status, headers, body: problem }, record: problem.status >= 500 && !notSent(err) }
    }
  })
  if (replayed) reply.header('idempotent-replayed', 'true')
  if (response.status >= 400 && !replayed) {
    const { status } = response
    req.log[status >= 500 ? 'warn' : 'info']({ status, code: (response.body as { code?: string }).code }, 'write failed')
  }
  return reply.code(response.status).headers(response.headers).send(response.body)
}

/**
 * Runs a piece of a write's work at most once per request key: under a key derived from the request's
 * Idempotency-Key and `part` (a retry whose first attempt died after the part was done gets the part's first answer
 * back). Only answers `keep` accepts are recorded, so a failed part is tried again. Undefined without a key.
 */
export function oncePerKey<T> (req: FastifyRequest, idempotency: Idempotency, keep: (answer: T) => boolean):
  ((part: string, exec: () => Promise<T>) => Promise<T>) | undefined {
  const raw = req.headers['idempotency-key']
  const key = Array.isArray(raw) ? raw[0] : raw
  if (key === undefined) return undefined
  return async (part, exec) => {
    const derived = `${part}:${fingerprint(key)}`
    const { response } = await idempotency.run(req.client ?? 'anonymous', derived, fingerprint({ part, key }), async () => {
      const answer = await exec()
      return { response: { status: 200, headers: {}, body: answer }, record: keep(answer) }
    })
    return response.body as T
  }
}
