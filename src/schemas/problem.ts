import { Nullable } from './common.js'
import { Type, type Static } from 'typebox'
import { PROBLEM_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'

/** RFC 9457 problem details: the one error body of every route. */
export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'URI identifying the problem type' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.String({ description: 'The request path' }),
  requestId: Type.String(),
  code: Type.Optional(Type.String({ description: 'Stable machine-readable code (GW_ERR_*)' })),
  errors: Type.Optional(Type.Array(Type.Object({
    path: Type.String({ description: 'JSON pointer of the offending field' }),
    message: Type.String()
  }, { additionalProperties: false }), { maxItems: 50, description: 'Field-level reasons, at most 50; `errorsOmitted` counts the rest' })),
  errorsOmitted: Type.Optional(Type.Integer({ minimum: 1, description: 'How many more field-level reasons there were than `errors` lists' })),
  provider: Type.Optional(ProviderIdSchema),
  providerStatus: Type.Optional(Nullable<number>('integer', { description: 'HTTP status the provider answered with, when it answered' })),
  existing: Type.Optional(Type.String({ description: 'Id of the existing open case (409 duplicate); the first of `existingCases`' })),
  existingCases: Type.Optional(Type.Array(Type.Object({
    id: Type.String(),
    provider: Type.String(),
    status: Type.String({ description: 'Unified status' })
  }, { additionalProperties: false }), {
    description: '409 duplicate: every open case for the same canonical target, the chosen provider\'s first, then those at other live providers ' +
      '(`DUPLICATE_SCOPE=all`)'
  })),
  retryCursor: Type.Optional(Type.String({
    description: 'Listings (502/503/504): every provider with items left failed. The cursor that repeats this page once they answer ' +
      'again; the walk has nothing else to give until then'
  })),
  allowed: Type.Optional(Type.Array(Type.String(), { description: 'Allowed values, where a value was not one of them' }))
}, { $id: 'Problem', additionalProperties: false, examples: [PROBLEM_EXAMPLE] })
export type Problem = Static<typeof ProblemSchema>
