/**
 * What a re-emergence does beyond its event (`VERIFY_ON_REAPPEAR`): `resubmit` files a new case for the target through
 * the write path `POST /v1/cases` uses, at the case's provider or, when it cannot take the target, the first able one
 * of the routing order, under an idempotency key of the case and the re-emergence (a retry or a second replica gets
 * the same case back); `reopen` sends the vendor a comment naming the re-emergence where the provider takes comments.
 */
import { Cancellation } from '../../connectors/deadline.js'
import { GatewayError } from '../../domain/problems.js'
import type { Logger } from '../../logger.js'
import type { Case } from '../../schemas/case.js'
import type { CreateCaseBody } from '../../schemas/create.js'
import type { TargetType } from '../../schemas/common.js'
import type { ProviderId } from '../../schemas/provider.js'
import type { CaseService } from '../../services/cases.js'
import type { Idempotency } from '../../services/idempotency.js'
import type { CaseWriteService } from '../../services/writes.js'
import type { Verification } from './lifecycle.js'

export interface ReappearDeps {
  writes: CaseWriteService
  cases: CaseService
  idempotency: Idempotency
  /** the routing order per target type (ROUTING_*) */
  routing: Record<TargetType, readonly ProviderId[]>
  log: Logger
}

/** the idempotency client of the gateway's own re-emergence creates */
const CLIENT = 'gateway:verification'
/** a provider that cannot take the target (or still holds it as a case of its own): the next of the routing order */
const CANNOT_TAKE: ReadonlySet<string> = new Set(['GW_ERR_UNSUPPORTED', 'GW_ERR_PROVIDER_OFF', 'GW_ERR_VALIDATION', 'GW_ERR_DUPLICATE_CASE'])

const words = (v: Verification): string =>
  `The target ${v.target.value} is live again (re-emergence ${v.reappearances}) after it was ${v.verifiedDownAt === null ? 'seen down' : `verified down at ${new Date(v.verifiedDownAt).toISOString()}`}`

export async function resubmit (deps: ReappearDeps, v: Verification): Promise<Case> {
  const signal = new Cancellation()
  const original = await deps.cases.get(v.caseId, { raw: false }, signal, deps.log)
  const body: CreateCaseBody = {
    provider: v.provider as ProviderId,
    target: { type: v.target.type, value: v.target.value },
    ...(original.brand.id === null && original.brand.name === null ? {} : { brand: { ...(original.brand.id === null ? {} : { id: original.brand.id }), ...(original.brand.name === null ? {} : { name: original.brand.name }) } }),
    comment: `${words(v)}; the earlier case is ${v.caseId}`,
    // the re-emergence is the reason for a second case on the target
    allowDuplicate: true
  } as CreateCaseBody
  const key = `reappeared:${v.caseId}:${v.reappearances}`
  const { response } = await deps.idempotency.run(CLIENT, key, key, async () => {
    const order = [v.provider as ProviderId, ...deps.routing[v.target.type].filter(p => p !== v.provider)]
    let last: unknown = null
    for (const provider of order) {
      try {
        const created = await deps.writes.create({ ...body, provider }, [], { dryRun: false }, signal, deps.log)
        if (created.kind !== 'created') throw new Error('unreachable: a create returned a plan')
        return { response: { status: 201, headers: {}, body: created.case }, record: true }
      } catch (err) {
        if (!(err instanceof GatewayError) || !CANNOT_TAKE.has(err.code)) throw err
        last = err
      }
    }
    throw last ?? new GatewayError('GW_ERR_UNSUPPORTED', `No provider can take ${v.target.type} targets`)
  })
  return response.body as Case
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
