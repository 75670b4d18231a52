/** Target intelligence on the wire: related cases, RDAP enrichment and the target lookup. */
import { Type, type Static } from 'typebox'
import { NullableRfc3339Schema, NullableString, Nullable, Rfc3339Schema } from './common.js'
import { UnifiedStatusSchema } from './unified-status.js'

export const ENRICHMENT_EXAMPLE = {
  registrar: { name: 'Cheapnames LLC', ianaId: '9992', abuse: { email: 'abuse@cheapnames.example', phone: '+1.5555550102' } },
  domain: { name: 'acme-verify.example.net', createdAt: '2026-10-30T08:00:00.000Z', expiresAt: '2027-10-30T08:00:00.000Z', statuses: ['clientHold', 'clientTransferProhibited'] },
  hosting: [{ ip: '198.51.100.24', networkName: 'EXAMPLE-CLOUD-1', cidr: '198.51.100.0/24', country: 'US', asn: 64500, abuse: { email: 'abuse@example-cloud.example', phone: null } }],
  fetchedAt: '2026-12-07T15:00:00.000Z',
  error: null
}

const AbuseSchema = Type.Object({ email: NullableString, phone: NullableString }, { additionalProperties: false })

export const EnrichmentSchema = Type.Object({
  registrar: Type.Union([Type.Object({
    name: NullableString,
    ianaId: Nullable<string>('string', { description: 'IANA Registrar ID' }),
    abuse: { ...AbuseSchema, description: 'The registrar\'s abuse contact, found in nested entities with the `abuse` role' }
  }, { additionalProperties: false }), Type.Null()]),
  domain: Type.Union([Type.Object({
    name: Type.String({ description: 'The domain the registry holds (the ICANN registrable domain: a private suffix such as github.io is not one)' }),
    createdAt: NullableRfc3339Schema,
    expiresAt: NullableRfc3339Schema,
    statuses: Type.Array(Type.String(), { description: 'EPP status codes (`clientHold`, `serverHold`, `pendingDelete`, ...): a hold means the registry stopped resolving the domain' })
  }, { additionalProperties: false }), Type.Null()]),
  hosting: Type.Array(Type.Object({
    ip: Type.String(),
    networkName: NullableString,
    cidr: NullableString,
    country: NullableString,
    asn: Nullable<number>('integer', { description: 'Origin AS where the RIR gives it (ARIN), else null' }),
    abuse: AbuseSchema
  }, { additionalProperties: false }), { description: 'The networks of the host\'s addresses (at most two), from their RIR' }),
  fetchedAt: { ...NullableRfc3339Schema, description: 'When the oldest record shown was fetched from its RDAP server (records are cached for RDAP_TTL_MS)' },
  error: Nullable<string>('string', { description: 'What could not be looked up and why (the rest is still given); null when everything answered' })
}, {
  $id: 'Enrichment',
  additionalProperties: false,
  description: 'RDAP (RFC 9083) facts about the target: registrar and its abuse contact, registration dates and EPP statuses, hosting networks. ' +
    'Present when RDAP_ENABLED is on and the target has a host; null for email and phone targets.',
  examples: [ENRICHMENT_EXAMPLE]
})
export type EnrichmentBlock = Static<typeof EnrichmentSchema>

export const RelatedCaseSchema = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  status: UnifiedStatusSchema,
  terminal: Type.Boolean(),
  value: Type.String({ description: 'The related case\'s target value' }),
  createdAt: Rfc3339Schema,
  match: Type.Enum(['host', 'registrableDomain'], { description: '`host`: the same host; `registrableDomain`: another host under the same registrable domain' })
}, { additionalProperties: false })
export type RelatedCase = Static<typeof RelatedCaseSchema>
