/** The API shapes of the probe history: one probe (never the page body) and a page of them (the block is in schemas/verification.ts). */
import { Type, type Static } from 'typebox'
import { TakedownQuerySchema } from '../../schemas/analytics.js'
import { Nullable, TargetTypeSchema } from '../../schemas/common.js'
import { ProviderIdSchema } from '../../schemas/provider.js'
import { VERIFICATION_EXAMPLE, VerificationSchema } from '../../schemas/verification.js'

const CHECK_EXAMPLE = {
  id: '3f6c1d2e-8a0b-4c55-9e61-2b7f0c9d4a10',
  caseId: 'bf_48213',
  at: '2026-11-02T10:20:00.000Z',
  outcome: 'down' as const,
  reason: 'signature:registrar-domain-suspended',
  url: 'https://login-acme.example/',
  dns: { code: 'NOERROR', addresses: ['203.0.113.7'], cnames: [] },
  redirects: [{ url: 'https://login-acme.example/', status: 200 }],
  finalStatus: 200,
  tls: { issuer: "Let's Encrypt / R11", validTo: '2027-01-30T23:59:59.000Z', error: null },
  bodySha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  fingerprint: '8c1f02a4d3e95b70',
  title: 'Domain Suspended',
  bytes: 1843,
  durationMs: 412
}

export const CheckSchema = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  at: Type.String({ format: 'date-time' }),
  outcome: Type.Enum(['live', 'down', 'blocked', 'unknown', 'unprobeable']),
  reason: Type.String({ description: 'Why: nxdomain, connection_refused, timeout, http_404, signature:<id>, refused (the address guard) ...' }),
  url: Type.Union([Type.String(), Type.Null()]),
  dns: Type.Union([Type.Object({
    code: Type.String(),
    addresses: Type.Array(Type.String()),
    cnames: Type.Array(Type.String())
  }, { additionalProperties: false }), Type.Null()]),
  redirects: Type.Array(Type.Object({ url: Type.String(), status: Type.Union([Type.Integer(), Type.Null()]) }, { additionalProperties: false })),
  finalStatus: Type.Union([Type.Integer(), Type.Null()]),
  tls: Type.Union([Type.Object({
    issuer: Type.Union([Type.String(), Type.Null()]),
    validTo: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()])
  }, { additionalProperties: false }), Type.Null()]),
  bodySha256: Type.Union([Type.String(), Type.Null()]),
  fingerprint: Type.Union([Type.String(), Type.Null()], { description: '64-bit simhash of the page text: a cosmetic change keeps it within a few bits' }),
  title: Type.Union([Type.String(), Type.Null()], { description: 'The page title, sanitised' }),
  bytes: Type.Integer({ minimum: 0 }),
  durationMs: Type.Integer({ minimum: 0 })
}, { $id: 'Check', additionalProperties: false, examples: [CHECK_EXAMPLE] })

export const CheckPageSchema = Type.Object({
  verification: VerificationSchema,
  items: Type.Array(CheckSchema),
  total: Type.Integer({ minimum: 0 }),
  nextOffset: Type.Union([Type.Integer(), Type.Null()])
}, { $id: 'CheckPage', additionalProperties: false, examples: [{ verification: VERIFICATION_EXAMPLE, items: [CHECK_EXAMPLE], total: 6, nextOffset: 1 }] })

export const CheckAcceptedSchema = Type.Object({
  location: Type.String({ description: 'The probe history, where the result appears' })
}, { $id: 'CheckAccepted', additionalProperties: false, examples: [{ location: '/v1/cases/bf_48213/checks' }] })

export const ChecksQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 }))
}, { additionalProperties: false })

/** `GET /v1/analytics/verification`: the query conventions of `/v1/analytics/takedowns` (from/to, provider, targetType, groupBy). */
export const VERIFICATION_GROUP_BY = ['provider', 'targetType', 'month'] as const

