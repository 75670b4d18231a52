/** Service levels on the wire: the `sla` block on a case, the data of the `case.sla_*` events, the policies and the compliance report. */
import { Type, type Static } from 'typebox'
import { NullableRfc3339Schema, NullableString, Rfc3339Schema, TargetTypeSchema } from './common.js'

export const SLA_STATES = ['on_track', 'at_risk', 'breached', 'met'] as const
export type SlaState = (typeof SLA_STATES)[number]

export function isSlaState (s: string): s is SlaState {
  return (SLA_STATES as readonly string[]).includes(s)
}

export const SLA_EXAMPLE = {
  policy: 'phishing-urls',
  firstActionDueAt: '2026-11-02T09:00:00.000Z',
  downDueAt: '2026-11-03T09:00:00.000Z',
  state: 'at_risk' as const,
  breachedAt: null,
  relatedCaseIds: [] as string[]
}

export const SlaSchema = Type.Object({
  policy: Type.String({ description: 'The id of the rule of SLA_POLICY_FILE the case falls under (the first that matches)' }),
  firstActionDueAt: { ...NullableRfc3339Schema, description: 'createdAt + firstActionWithin: by then the case should have left `received`; null when the rule sets none' },
  downDueAt: { ...NullableRfc3339Schema, description: 'createdAt + downWithin: by then the target should be down (`verified_down` with verification on, else `taken_down`/`mitigated`); null when the rule sets none' },
  state: Type.Enum(SLA_STATES, {
    description: '`met`: every due time of the rule was met; `breached`: one passed without its milestone (or the milestone came late); ' +
      '`at_risk`: a pending due time is less than the rule\'s warnBefore away; `on_track`: otherwise'
  }),
  breachedAt: { ...NullableRfc3339Schema, description: 'The earliest due time the case missed; null while none' },
  relatedCaseIds: Type.Array(Type.String(), { description: 'Cases a failover linked to this one: the case filed at the next provider, or the original' })
}, {
  $id: 'Sla',
  additionalProperties: false,
  description: 'The case\'s service level, evaluated at read time; `null` when no rule of the policy matches the case or the gateway did not see the case created',
  examples: [SLA_EXAMPLE]
})
export type Sla = Static<typeof SlaSchema>

export const SLA_EVENT_TYPES = ['case.sla_warning', 'case.sla_breached', 'case.escalated', 'case.failed_over'] as const
export type SlaEventType = (typeof SLA_EVENT_TYPES)[number]

export const SlaEventDataSchema = Type.Object({
  caseId: Type.String({ description: 'The case: the event is in its timeline too' }),
  provider: Type.String(),
  target: Type.Object({ type: TargetTypeSchema, value: Type.String() }, { additionalProperties: false }),
  policy: Type.String({ description: 'The rule that acted' }),
  clock: Type.Union([Type.Enum(['first_action', 'down']), Type.Null()], { description: 'Warnings and breaches: the due time concerned; null for escalations and failovers' }),
  dueAt: { ...Rfc3339Schema, description: 'When the step was due: the due time (breach), due time − warnBefore (warning), createdAt + escalateAfter / failoverAfter' },
  dryRun: Type.Boolean({ description: 'true: the rule is a dry run; the event says what would have happened and nothing was sent to any vendor' }),
  escalation: Type.Union([Type.Object({
    via: Type.Enum(['vendor', 'comment', 'none'], { description: '`vendor`: the provider\'s own escalation (the `escalate` action of its capabilities); `comment`: a comment to the vendor naming the breach; `none`: the provider takes neither' }),
    detail: NullableString
  }, { additionalProperties: false }), Type.Null()]),
  failover: Type.Union([Type.Object({
    caseId: { ...NullableString, description: 'The new case; null in a dry run, or when no provider could take the target' },
    provider: { ...NullableString, description: 'The provider it was (or would be) filed at' },
    cancelledOriginal: Type.Boolean()
  }, { additionalProperties: false }), Type.Null()]),
  relatedCaseIds: Type.Array(Type.String())
}, { additionalProperties: false, description: 'What the service level did about the case' })
export type SlaEventData = Static<typeof SlaEventDataSchema>

export const SlaPolicyRuleSchema = Type.Object({
  id: Type.String(),
  order: Type.Integer({ minimum: 1, description: 'Position in the file: the first rule that matches a case applies' }),
  rule: Type.Record(Type.String(), Type.Unknown(), { description: 'The rule as the file gives it' })
}, { additionalProperties: false })

export const SlaPoliciesSchema = Type.Object({
  origin: Type.String({ description: 'The policy file, `sandbox default`, or `none`' }),
  downMilestone: Type.Enum(['verified_down', 'vendor_status'], { description: '`verified_down` with verification on; else the vendor saying taken_down or mitigated' }),
  rules: Type.Array(SlaPolicyRuleSchema)
}, {
  $id: 'SlaPolicies',
  additionalProperties: false,
  examples: [{
    origin: '/etc/takedown-gateway/sla.json',
    downMilestone: 'verified_down',
    rules: [{ id: 'phishing-urls', order: 1, rule: { id: 'phishing-urls', match: { targetType: 'url' }, firstActionWithin: 'PT4H', downWithin: 'P1D', warnBefore: 'PT2H', failoverAfter: 'P2D' } }]
  }]
})

const Counts = {
  cases: Type.Integer({ minimum: 0 }),
  met: Type.Integer({ minimum: 0 }),
  breached: Type.Integer({ minimum: 0 }),
  atRisk: Type.Integer({ minimum: 0 }),
  onTrack: Type.Integer({ minimum: 0 }),
  complianceRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'met ÷ (met + breached): of the cases whose outcome is decided; null when none is' })
}
export const SlaGroupSchema = Type.Object({ key: Type.String(), ...Counts }, { additionalProperties: false })

export const SlaReportSchema = Type.Object({
  since: Rfc3339Schema,
  until: Rfc3339Schema,
  totals: Type.Object(Counts, { additionalProperties: false }),
  byProvider: Type.Array(SlaGroupSchema),
  byTargetType: Type.Array(SlaGroupSchema),
  byRule: Type.Array(SlaGroupSchema)
}, {
  $id: 'SlaReport',
  additionalProperties: false,
  description: 'Service-level compliance of the cases created in the window that a rule matched, evaluated now',
  examples: [{
    since: '2026-11-01T00:00:00.000Z',
    until: '2026-12-01T00:00:00.000Z',
    totals: { cases: 12, met: 8, breached: 2, atRisk: 1, onTrack: 1, complianceRate: 0.8 },
    byProvider: [{ key: 'phishfort', cases: 12, met: 8, breached: 2, atRisk: 1, onTrack: 1, complianceRate: 0.8 }],
    byTargetType: [{ key: 'url', cases: 12, met: 8, breached: 2, atRisk: 1, onTrack: 1, complianceRate: 0.8 }],
    byRule: [{ key: 'phishing-urls', cases: 12, met: 8, breached: 2, atRisk: 1, onTrack: 1, complianceRate: 0.8 }]
  }]
})
export type SlaReport = Static<typeof SlaReportSchema>

export const SlaReportQuerySchema = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time', description: 'createdAt at or after; default 30 days before `until`' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'createdAt before; default now' }))
}, { additionalProperties: false })
