/**
 * Web Risk's wire shapes, as loose as the Submission API's evidence allows (the public proto `webrisk.proto`,
 * the REST reference of `projects.uris.submit` and "Long-running operations"): extra keys are allowed everywhere, enums
 * are strings (numbers tolerated), `closedReason` is read in both spellings.
 */
import { Type, type Static } from 'typebox'

/** SubmitUriRequest.threatInfo.abuseType */
export const ABUSE_TYPES = ['ABUSE_TYPE_UNSPECIFIED', 'MALWARE', 'SOCIAL_ENGINEERING', 'UNWANTED_SOFTWARE'] as const
export const CONFIDENCE_LEVELS = ['CONFIDENCE_LEVEL_UNSPECIFIED', 'LOW', 'MEDIUM', 'HIGH'] as const
export const JUSTIFICATION_LABELS = ['JUSTIFICATION_LABEL_UNSPECIFIED', 'MANUAL_VERIFICATION', 'USER_REPORT', 'AUTOMATED_REPORT'] as const
export const PLATFORMS = ['PLATFORM_UNSPECIFIED', 'ANDROID', 'IOS', 'MACOS', 'WINDOWS'] as const
/** SubmitUriMetadata.state */
export const OPERATION_STATES = ['STATE_UNSPECIFIED', 'RUNNING', 'SUCCEEDED', 'CANCELLED', 'FAILED', 'CLOSED'] as const

const Enumish = Type.Union([Type.String(), Type.Number()])

export const RpcStatusSchema = Type.Object({
  code: Type.Optional(Type.Number()),
  message: Type.Optional(Type.String()),
  status: Type.Optional(Type.String())
})

export const OperationSchema = Type.Object({
  name: Type.String(),
  done: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(Type.Object({
    state: Type.Optional(Enumish),
    createTime: Type.Optional(Type.String()),
    updateTime: Type.Optional(Type.String()),
    closedReason: Type.Optional(Enumish),
    closed_reason: Type.Optional(Enumish)
  })),
  error: Type.Optional(RpcStatusSchema),
  response: Type.Optional(Type.Object({
    uri: Type.Optional(Type.String()),
    threatTypes: Type.Optional(Type.Array(Enumish))
  }))
})
export type Operation = Static<typeof OperationSchema>

/** `uris:submit` answers the operation's name only (a `done` may come along) */
export const SubmitAnswerSchema = Type.Object({ name: Type.String({ pattern: '^projects/[^/]+/operations/[^/]+$' }) })

export const OperationListSchema = Type.Object({
  operations: Type.Optional(Type.Array(OperationSchema)),
  nextPageToken: Type.Optional(Type.String())
})

/** the operation's state word as the status table reads it: a number is the enum's index; absent is STATE_UNSPECIFIED */
export function stateOf (op: Operation): string {
  const s = op.metadata?.state
  if (typeof s === 'number') return OPERATION_STATES[s] ?? String(s)
  return s === undefined || s === '' ? 'STATE_UNSPECIFIED' : s
}

export function closedReasonOf (op: Operation): string | null {
  const r = op.metadata?.closedReason ?? op.metadata?.closed_reason
  return r === undefined ? null : String(r)
}
