import { Type } from 'typebox'
import { CASE_EXAMPLE } from '../schemas/examples.js'
import { ProblemSchema } from '../schemas/problem.js'

/** The problem responses a route can produce, declared once so OpenAPI lists every one with the Problem schema. */
export function problems (...statuses: number[]): Record<number, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map(s => [s, ProblemSchema]))
}

/**
 * What every /v1 route can answer whatever it does: 400 (validation), 401/403 (auth), 429 (rate limit per key),
 * 500 (unexpected) and 503 (load shedding, plugins/traffic.ts).
 */
export const AUTH_PROBLEMS = [400, 401, 403, 429, 500, 503] as const
export const PROVIDER_PROBLEMS = [502, 503, 504] as const

export const CaseIdParamsSchema = Type.Object({
  id: Type.String({ minLength: 3, maxLength: 512, description: 'Case id `<provider>:<providerCaseId>`', examples: [CASE_EXAMPLE.id] })
})
