import { Type, type Static } from 'typebox'
import { NullableString, TargetTypeSchema } from './common.js'
import { CaseSchema } from './case.js'
import { ACTION_RESULT_EXAMPLE, CREATE_PLAN_EXAMPLE, CREATED_CASE_EXAMPLE, MEASURED_PLAN_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'

export const CreateTargetSchema = Type.Object({
  type: TargetTypeSchema,
  value: Type.String({
    minLength: 1,
    maxLength: 2083,
    description: 'url/social: http(s) URL of at most 2083 characters; domain: host name; email: address; phone: E.164 (+14155550100); ipv4: dotted quad'
  })
}, { additionalProperties: false })

const BrandInputSchema = Type.Object({
  id: Type.Optional(Type.Union([Type.Integer(), Type.String({ minLength: 1, maxLength: 200 })], { description: 'Vendor brand id (BforeAI: required integer brand id)' })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 }))
}, { additionalProperties: false })

export const CreateFields = {
  action: Type.Optional(Type.Enum(['takedown', 'monitor'], { default: 'takedown', description: '`monitor`: watch without a takedown (PhishFort)' })),
  brand: Type.Optional(BrandInputSchema),
  comment: Type.Optional(Type.String({ minLength: 1, maxLength: 5000, description: 'Shown to the vendor analyst. Omit it rather than sending null.' })),
  reportedBy: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  clientId: Type.Optional(NullableString),
  social: Type.Optional(Type.Object({
    platform: Type.String({ minLength: 1, maxLength: 100, description: 'One of GET /v1/reference/platforms?provider=bforeai' }),
    threatType: Type.String({ minLength: 1, maxLength: 100, description: 'One of GET /v1/reference/threat-types?provider=bforeai' })
  }, { additionalProperties: false })),
  allowDuplicate: Type.Optional(Type.Boolean({ default: false, description: 'Create even when an open case for the same target exists at the provider' })),
  providerOptions: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    description: 'Vendor-specific fields in camelCase, validated per provider (Cloudflare: reportType, reporter, justification, originalWork, hostNotification, ownerNotification, ...)'
  }))
}

export const CreateCaseSchema = Type.Object({
  provider: Type.Optional(ProviderIdSchema),
  target: CreateTargetSchema,
  ...CreateFields
}, {
  $id: 'CreateCase',
  additionalProperties: false,
  examples: [{
    provider: 'cloudflare',
    action: 'takedown',
    target: { type: 'url', value: 'https://login-acme.example.io/secure' },
    brand: { id: 501, name: 'Acme Bank' },
    comment: 'Credential phishing page cloning our login form',
    reportedBy: 'soc@acme.example',
    providerOptions: {
      reportType: 'abuse_phishing',
      reporter: { name: 'Acme SOC', email: 'soc@acme.example', company: 'Acme' },
      justification: 'Credential phishing page cloning the Acme Bank login form',
      originalWork: 'Acme Bank',
      hostNotification: 'send',
      ownerNotification: 'send-anon'
    }
  }]
})
export type CreateCaseBody = Static<typeof CreateCaseSchema>

export const CreateQuerySchema = Type.Object({
  dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Validate, look for an open duplicate (409 as the create would answer) and return the plan (provider and the exact vendor request, secrets removed) without sending anything' }))
}, { additionalProperties: false })

const VendorRequestSchema = Type.Object({
  method: Type.Literal('POST'),
  path: Type.String(),
  contentType: Type.String(),
  body: Type.Record(Type.String(), Type.Unknown()),
  files: Type.Array(Type.Object({ field: Type.String(), filename: Type.String(), contentType: Type.String(), size: Type.Integer() }))
})

const COMPANIONS_WORDS = 'Companions: the providers a routing rule\'s `also` list files the same target at after the primary create ' +
  '(a "block while the takedown runs" rule); only creates the rules routed (no `provider` in the body) get them'

