/**
 * Query-string integers are decimal digits. Ajv's type coercion takes any string JavaScript reads as a whole number
 * (`Infinity`, `1e400`, `0x10`, `2.0`) and skips `minimum`/`maximum` for the non-finite ones, so `limit=Infinity`
 * passed validation with no bound. Every route's integer query parameters are checked as written, before Ajv sees them.
 */
import type { FastifyInstance, FastifyRequest, HookHandlerDoneFunction, FastifyReply } from 'fastify'
import { GatewayError } from '../domain/problems.js'

const DIGITS = /^-?\d{1,15}$/

interface JsonSchemaLike { type?: unknown, properties?: Record<string, JsonSchemaLike> }

export function registerStrictQueryIntegers (app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema?.querystring as JsonSchemaLike | undefined
    const names = Object.entries(schema?.properties ?? {}).filter(([, p]) => p.type === 'integer').map(([name]) => name)
    if (names.length === 0) return
    const check = (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      const query = req.query as Record<string, unknown>
      const errors: Array<{ path: string, message: string }> = []
      for (const name of names) {
        const value = query[name]
        if (typeof value === 'string' && !DIGITS.test(value)) errors.push({ path: `/${name}`, message: 'must be an integer written in decimal digits' })
      }
      if (errors.length === 0) { done(); return }
      done(new GatewayError('GW_ERR_VALIDATION', `The query string is invalid: ${errors.map(e => `${e.path} ${e.message}`).join('; ')}`, { errors }))
    }
    const existing = route.preValidation
    route.preValidation = existing === undefined ? [check] : [check, ...(Array.isArray(existing) ? existing : [existing])]
  })
}
