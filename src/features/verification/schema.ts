/** The API shapes of verified outcomes: the verification block and one probe (never the page body). */
import { Type, type Static } from 'typebox'
import { VERIFICATION_STATES } from './lifecycle.js'

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

const VERIFICATION_EXAMPLE = {
  state: 'verified_down' as const,
  firstSeenLiveAt: '2026-11-01T09:00:00.000Z',
  lastSeenLiveAt: '2026-11-02T08:00:00.000Z',
  downSince: '2026-11-02T10:00:00.000Z',
  verifiedDownAt: '2026-11-02T10:20:00.000Z',
  lastCheckedAt: '2026-11-02T10:20:00.000Z',
  nextCheckAt: '2026-11-02T11:20:00.000Z',
  checks: 6,
  relatedCaseIds: []
}

const When = Type.Union([Type.String({ format: 'date-time' }), Type.Null()])

export const VerificationSchema = Type.Object({
  state: Type.Enum(VERIFICATION_STATES, {
    description: '`not_checked` (no probe yet), `unprobeable` (email, phone, social), `live`, `down`, `blocked` (a warning page in front), ' +
      '`verified_down` (confirmed after the vendor said so), `stayed_down` (down through the monitoring window), `reappeared`, `disputed` ' +
      '(the vendor said taken down, every confirmation probe saw the page live)'
  }),
  firstSeenLiveAt: When,
  lastSeenLiveAt: When,
  downSince: When,
  verifiedDownAt: When,
  lastCheckedAt: When,
  nextCheckAt: When,
  checks: Type.Integer({ minimum: 0, description: 'Probes made of this case' }),
  relatedCaseIds: Type.Array(Type.String(), {
    description: 'Cases linked by a re-emergence with `VERIFY_ON_REAPPEAR=resubmit`: on the original, the case filed when the target came back; on that case, the original'
  })
}, { $id: 'Verification', additionalProperties: false, examples: [VERIFICATION_EXAMPLE] })
export type VerificationView = Static<typeof VerificationSchema>

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
