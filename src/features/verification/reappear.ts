/**
 * What a re-emergence does beyond its event (`VERIFY_ON_REAPPEAR`): `resubmit` files a new case for the target through
 * the write path (services/refile.ts), at the case's provider or, when it cannot take the target, the first able one
 * of the routing order, under an idempotency key of the case and the re-emergence (a retry or a second replica gets
 * the same case back); `reopen` sends the vendor a comment naming the re-emergence where the provider takes comments.
 */
import { Cancellation } from '../../connectors/deadline.js'
import { GatewayError } from '../../domain/problems.js'
import type { Case } from '../../schemas/case.js'
import type { TargetType } from '../../schemas/common.js'
import type { ProviderId } from '../../schemas/provider.js'
import { refile, type RefileDeps } from '../../services/refile.js'
import type { Verification } from './lifecycle.js'

export interface ReappearDeps extends RefileDeps {
  /** the routing order per target type (ROUTING_*) */
  routing: Record<TargetType, readonly ProviderId[]>
}

/** the idempotency client of the gateway's own re-emergence creates */
const CLIENT = 'gateway:verification'

const words = (v: Verification): string =>
  `The target ${v.target.value} is live again (re-emergence ${v.reappearances}) after it was ${v.verifiedDownAt === null ? 'seen down' : `verified down at ${new Date(v.verifiedDownAt).toISOString()}`}`

export async function resubmit (deps: ReappearDeps, v: Verification): Promise<Case> {
  return await refile(deps, {
    caseId: v.caseId,
    target: { type: v.target.type, value: v.target.value },
    order: [v.provider as ProviderId, ...deps.routing[v.target.type].filter(p => p !== v.provider)],
    comment: `${words(v)}; the earlier case is ${v.caseId}`,
    client: CLIENT,
    key: `reappeared:${v.caseId}:${v.reappearances}`
  })
}

/** `reopen`: a comment to the vendor where the provider takes comments (a provider without them: nothing sent) */
export async function commentReappeared (deps: ReappearDeps, v: Verification): Promise<boolean> {
  try {
    await deps.writes.comment(v.caseId, `${words(v)}. Please act on it again.`, new Cancellation(), deps.log)
    return true
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_UNSUPPORTED') return false
    throw err
  }
}
