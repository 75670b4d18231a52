/** Bulk submission (POST /v1/batches): the request, the batch, its items and the dry-run plan. */
import { Type, type Static } from 'typebox'
import { Nullable, NullableRfc3339Schema, Rfc3339Schema, TargetTypeSchema } from './common.js'
import { CreateFields, CreatePlanSchema } from './create.js'
import { CASE_EXAMPLE } from './examples.js'
import { ProblemSchema } from './problem.js'
import { ProviderIdSchema } from './provider.js'

/** The batch feature's settings (the configuration's `batches` slice). */
export interface BatchSettings {
  /** most items one batch may hold */
  maxItems: number
  /** how long a batch and its items are kept */
  retentionMs: number
  /** item jobs one replica works at once */
  concurrency: number
  /** share of each vendor's outbound budget batch work may use (0 < share <= 1) */
  budgetShare: number
  /** how long a claim on an item lasts when its worker dies; an item's deadline is half of it */
  claimMs: number
  /** attempts per item through passing vendor faults (connection lost, timeout, 5xx, 429) before it is `failed` */
  maxAttempts: number
}

export const BATCH_OUTCOMES = ['pending', 'created', 'duplicate', 'failed', 'cancelled'] as const
export type BatchOutcome = (typeof BATCH_OUTCOMES)[number]
export const BATCH_STATUSES = ['queued', 'running', 'completed', 'cancelled'] as const
export type BatchStatus = (typeof BATCH_STATUSES)[number]

/** Every create field except `target`, applied to each item (an item's own fields win; `brand` and `providerOptions` merge one level deep). */
export const BatchDefaultsSchema = Type.Object({
  provider: Type.Optional(ProviderIdSchema),
  ...CreateFields
}, {
  $id: 'BatchDefaults',
  additionalProperties: false,
  description: 'Create fields (all but `target`) applied to every item',
  examples: [{ provider: CASE_EXAMPLE.provider, comment: 'Kit hunt 2026-11-29', reportedBy: 'soc@acme.example' }]
})
export type BatchDefaults = Static<typeof BatchDefaultsSchema>

export const BatchRequestSchema = Type.Object({
  defaults: Type.Optional(BatchDefaultsSchema),
  items: Type.Array(Type.Object({}, {
    additionalProperties: true,
    description: 'A create body (POST /v1/cases), merged over `defaults` and validated exactly like a single create'
  }), { minItems: 1, description: 'Up to BATCH_MAX_ITEMS (default 1000) create bodies' })
}, {
  $id: 'BatchRequest',
  additionalProperties: false,
  examples: [{
    defaults: { provider: CASE_EXAMPLE.provider, comment: 'Kit hunt 2026-11-29', reportedBy: 'soc@acme.example' },
    items: [
      { target: { type: 'url', value: 'https://login-acme.example.io/secure' } },
      { target: { type: 'domain', value: 'acme-support.example.net' } },
      { target: { type: 'email', value: 'billing@acme-payments.example' } }
    ]
  }]
})
export type BatchRequest = Static<typeof BatchRequestSchema>

export const BatchQuerySchema = Type.Object({
  skipInvalid: Type.Optional(Type.Boolean({ default: false, description: 'Accept the valid items and report the invalid ones in `rejected` instead of a 400' })),
  dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Validate and return the plan per item (provider and exact vendor request) without storing or sending anything' }))
}, { additionalProperties: false })

const FieldErrors = Type.Array(Type.Object({ path: Type.String(), message: Type.String() }, { additionalProperties: false }))

export const RejectedItemSchema = Type.Object({
  index: Type.Integer({ description: 'Position in `items` (0-based)' }),
  row: Nullable<number>('integer', { description: 'CSV uploads: the line of the file (the header is line 1)' }),
  errors: FieldErrors
}, { additionalProperties: false })

const CountsSchema = Type.Object({
  created: Type.Integer(),
  duplicate: Type.Integer({ description: 'An open case for the target existed at the provider, or the target appeared earlier in the same batch' }),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
  pending: Type.Integer()
}, { additionalProperties: false })

export const BatchSchema = Type.Object({
  id: Type.String(),
  status: Type.Enum(BATCH_STATUSES),
  total: Type.Integer({ description: 'Accepted items (rejected ones not included)' }),
  counts: CountsSchema,
  rejected: Type.Array(RejectedItemSchema),
  createdBy: Type.String({ description: 'Name of the gateway key that submitted the batch' }),
  createdAt: Rfc3339Schema,
  cancelledAt: NullableRfc3339Schema,
  completedAt: NullableRfc3339Schema,
  expiresAt: Rfc3339Schema,
  links: Type.Object({ self: Type.String(), items: Type.String() }, { additionalProperties: false })
}, {
  $id: 'Batch',
  additionalProperties: false,
  examples: [{
    id: 'b_3q2v5R1nT8mYc0aZk4xW7e',
    status: 'running',
    total: 3,
    counts: { created: 1, duplicate: 1, failed: 0, cancelled: 0, pending: 1 },
    rejected: [],
    createdBy: 'soc',
    createdAt: '2026-11-29T10:00:00.000Z',
    cancelledAt: null,
    completedAt: null,
    expiresAt: '2026-12-29T10:00:00.000Z',
    links: { self: '/v1/batches/b_3q2v5R1nT8mYc0aZk4xW7e', items: '/v1/batches/b_3q2v5R1nT8mYc0aZk4xW7e/items' }
  }]
})
export type Batch = Static<typeof BatchSchema>

