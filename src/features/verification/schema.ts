/** The API shapes of the probe history: one probe (never the page body) and a page of them (the block is in schemas/verification.ts). */
import { Type } from 'typebox'
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
