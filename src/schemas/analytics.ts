import { Type, type Static } from 'typebox'
import { Nullable, TargetTypeSchema } from './common.js'
import { CASE_EXAMPLE, PROVIDER_LIST_EXAMPLE } from './examples.js'
import { ProviderIdSchema } from './provider.js'
import { UNIFIED_STATUSES } from './unified-status.js'

export const TakedownQuerySchema = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Cases created at or after (RFC 3339)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Cases created before (RFC 3339, exclusive)' })),
  provider: Type.Optional(Type.String({ description: 'Comma-separated provider ids', examples: [PROVIDER_LIST_EXAMPLE] })),
  targetType: Type.Optional(TargetTypeSchema),
  groupBy: Type.Optional(Type.String({ description: 'Comma-separated: any of `provider`, `targetType`, `month` (UTC creation month), `tld` (the target\'s public suffix, as `target.publicSuffix`: `com`, `co.uk`, private suffixes such as `github.io` included; `unknown` for targets without one), `registrar` and `hostingNetwork` (from RDAP, recorded per case once its enrichment is known, e.g. by a case detail read; never looked up per query: `unknown` until then). None: one group over every case.', examples: ['provider,month'] }))
}, { additionalProperties: false })
export type TakedownQuery = Static<typeof TakedownQuerySchema>

const GROUP_EXAMPLE = {
  key: { provider: CASE_EXAMPLE.provider },
  cases: 120,
  statuses: { received: 2, in_review: 1, awaiting_customer: 0, monitoring: 0, in_progress: 7, mitigated: 0, taken_down: 100, failed: 10, cancelled: 0, closed: 0, unknown: 0 },
  takenDown: 100,
  failed: 10,
  cancelled: 0,
  successRate: 0.9090909090909091,
  reopened: 0,
  timeToTakedown: { count: 100, median: 15300, p90: 27060, max: 30000, vendorTimed: 100, worstPrecisionSeconds: 0 },
  timeToFirstAction: { count: 107, median: 3600, p90: 7200 },
  backlog: { '<1d': 4, '1-7d': 6, '7-30d': 0, '>30d': 0 }
}

const Seconds = Nullable<number>('number', { description: 'Seconds; null when no case of the group has the milestone' })

const GroupSchema = Type.Object({
  key: Type.Object({
    provider: Type.Optional(ProviderIdSchema),
    targetType: Type.Optional(TargetTypeSchema),
    month: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'UTC creation month' })),
    tld: Type.Optional(Type.String({ description: 'The target\'s public suffix (`target.publicSuffix`); `unknown` when it has none (an IP address, an e-mail, a phone) or the case was recorded before the gateway kept it' })),
    registrar: Type.Optional(Type.String({ description: 'The registrar RDAP names for the target\'s domain, as recorded when the case\'s enrichment became known (a case detail read); `unknown` until then, or when the registry named none' })),
    hostingNetwork: Type.Optional(Type.String({ description: 'The RDAP name of the network the target\'s host first resolved into, recorded like `registrar`; `unknown` until known' }))
  }, { additionalProperties: false, description: 'The values of the groupBy dimensions; empty without groupBy' }),
  cases: Type.Integer({ description: 'Cases created in the window' }),
  statuses: Type.Object(Object.fromEntries(UNIFIED_STATUSES.map(s => [s, Type.Integer()])), {
    additionalProperties: false,
    description: 'Cases per current unified status'
  }),
  takenDown: Type.Integer({ description: 'Cases now taken_down' }),
  failed: Type.Integer({ description: 'Cases now failed' }),
  cancelled: Type.Integer({ description: 'Cases now cancelled' }),
  successRate: Nullable<number>('number', { description: 'taken_down ÷ cases in a terminal status (taken_down, failed, cancelled, closed); null when none is terminal' }),
  reopened: Type.Integer({ description: 'Cases that went from a terminal status back to an open one at least once' }),
  timeToTakedown: Type.Object({
    count: Type.Integer({ description: 'Cases that reached taken_down at least once (a reopened case keeps its first takedown)' }),
    median: Seconds,
    p90: Seconds,
    max: Seconds,
    vendorTimed: Type.Integer({ description: 'How many of them are dated by the vendor\'s own timestamp (the rest by the gateway\'s observation)' }),
    worstPrecisionSeconds: Nullable<number>('integer', { description: 'The largest uncertainty of one figure (the poll interval of an observed change); null when unknown for some case or no case' })
  }, { additionalProperties: false, description: 'createdAt → first taken_down' }),
  timeToFirstAction: Type.Object({
    count: Type.Integer(),
    median: Seconds,
    p90: Seconds
  }, { additionalProperties: false, description: 'createdAt → first in_progress, mitigated or taken_down' }),
  backlog: Type.Object({
    '<1d': Type.Integer(),
    '1-7d': Type.Integer(),
    '7-30d': Type.Integer(),
    '>30d': Type.Integer()
  }, { additionalProperties: false, description: 'Open (non-terminal) cases by age since creation' })
}, { $id: 'TakedownGroup', additionalProperties: false, examples: [GROUP_EXAMPLE] })
export type TakedownGroup = Static<typeof GroupSchema>
export { GroupSchema as TakedownGroupSchema }

export const TakedownReportSchema = Type.Object({
  from: Nullable<string>('string', { format: 'date-time' }),
  to: Nullable<string>('string', { format: 'date-time' }),
  groupBy: Type.Array(Type.Union([Type.Literal('provider'), Type.Literal('targetType'), Type.Literal('month'), Type.Literal('tld'), Type.Literal('registrar'), Type.Literal('hostingNetwork')])),
  generatedAt: Type.String({ format: 'date-time' }),
  groups: Type.Array(GroupSchema, { description: 'Sorted by provider, target type, month, tld, registrar, hosting network' })
}, {
  $id: 'TakedownReport',
  additionalProperties: false,
  examples: [{
    from: '2026-10-01T00:00:00.000Z',
    to: null,
    groupBy: ['provider'],
    generatedAt: '2026-11-01T00:00:00.000Z',
    groups: [GROUP_EXAMPLE]
  }]
})
export type TakedownReport = Static<typeof TakedownReportSchema>

export const BackfillResultSchema = Type.Object({
  cases: Type.Integer({ description: 'Cases the listing walk met' }),
  recorded: Type.Integer({ description: 'Of them, the cases that had no milestones yet and now have' })
}, { $id: 'BackfillResult', additionalProperties: false, examples: [{ cases: 108, recorded: 108 }] })
