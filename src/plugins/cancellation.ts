/**
 * `req.cancellation`: aborted when the client closes the connection before the gateway answered, so vendor calls
 * made for it stop (no work for nobody). It replaces Fastify's `req.signal`, which builds an
 * AbortController per request; see connectors/deadline.ts for why the gateway avoids those on the hot path.
 * Created on first use: a request that never calls a vendor (a cache hit) pays nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Cancellation, type CancelSignal } from '../connectors/deadline.js'

declare module 'fastify' {
  interface FastifyRequest {
    readonly cancellation: CancelSignal
  }
}

const kCancellation = Symbol('takedown-gateway.cancellation')
// one shared reason: 'close' also fires after every normal answer, and a DOMException per request (with its stack)
// cost ~2 % of a case read
const CLIENT_GONE = new DOMException('the client closed the connection', 'AbortError')

export function registerCancellation (app: FastifyInstance): void {
  app.decorateRequest('cancellation', {
    getter (this: FastifyRequest) {
      const self = this as FastifyRequest & { [kCancellation]?: Cancellation }
      let c = self[kCancellation]
      if (c === undefined) {
        const created = new Cancellation()
        this.raw.once('close', () => { created.abort(CLIENT_GONE) })
        self[kCancellation] = created
        c = created
      }
      return c
    }
  })
}
