import { Type, type Static, type TSchema } from 'typebox'
import { NullableRfc3339Schema, NullableString, Rfc3339Schema, TargetTypeSchema } from './common.js'
import { ProviderIdSchema } from './provider.js'
import { CASE_DETAIL_EXAMPLE, CASE_EXAMPLE, CASE_PAGE_EXAMPLE } from './examples.js'
import { EnrichmentSchema, RelatedCaseSchema } from './target-intel.js'
import { VerificationSchema } from './verification.js'
import { SlaSchema } from './sla.js'
import { UNIFIED_STATUSES, UnifiedStatusSchema, type UnifiedStatus } from './unified-status.js'

export const TargetSchema = Type.Object({
  type: TargetTypeSchema,
  value: Type.String({ description: 'The reported thing: URL, domain, email address, E.164 phone number, IPv4 address or social-media URL' }),
  domain: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'The host or domain as the vendor itself names it (kept for compatibility: vendors differ, Netcraft gives the registered domain where ' +
      'others give the host). `host` means the same on every vendor.'
  }),
  host: Type.Optional(Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'The target\'s host, the same on every vendor: lower-case, IDN labels as ASCII (punycode), no trailing dot, no port; an IP literal ' +
      'is the address (IPv6 without brackets). `www.` is kept (`www.example.com` and `example.com` are different hosts). Null for email and phone targets.'
  })),
  hostUnicode: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], description: '`host` for display: IDN labels in Unicode' })),
  registrableDomain: Type.Optional(Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'The registrable domain of `host` by the Public Suffix List, private suffixes included (`foo.github.io`, `example.co.uk`); ' +
      'null for IP literals, email and phone targets'
  })),
  publicSuffix: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'The public suffix of `host` (`co.uk`, `github.io`), private suffixes included' })),
  canonicalUrl: Type.Optional(Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'URL and social targets: the URL with scheme and host lower-case, the default port, the fragment and tracking parameters ' +
      '(`utm_*`, `gclid`, `fbclid`, `msclkid`, ... as the README lists) removed; path and other query parameters kept. Null otherwise.'
  })),
  submitted: Type.Optional(Type.String({
    description: 'The value as it was submitted, present only where the provider keeps the target in a reduced form: BforeAI reports ' +
      'a URL without a path (`https://acme-verify.example.net/`) as a `domain` target (`acme-verify.example.net`); `submitted` keeps the URL. ' +
      '`q` matches it too.'
  }))
}, { $id: 'Target', additionalProperties: false, examples: [CASE_EXAMPLE.target, { type: 'domain', value: 'acme-verify.example.net', domain: 'acme-verify.example.net', submitted: 'https://acme-verify.example.net/' }] })

export const CaseSchema = Type.Object({
  id: Type.String({ description: '`<provider>:<providerCaseId>`, percent-encoded where the native id needs it. Opaque to clients.' }),
  provider: ProviderIdSchema,
  providerCaseId: Type.String(),
  target: TargetSchema,
  status: UnifiedStatusSchema,
  terminal: Type.Boolean(),
  providerStatus: NullableString,
  brand: Type.Object({
    id: Type.Unsafe<string | number | null>({ type: ['string', 'integer', 'null'] }),
    name: NullableString
  }, { additionalProperties: false }),
  threat: Type.Object({
    class: NullableString,
    name: NullableString,
    platform: NullableString
  }, { additionalProperties: false }),
  reportedBy: NullableString,
  createdAt: Rfc3339Schema,
  updatedAt: NullableRfc3339Schema,
  links: Type.Object({
    self: Type.String(),
    provider: NullableString
  }, { additionalProperties: false }),
  verification: Type.Optional(VerificationSchema),
  sla: Type.Optional(Type.Union([SlaSchema, Type.Null()], { description: 'The service level (README \'Service levels\'); null when no rule of SLA_POLICY_FILE matches the case, absent while no rule is in force' }))
}, { $id: 'Case', additionalProperties: false, examples: [CASE_EXAMPLE] })
export type Case = Static<typeof CaseSchema>

export const HistoryEntrySchema = Type.Object({
  at: Rfc3339Schema,
  status: Type.Unsafe<UnifiedStatus | null>({ type: ['string', 'null'], enum: [...UNIFIED_STATUSES, null], description: 'The unified status this step reached, when known' }),
  providerStatus: NullableString,
  message: NullableString,
  source: Type.Enum(['provider', 'gateway'], {
    description: '`provider`: the vendor reported this step; `gateway`: the gateway recorded it (a write it made, a status change it saw), ' +
      'for vendors that keep no history of their own (BforeAI shows only its current state)'
  })
}, { $id: 'HistoryEntry', additionalProperties: false, examples: [CASE_DETAIL_EXAMPLE.history[1]] })
export type HistoryEntry = Static<typeof HistoryEntrySchema>

export const MitigationSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.String(),
  effectiveAt: NullableRfc3339Schema,
  entityType: NullableString,
  entityId: NullableString
}, {
  $id: 'Mitigation',
  additionalProperties: false,
  examples: [{ id: '3c4ffd020f5bd14dcc31-m2', type: 'account_suspend', status: 'active', effectiveAt: '2026-03-02T09:58:38.122Z', entityType: 'zone', entityId: 'aa36434ef2510c632d4e86a538cc03aa' }]
})
export type Mitigation = Static<typeof MitigationSchema>