export const BatchItemSchema = Type.Object({
  index: Type.Integer(),
  row: Nullable<number>('integer'),
  target: Type.Object({ type: TargetTypeSchema, value: Type.String() }, { additionalProperties: false }),
  provider: ProviderIdSchema,
  outcome: Type.Enum(BATCH_OUTCOMES),
  caseId: Nullable<string>('string', { description: '`created`: the new case' }),
  existing: Nullable<string>('string', { description: '`duplicate`: the open case the provider already has' }),
  duplicateOf: Nullable<number>('integer', { description: '`duplicate`: the earlier item of this batch with the same target' }),
  problem: Type.Union([ProblemSchema, Type.Null()], { description: '`failed`: why' }),
  updatedAt: Rfc3339Schema
}, {
  $id: 'BatchItem',
  additionalProperties: false,
  examples: [{
    index: 0,
    row: 2,
    target: { type: 'url', value: 'https://login-acme.example.io/secure' },
    provider: CASE_EXAMPLE.provider,
    outcome: 'created',
    caseId: CASE_EXAMPLE.id,
    existing: null,
    duplicateOf: null,
    problem: null,
    updatedAt: '2026-11-29T10:00:02.000Z'
  }]
})
export type BatchItem = Static<typeof BatchItemSchema>

export const BatchItemPageSchema = Type.Object({
  items: Type.Array(BatchItemSchema),
  nextCursor: Nullable<string>('string')
}, {
  $id: 'BatchItemPage',
  additionalProperties: false,
  examples: [{
    items: [{
      index: 1,
      row: 3,
      target: { type: 'domain', value: 'acme-support.example.net' },
      provider: CASE_EXAMPLE.provider,
      outcome: 'duplicate',
      caseId: null,
      existing: `${CASE_EXAMPLE.provider}:8fQ2kLm0Zx1c7VbN3sDe`,
      duplicateOf: null,
      problem: null,
      updatedAt: '2026-11-29T10:00:03.000Z'
    }],
    nextCursor: 'i2'
  }]
})

export const BatchItemsQuerySchema = Type.Object({
  outcome: Type.Optional(Type.Enum(BATCH_OUTCOMES)),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 }))
}, { additionalProperties: false })

export const BatchListQuerySchema = Type.Object({
  status: Type.Optional(Type.Enum(BATCH_STATUSES, { description: 'Only batches in this status' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '`nextCursor` of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 }))
}, { additionalProperties: false })

export const BatchListSchema = Type.Object({
  items: Type.Array(BatchSchema),
  nextCursor: Nullable<string>('string', { description: 'Pass as `cursor` for older batches; null when there are none' })
}, {
  $id: 'BatchList',
  additionalProperties: false,
  examples: [{ items: [(BatchSchema as { examples?: unknown[] }).examples?.[0]], nextCursor: 'n41' }]
})

export const BatchPlanSchema = Type.Object({
  dryRun: Type.Literal(true),
  items: Type.Array(Type.Object({
    index: Type.Integer(),
    row: Nullable<number>('integer'),
    duplicateOf: Nullable<number>('integer', { description: 'Folded into this earlier item (same provider and target): not sent' }),
    plan: Type.Omit(CreatePlanSchema, ['dryRun'])
  }, { additionalProperties: false })),
  rejected: Type.Array(RejectedItemSchema)
}, {
  $id: 'BatchPlan',
  additionalProperties: false,
  examples: [{
    dryRun: true,
    items: [{
      index: 0,
      row: null,
      duplicateOf: null,
      plan: {
        provider: CASE_EXAMPLE.provider,
        routedBy: 'rule',
        request: { method: 'POST', path: '/v1/incident/tkd', contentType: 'application/json', body: { subject: 'https://login-acme.example.io/secure' }, files: [] },
        rejected: []
      }
    }],
    rejected: [{ index: 1, row: null, errors: [{ path: '/target/value', message: 'must use http or https' }] }]
  }]
})
export type BatchPlan = Static<typeof BatchPlanSchema>

export const BatchIdParamsSchema = Type.Object({
  id: Type.String({ pattern: '^b_[A-Za-z0-9_-]{8,64}$', description: 'Batch id' })
})
