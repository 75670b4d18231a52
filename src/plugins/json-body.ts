/**
 * JSON bodies with a nesting limit, checked on the text before parsing: deeply nested input (10,000 levels in
 * `providerOptions`) would otherwise reach recursive code (body hashing, validation) and fail there as a 500.
 * Parsing itself stays Fastify's own (prototype-poisoning protection included).
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
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
    // an empty body is no body (clients add the header to every POST): a route taking none accepts it, the others say it is missing
    if ((body as string).trim() === '') {
      done(null, undefined)
      return
    }
    if (jsonDepthExceeds(body as string, maxDepth)) {
      done(tooDeep(maxDepth), undefined)
      return
    }
    parse(req, body as string, done)
  })
  app.addHook('onRoute', route => { bodyRules(route) })
}

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * What a JSON route does with a body its schema does not cover. A route without a body schema takes none: anything but
 * nothing or `{}` is a 400 (a client sending `1` or `"str"` learns the operation ignores it, instead of a 200 it
 * cannot tell from a success). A route whose body is an object of optional fields takes no body as `{}`.
 */
function bodyRules (route: RouteOptions): void {
  const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String)
  if (!methods.some(m => WITH_BODY.has(m)) || route.config?.multipart !== undefined || route.config?.multipartForm !== undefined) return
  const schema = route.schema?.body as { type?: string, required?: string[] } | undefined
  let hook: ((req: FastifyRequest) => Promise<void>) | null = null
  if (schema === undefined) {
    hook = async (req) => {
      if (req.body === undefined || isEmptyObject(req.body)) return
      throw new GatewayError('GW_ERR_VALIDATION', `${req.method} ${route.url} takes no body; send none (or {})`,
        { errors: [{ path: '/', message: 'must be absent: this operation takes no body' }] })
    }
  } else if (schema.type === 'object' && (schema.required ?? []).length === 0) {
    hook = async (req) => { if (req.body === undefined) req.body = {} }
  }
  if (hook === null) return
  const own = route.preValidation === undefined ? [] : [route.preValidation].flat()
  route.preValidation = [hook, ...own]
}

function isEmptyObject (x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.keys(x).length === 0
}