export const CaseDetailSchema = Type.Object({
  ...CaseSchema.properties,
  history: Type.Array(HistoryEntrySchema, { description: 'Oldest first' }),
  mitigations: Type.Optional(Type.Array(MitigationSchema, { description: 'Cloudflare only' })),
  state: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'PhishFort incidentState' })),
  registrar: Type.Optional(Type.Union([Type.Object({
    name: NullableString,
    difficulty: NullableString,
    description: NullableString
  }, { additionalProperties: false }), Type.Null()])),
  hostingProvider: Type.Optional(NullableString),
  takedownStartedAt: Type.Optional(NullableRfc3339Schema),
  resolvedAt: Type.Optional(NullableRfc3339Schema),
  relatedCases: Type.Optional(Type.Array(RelatedCaseSchema, {
    description: 'Other cases the gateway has seen (any vendor, open or closed) with the same host or registrable domain, newest first, at most 50'
  })),
  enrichment: Type.Optional(Type.Union([EnrichmentSchema, Type.Null()])),
  raw: Type.Optional(Type.Unknown({ description: "The provider's own object, present with `?include=raw`" }))
}, { $id: 'CaseDetail', additionalProperties: false, examples: [CASE_DETAIL_EXAMPLE] })
export type CaseDetail = Static<typeof CaseDetailSchema>

export const ProviderErrorSchema = Type.Object({
  provider: ProviderIdSchema,
  status: Type.Integer({ description: 'The HTTP status this failure maps to (502, 503, 504, ...)' }),
  title: Type.String(),
  detail: Type.String()
}, { $id: 'ProviderError', additionalProperties: false, examples: [CASE_PAGE_EXAMPLE.errors[0]] })
export type ProviderError = Static<typeof ProviderErrorSchema>

/** The paging fields of a merged listing's query (cases, detections): the page size and the opaque cursor. */
export const PAGING_QUERY = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: '`nextCursor` of the previous page. Only valid with the same filters.' }))
}

/** A page of a merged listing: its items, the cursor of the next page, and the providers that failed. */
export function mergedPageSchema<T extends TSchema> (items: T, $id: string, example: unknown) {
  return Type.Object({
    items: Type.Array(items),
    nextCursor: NullableString,
    partial: Type.Boolean({ description: 'true when at least one provider failed; its failure is in `errors`' }),
    errors: Type.Array(ProviderErrorSchema)
  }, { $id, additionalProperties: false, examples: [example] })
}

export const CaseListQuerySchema = Type.Object({
  provider: Type.Optional(Type.String({ description: 'Comma-separated provider ids', examples: ['phishfort,cloudflare'] })),
  status: Type.Optional(Type.String({ description: 'Comma-separated unified statuses', examples: ['in_progress,awaiting_customer'] })),
  terminal: Type.Optional(Type.Boolean({
    description: '`false`: open cases only (every status but taken_down, failed, cancelled, closed); `true`: finished ones only. ' +
      'Combines with `status` (both must hold).'
  })),
  targetType: Type.Optional(TargetTypeSchema),
  q: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 2083,
    description: 'Case-insensitive substring of the target value (or of `target.submitted`); a URL also finds the domain case of its host'
  })),
  host: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 253,
    description: 'Cases whose `target.host` is this host, across vendors (normalised first: case, IDN, trailing dot; `www.` is a different host), ' +
      'e.g. `login.acme-verify.example.net`. No example value is declared: documentation tools that pre-fill examples would filter the list to nothing'
  })),
  registrableDomain: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 253,
    description: 'Cases whose `target.registrableDomain` is this domain, across vendors: every host under it, e.g. `acme-verify.example.net`'
  })),
  brand: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Brand id, or words of the brand name (case-insensitive, every word must appear: `acme` finds "Acme Bank" and "acme.com")' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'createdAt at or after (RFC 3339)' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'createdAt before (RFC 3339, exclusive)' })),
  verification: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Comma-separated verification states (`verification.state`): not_checked, unprobeable, live, down, blocked, verified_down, ' +
      'stayed_down, reappeared, disputed. Applied by the gateway to each page after the vendor pages are merged and the ' +
      'verification block is read (one batched store read per page): a page may hold fewer than `limit` cases, even none, ' +
      'with a `nextCursor`; follow the cursor until it is null. Combines with the other filters (all must hold). ' +
      'E.g. `verified_down,stayed_down`, `reappeared,disputed`'
  })),
  sla: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 100,
    description: 'Comma-separated service-level states (`sla.state`): on_track, at_risk, breached, met. Applied like `verification`, to each page ' +
      'after the `sla` block is read: a page may be short, even empty, with a `nextCursor`. A case without a service level (`sla` null) never matches. ' +
      'E.g. `at_risk,breached`'
  })),
  ...PAGING_QUERY
}, { additionalProperties: false })
export type CaseListQuery = Static<typeof CaseListQuerySchema>

export const CasePageSchema = mergedPageSchema(CaseSchema, 'CasePage', CASE_PAGE_EXAMPLE)
export type CasePage = Static<typeof CasePageSchema>
