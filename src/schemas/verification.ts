/** The verification block on a case (ADR 0042): what the gateway's own probes say about the target, beside what the vendor says. */
import { Type, type Static } from 'typebox'
import { Nullable } from './common.js'

export const VERIFICATION_STATES = ['not_checked', 'unprobeable', 'live', 'down', 'blocked', 'verified_down', 'stayed_down', 'reappeared', 'disputed'] as const
export type VerificationState = (typeof VERIFICATION_STATES)[number]

export function isVerificationState (s: string): s is VerificationState {
  return (VERIFICATION_STATES as readonly string[]).includes(s)
}

export const VERIFICATION_EXAMPLE = {
  state: 'verified_down' as const,
  firstSeenLiveAt: '2026-11-01T09:00:00.000Z',
  lastSeenLiveAt: '2026-11-02T08:00:00.000Z',
  downSince: '2026-11-02T10:00:00.000Z',
  verifiedDownAt: '2026-11-02T10:20:00.000Z',
  lastCheckedAt: '2026-11-02T10:20:00.000Z',
  nextCheckAt: '2026-11-02T11:20:00.000Z',
  checks: 6,
  relatedCaseIds: [] as string[]
}

/** a type array, not `anyOf` (common.ts `Nullable`): the block is serialised on every case a listing answers */
const When = Nullable<string>('string', { format: 'date-time' })

export const VerificationSchema = Type.Object({
  state: Type.Enum(VERIFICATION_STATES, {
    description: '`not_checked` (no probe yet, or verification is off), `unprobeable` (email, phone, social), `live`, `down`, `blocked` (a warning page in front), ' +
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
}, {
  $id: 'Verification',
  description: 'What the gateway\'s own probes of the target say (verified outcomes). On every case the API answers with (listings, detail, ' +
    'exports); `not_checked` for a case the gateway has no probe record of, which is every case while verification is off (VERIFY_ENABLED=false).',
  additionalProperties: false,
  examples: [VERIFICATION_EXAMPLE]
})
export type VerificationView = Static<typeof VerificationSchema>

/** the block of a case the gateway has no record for */
export const NOT_CHECKED: Readonly<VerificationView> = Object.freeze({
  state: 'not_checked' as const,
  firstSeenLiveAt: null,
  lastSeenLiveAt: null,
  downSince: null,
  verifiedDownAt: null,
  lastCheckedAt: null,
  nextCheckAt: null,
  checks: 0,
  relatedCaseIds: []
})
