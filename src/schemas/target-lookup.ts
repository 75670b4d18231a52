/** GET /v1/targets/lookup: what an analyst asks before reporting a target. */
import { Type, type Static } from 'typebox'
import { NullableString, Nullable } from './common.js'
import { CreatePlanSchema } from './create.js'
import { CASE_EXAMPLE, CREATE_PLAN_EXAMPLE, RELATED_CASES_EXAMPLE } from './examples.js'
import { ENRICHMENT_EXAMPLE, EnrichmentSchema, RelatedCaseSchema } from './target-intel.js'

export const TargetLookupQuerySchema = Type.Object({
  value: Type.String({ minLength: 1, maxLength: 2083, description: 'A URL (http/https), a domain or an IPv4 address', examples: ['https://login.acme-verify.example.net/x?utm_source=mail'] })
}, { additionalProperties: false })

const LastProbeSchema = Type.Object({
  caseId: Type.String({ description: 'The case whose probe this is' }),
  at: Type.String({ format: 'date-time' }),
  outcome: Type.Enum(['live', 'down', 'blocked', 'unknown', 'unprobeable']),
  reason: Type.String({ description: 'Why the probe reads so (the classification\'s reason)' }),
  url: NullableString,
  finalStatus: Nullable<number>('integer', { description: 'HTTP status of the last response of the redirect chain' }),
  title: NullableString
}, { additionalProperties: false, description: 'What the gateway\'s own probe saw; the case\'s whole history is GET /v1/cases/{id}/checks' })

export const TargetLookupSchema = Type.Object({
  target: Type.Object({
    type: Type.Enum(['url', 'domain', 'ipv4']),
    value: Type.String(),
    host: NullableString,
    hostUnicode: NullableString,
    registrableDomain: NullableString,
    publicSuffix: NullableString,
    canonicalUrl: NullableString
  }, { additionalProperties: false }),
  openCases: Type.Array(RelatedCaseSchema, { description: 'Open cases for this host or registrable domain at any vendor: those the gateway has seen, and those the live providers name for this exact target' }),
  pastCases: Type.Array(RelatedCaseSchema, { description: 'Finished cases for this host or registrable domain the gateway has seen' }),
  plan: Type.Union([CreatePlanSchema, Type.Null()], { description: 'The routing plan a create of this target would use (a dry run; nothing is sent); null when no provider would take it' }),
  planError: Nullable<string>('string', { description: 'Why there is no plan (no provider takes this target type, ...)' }),
  enrichment: Type.Union([EnrichmentSchema, Type.Null()]),
  lastProbe: Type.Union([LastProbeSchema, Type.Null()], { description: 'The newest probe of this host\'s cases (those with `match: host`) when VERIFY_ENABLED is on; null when it is off or none of them was probed yet' })
}, {
  $id: 'TargetLookup',
  additionalProperties: false,
  examples: [{
    target: {
      type: 'url',
      value: 'https://Login.acme-verify.example.net/secure?utm_source=mail',
      host: 'login.acme-verify.example.net',
      hostUnicode: 'login.acme-verify.example.net',
      registrableDomain: 'example.net',
      publicSuffix: 'net',
      canonicalUrl: 'https://login.acme-verify.example.net/secure'
    },
    openCases: [RELATED_CASES_EXAMPLE.open],
    pastCases: [RELATED_CASES_EXAMPLE.past],
    plan: CREATE_PLAN_EXAMPLE,
    planError: null,
    enrichment: ENRICHMENT_EXAMPLE,
    lastProbe: { caseId: CASE_EXAMPLE.id, at: '2026-12-01T12:00:00.000Z', outcome: 'live', reason: 'HTTP 200 and a login form', url: 'https://login.acme-verify.example.net/secure', finalStatus: 200, title: 'Sign in' }
  }]
})
export type TargetLookup = Static<typeof TargetLookupSchema>
