/**
 * Filing a case's target anew, at the first provider of an order that can take it, through the write path
 * `POST /v1/cases` uses and under one idempotency key: a retry, or another replica acting on the same step, gets the
 * same case back. Re-emergences (`VERIFY_ON_REAPPEAR=resubmit`) and service-level failovers both go through here.
 */
import { Cancellation } from '../connectors/deadline.js'
import { GatewayError } from '../domain/problems.js'
import type { Logger } from '../logger.js'
import type { Case } from '../schemas/case.js'
import type { TargetType } from '../schemas/common.js'
import type { CreateCaseBody } from '../schemas/create.js'
import type { ProviderId } from '../schemas/provider.js'
import type { CaseService } from './cases.js'
import type { Idempotency } from './idempotency.js'
import type { CaseWriteService } from './writes.js'

export interface RefileDeps {
  writes: CaseWriteService
  cases: CaseService
  idempotency: Idempotency
  log: Logger
}

/** a provider that cannot take the target (or still holds it as a case of its own): the next of the order */
const CANNOT_TAKE: ReadonlySet<string> = new Set(['GW_ERR_UNSUPPORTED', 'GW_ERR_PROVIDER_OFF', 'GW_ERR_VALIDATION', 'GW_ERR_DUPLICATE_CASE'])

export interface Refiling {
  /** the case whose target is filed again (its brand goes along) */
  caseId: string
  target: { type: TargetType, value: string }
  /** providers tried in this order */
  order: readonly ProviderId[]
  comment: string
  /** the idempotency client and key of this step: one step, one new case */
  client: string
  key: string
  /** how long the key stays claimed if this process dies mid-create (default: the idempotency service's) */
  inFlightMs?: number
}

/** The new case; GW_ERR_UNSUPPORTED (or the last provider's refusal) when no provider of the order can take the target. */
export async function refile (deps: RefileDeps, r: Refiling): Promise<Case> {
  const signal = new Cancellation()
  const original = await deps.cases.get(r.caseId, { raw: false }, signal, deps.log)
  const body = {
    target: { type: r.target.type, value: r.target.value },
    ...(original.brand.id === null && original.brand.name === null ? {} : { brand: { ...(original.brand.id === null ? {} : { id: original.brand.id }), ...(original.brand.name === null ? {} : { name: original.brand.name }) } }),
    comment: r.comment,
    // the reason for a second case on the target is the step itself
    allowDuplicate: true
  }
  const { response } = await deps.idempotency.run(r.client, r.key, r.key, async () => {
    let last: unknown = null
    for (const provider of r.order) {
      try {
        const created = await deps.writes.create({ ...body, provider } as CreateCaseBody, [], { dryRun: false }, signal, deps.log)
        if (created.kind !== 'created') throw new Error('unreachable: a create returned a plan')
        return { response: { status: 201, headers: {}, body: created.case }, record: true }
      } catch (err) {
        if (!(err instanceof GatewayError) || !CANNOT_TAKE.has(err.code)) throw err
        last = err
      }
    }
    throw last ?? new GatewayError('GW_ERR_UNSUPPORTED', `No provider can take ${r.target.type} targets`)
  }, r.inFlightMs === undefined ? {} : { inFlightMs: r.inFlightMs })
  return response.body as Case
}
