/**
 * JSON bodies with a nesting limit, checked on the text before parsing: deeply nested input (10,000 levels in
 * `providerOptions`) would otherwise reach recursive code (body hashing, validation) and fail there as a 500.
 * Parsing itself stays Fastify's own (prototype-poisoning protection included).
 */
import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../domain/problems.js'

/** true when `text`, read as JSON, opens more than `max` objects or arrays inside each other (strings are skipped). */
export function jsonDepthExceeds (text: string, max: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) { // a string: skip to its closing quote, over escapes
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 92) i++
        else if (d === 34) break
      }
    } else if (c === 123 || c === 91) {
      if (++depth > max) return true
    } else if (c === 125 || c === 93) {
      depth--
    }
  }
  return false
}

export function tooDeep (maxDepth: number, path = '/'): GatewayError {
  return new GatewayError('GW_ERR_VALIDATION', `The JSON body nests objects and arrays more than ${maxDepth} levels deep; send a flatter body`,
    { errors: [{ path, message: `nests more than ${maxDepth} levels` }] })
}

export function registerJsonBody (app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonDepthExceeds(body as string, maxDepth)) {
      done(tooDeep(maxDepth), undefined)
      return
    }
    parse(req, body as string, done)
  })
}