export const VerificationAnalyticsQuerySchema = Type.Object({
  from: TakedownQuerySchema.properties.from,
  to: TakedownQuerySchema.properties.to,
  provider: TakedownQuerySchema.properties.provider,
  targetType: TakedownQuerySchema.properties.targetType,
  groupBy: Type.Optional(Type.String({ description: 'Comma-separated: any of `provider`, `targetType`, `month` (UTC creation month). None: one group over every case.', examples: ['provider,targetType'] }))
}, { additionalProperties: false })
export type VerificationAnalyticsQuery = Static<typeof VerificationAnalyticsQuerySchema>

const Seconds = Nullable<number>('number', { description: 'Seconds; null when no case of the group has the figure' })
const Durations = (description: string): ReturnType<typeof Type.Object> => Type.Object({
  count: Type.Integer({ minimum: 0 }),
  median: Seconds,
  p90: Seconds,
  mean: Seconds
}, { additionalProperties: false, description })
const Rate = Nullable<number>('number', { minimum: 0, maximum: 1, description: 'The ratio; null when the denominator is 0' })

const VERIFICATION_GROUP_EXAMPLE = {
  key: { targetType: 'url' },
  cases: 40,
  verifiedTimeToTakedown: { count: 25, median: 18_000, p90: 61_200, mean: 26_784 },
  liveTimeAfterReport: { count: 31, median: 9_000, p90: 43_200, mean: 15_890.323 },
  reemergence: { verifiedDown: 25, reappeared: 2, rate: 0.08 },
  dispute: { claimed: 30, disputed: 3, rate: 0.1 },
  stayedDown: 18
}

export const VerificationGroupSchema = Type.Object({
  key: Type.Object({
    provider: Type.Optional(ProviderIdSchema),
    targetType: Type.Optional(TargetTypeSchema),
    month: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'UTC creation month' }))
  }, { additionalProperties: false, description: 'The values of the groupBy dimensions; empty without groupBy' }),
  cases: Type.Integer({ minimum: 0, description: 'Cases created in the window that the gateway verifies (unprobeable targets included)' }),
  verifiedTimeToTakedown: Durations('createdAt → the first verifiedDownAt (the gateway\'s own probes confirmed the takedown); a re-verification after a re-emergence does not move it'),
  liveTimeAfterReport: Durations('createdAt → the first probe that saw the target down or blocked'),
  reemergence: Type.Object({
    verifiedDown: Type.Integer({ minimum: 0, description: 'Cases verified down at least once' }),
    reappeared: Type.Integer({ minimum: 0, description: 'Of those, cases seen live again during the monitoring window (VERIFY_MONITOR_DAYS)' }),
    rate: Rate
  }, { additionalProperties: false, description: 'reappeared ÷ verifiedDown' }),
  dispute: Type.Object({
    claimed: Type.Integer({ minimum: 0, description: 'Cases the vendor said mitigated or taken_down at least once' }),
    disputed: Type.Integer({ minimum: 0, description: 'Of those, cases whose whole confirmation run saw the page live' }),
    rate: Rate
  }, { additionalProperties: false, description: 'disputed ÷ claimed' }),
  stayedDown: Type.Integer({ minimum: 0, description: 'Cases that stayed down for the whole monitoring window' })
}, { $id: 'VerificationGroup', additionalProperties: false, examples: [VERIFICATION_GROUP_EXAMPLE] })
export type VerificationGroup = Static<typeof VerificationGroupSchema>

export const VerificationReportSchema = Type.Object({
  from: Nullable<string>('string', { format: 'date-time' }),
  to: Nullable<string>('string', { format: 'date-time' }),
  groupBy: Type.Array(Type.Union([Type.Literal('provider'), Type.Literal('targetType'), Type.Literal('month')])),
  generatedAt: Type.String({ format: 'date-time' }),
  groups: Type.Array(VerificationGroupSchema, { description: 'Sorted by provider, target type, month' })
}, {
  $id: 'VerificationReport',
  additionalProperties: false,
  examples: [{ from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', groupBy: ['targetType'], generatedAt: '2026-12-07T12:00:00.000Z', groups: [VERIFICATION_GROUP_EXAMPLE] }]
})
export type VerificationReport = Static<typeof VerificationReportSchema>