export const CompanionPlanSchema = Type.Object({
  provider: ProviderIdSchema,
  request: Type.Union([VendorRequestSchema, Type.Null()], { description: 'The vendor request the companion create would send; null when it would not be sent' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why the companion would not be created (off, cannot take the target, a duplicate, invalid); null when it would be' })
}, { additionalProperties: false })

export const RoutingExplanationSchema = Type.Object({
  strategy: Type.Literal('measured'),
  decision: Type.Enum(['best', 'explore', 'list_order'], {
    description: '`best`: the best-ranked provider; `explore`: another provider, to keep it measured (ROUTING_EXPLORE_PERCENT); ' +
      '`list_order`: not ranked (a provider short of ROUTING_MIN_SAMPLE cases, one able provider, or the measurements unavailable), the rule\'s list order'
  }),
  targetType: TargetTypeSchema,
  tld: Type.Union([Type.String(), Type.Null()], { description: 'The public suffix the figures are of, when every provider had enough cases there; null: the whole target type' }),
  windowDays: Type.Integer({ description: 'ROUTING_WINDOW_DAYS: cases created in this many past days are counted' }),
  minSample: Type.Integer({ description: 'ROUTING_MIN_SAMPLE' }),
  explorePercent: Type.Integer({ description: 'ROUTING_EXPLORE_PERCENT' }),
  providers: Type.Array(Type.Object({
    provider: ProviderIdSchema,
    cases: Type.Integer({ description: 'Cases with an outcome: down (taken down, mitigated, verified down) or failed/closed without it; open and cancelled cases are not counted' }),
    successRate: Type.Union([Type.Number(), Type.Null()], { description: 'Share of those cases that went down (0-1); null without cases' }),
    p50Hours: Type.Union([Type.Number(), Type.Null()], { description: 'Median hours from created to down: the verified time where the gateway\'s probes confirmed it, else the vendor-reported one; null when none went down' }),
    score: Type.Union([Type.Number(), Type.Null()], { description: 'p50Hours ÷ successRate, lower is better (the expected hours to one takedown when a failed case is filed again); null when not computable' })
  }, { additionalProperties: false }), { description: 'The providers that can take the target, best first when ranked, else in list order' }),
  summary: Type.String({ description: 'The choice in words, with the numbers it used' })
}, { additionalProperties: false, description: 'Why a `measured` routing rule chose this provider; only on plans of measured rules' })
export type RoutingExplanation = Static<typeof RoutingExplanationSchema>

export const CreatePlanSchema = Type.Object({
  dryRun: Type.Literal(true),
  provider: ProviderIdSchema,
  routedBy: Type.Enum(['request', 'rule'], { description: '`request`: the body named the provider; `rule`: routing rules chose it' }),
  request: VendorRequestSchema,
  rejected: Type.Array(Type.Object({ provider: ProviderIdSchema, reason: Type.String() }), { description: 'Providers the rules considered first and why they could not take it' }),
  routing: Type.Optional(RoutingExplanationSchema),
  companions: Type.Optional(Type.Array(CompanionPlanSchema, { description: COMPANIONS_WORDS }))
}, { $id: 'CreatePlan', additionalProperties: false, examples: [CREATE_PLAN_EXAMPLE, MEASURED_PLAN_EXAMPLE] })
export type CreatePlan = Static<typeof CreatePlanSchema>
export type CompanionPlan = Static<typeof CompanionPlanSchema>

export const CompanionSchema = Type.Object({
  provider: ProviderIdSchema,
  id: Type.Union([Type.String(), Type.Null()], { description: 'The companion case id (`<provider>:<id>`); null when it was not created' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why the companion was not created (off, cannot take the target, a duplicate, a vendor failure); null when it was' })
}, { additionalProperties: false })
export type Companion = Static<typeof CompanionSchema>

/** The answer to a create: the case, and the companion cases its routing rule filed (a companion failure never fails the create). */
export const CreatedCaseSchema = Type.Object({
  ...CaseSchema.properties,
  companions: Type.Optional(Type.Array(CompanionSchema, { description: COMPANIONS_WORDS + '; absent when the rule has none' }))
}, {
  $id: 'CreatedCase',
  additionalProperties: false,
  description: 'The created case, plus `companions` when the routing rule names some',
  examples: [CREATED_CASE_EXAMPLE]
})
export type CreatedCase = Static<typeof CreatedCaseSchema>

export const CancelSchema = Type.Object({
  reasonId: Type.Integer({ minimum: 1, description: 'One of GET /v1/reference/cancellation-reasons' }),
  description: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 }))
}, { $id: 'CancelRequest', additionalProperties: false, examples: [{ reasonId: 1, description: 'false positive' }] })

export const CommentSchema = Type.Object({
  comment: Type.String({ minLength: 1, maxLength: 5000 })
}, { $id: 'CommentRequest', additionalProperties: false, examples: [{ comment: 'The page now redirects to a new domain' }] })

export const AppealSchema = Type.Union([
  Type.Object({
    appeals: Type.Array(Type.Object({
      id: Type.String({ minLength: 1, description: 'Mitigation id' }),
      reason: Type.Enum(['removed', 'misclassified'])
    }, { additionalProperties: false }), { minItems: 1, maxItems: 100 })
  }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('content_removed') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('counter_notice'), data: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false })
], {
  $id: 'AppealRequest',
  examples: [{ appeals: [{ id: '3c4ffd020f5bd14dcc31-m2', reason: 'removed' }] }, { type: 'content_removed' }],
  description: 'Either per-mitigation appeals, or a report-level review (`content_removed`, or a DMCA `counter_notice` with its data)'
})

/** Actions on an existing case; which ones a provider offers is in `GET /v1/providers` (`capabilities.actions`). */
export const CASE_ACTIONS = ['takedown', 'monitor', 'mark-safe', 'escalate'] as const

export const ActionResultSchema = Type.Object({
  caseId: Type.String(),
  action: Type.String(),
  accepted: Type.Literal(true),
  detail: Type.String()
}, { $id: 'ActionResult', additionalProperties: false, examples: [ACTION_RESULT_EXAMPLE] })

export { CaseSchema }
