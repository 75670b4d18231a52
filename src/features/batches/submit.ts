/**
 * Submitting a batch: every item through the single-create checks (schema, target rules, routing, provider
 * options) as a dry run, in-batch duplicates folded into their first item, then the item records, the batch record,
 * the owner's list entry and one job per item.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../clock.js'
import type { CancelSignal } from '../../connectors/deadline.js'
import { mapLimit } from '../../connectors/map-limit.js'
import { GatewayError } from '../../domain/problems.js'
import { normaliseTarget } from '../../domain/target.js'
import type { JobRunner } from '../../jobs/port.js'
import type { Logger } from '../../logger.js'
import type { Batch, BatchDefaults, BatchPlan, BatchSettings } from '../../schemas/batch.js'
import type { CreateCaseBody, CreatePlan } from '../../schemas/create.js'
import type { CaseWriteService } from '../../services/writes.js'
import { keys } from '../../store/keys.js'
import { storeFailure, type BatchRecords, type ItemRecord, type Meta } from './records.js'
import { BATCH_QUEUE, batchItemRoutingKey, type BatchJob } from './run.js'

/** Field errors of one item against the single-create schema; null when it passes. */
export type ItemValidator = (body: unknown) => Array<{ path: string, message: string }> | null

export interface SubmitInput {
  defaults: BatchDefaults | undefined
  items: Array<Record<string, unknown>>
  /** CSV uploads: the file line of each item */
  rows: number[] | null
}

/** the owner's batch counter outlives every batch it numbers (a new count would overwrite live entries) */
const OWNER_SEQ_TTL_MS = 10 * 365 * 86_400_000

/** `b_<epoch>_<22 random characters>`; `b_<22 random characters>` while no epoch is known */
function batchId (epoch: string | null): string {
  const random = randomBytes(16).toString('base64url')
  return epoch === null ? `b_${random}` : `b_${epoch}_${random}`
}

export class BatchSubmitter {
  readonly #records: BatchRecords

  constructor (records: BatchRecords, private readonly deps: { writes: CaseWriteService, jobs: JobRunner, clock: Clock, settings: BatchSettings, epoch: () => string | null }) {
    this.#records = records
  }

  async submit (input: SubmitInput, opts: { skipInvalid: boolean, dryRun: boolean, client: string }, validate: ItemValidator,
    signal: CancelSignal, log: Logger): Promise<{ kind: 'plan', plan: BatchPlan } | { kind: 'batch', batch: Batch }> {
    const n = input.items.length
    if (n > this.deps.settings.maxItems) {
      throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `A batch holds at most ${this.deps.settings.maxItems} items (got ${n}); split it`)
    }
    const rowOf = (i: number): number | null => input.rows?.[i] ?? null
    const where = (i: number): string => input.rows === null ? `/items/${i}` : `/rows/${rowOf(i) ?? i}`
    const bodies = input.items.map(item => merge(input.defaults, item))
    // named before the checks: a measured routing rule draws each item's choice from the batch id and item index, so
    // the plan, the item's run and every retry of it route alike (routingKey)
    const id = batchId(this.deps.epoch())
    // every item through the single-create checks: the schema, then target rules, routing and provider options
    const checked = await mapLimit(bodies.map((body, i) => ({ body, i })), 8, async ({ body, i }): Promise<{ plan: CreatePlan } | { errors: Array<{ path: string, message: string }> }> => {
      const errors = validate(body)
      if (errors !== null) return { errors }
      try {
        const result = await this.deps.writes.create(body as CreateCaseBody, [], { dryRun: true, checkDuplicate: false, routingKey: batchItemRoutingKey(id, i) }, signal, log)
        if (result.kind !== 'plan') throw new Error('unreachable: a dry run created a case')
        return { plan: result.plan }
      } catch (err) {
        if (!(err instanceof GatewayError) || err.statusCode >= 500) throw err
        return { errors: err.extras.errors ?? [{ path: err.extras.provider === undefined ? '/' : '/provider', message: err.message }] }
      }
    })
    const rejected: Batch['rejected'] = []
    checked.forEach((c, i) => { if ('errors' in c) rejected.push({ index: i, row: rowOf(i), errors: c.errors }) })
    if (rejected.length > 0 && (!opts.skipInvalid || rejected.length === n)) {
      const errors = rejected.flatMap(r => r.errors.map(e => ({ path: where(r.index) + (e.path === '/' ? '' : e.path), message: e.message })))
      const named = rejected.slice(0, 10).map(r => (r.row === null ? `item ${r.index}` : `row ${r.row}`) + `: ${r.errors.map(e => `${e.path} ${e.message}`).join(', ')}`)
      throw new GatewayError('GW_ERR_VALIDATION',
        `${rejected.length} of ${n} items are invalid, nothing was sent${opts.skipInvalid ? '' : ' (skipInvalid=true accepts the valid ones)'}: ${named.join('; ')}` +
        (rejected.length > 10 ? `; and ${rejected.length - 10} more` : ''), { errors })
    }

    // in-batch duplicates: the same target at the same provider is sent once
    const first = new Map<string, number>()
    const accepted: Array<{ index: number, body: CreateCaseBody, plan: CreatePlan, duplicateOf: number | null }> = []
    checked.forEach((c, i) => {
      if (!('plan' in c)) return
      const body = bodies[i] as CreateCaseBody
      const key = `${c.plan.provider}|${body.action ?? 'takedown'}|${body.target.type}|${normaliseTarget(body.target.type, body.target.value)}`
      const earlier = body.allowDuplicate === true ? undefined : first.get(key)
      if (earlier === undefined) first.set(key, i)
      accepted.push({ index: i, body, plan: c.plan, duplicateOf: earlier ?? null })
    })
    if (opts.dryRun) {
      return {
        kind: 'plan',
        plan: {
          dryRun: true,
          items: accepted.map(a => {
            const { dryRun: _d, ...plan } = a.plan
            return { index: a.index, row: rowOf(a.index), duplicateOf: a.duplicateOf, plan }
          }),
          rejected
        }
      }
    }

    return { kind: 'batch', batch: await this.#records.reachable('the batch was not accepted', async () => await this.#record(id, accepted, rejected, rowOf, opts.client, log)) }
  }

  async #record (id: string, accepted: Array<{ index: number, body: CreateCaseBody, plan: CreatePlan, duplicateOf: number | null }>, rejected: Batch['rejected'],
    rowOf: (i: number) => number | null, client: string, log: Logger): Promise<Batch> {
    const now = this.deps.clock.now()
    const meta: Meta = {
      id,
      createdBy: client,
      createdAt: now,
      expiresAt: now + this.deps.settings.retentionMs,
      total: accepted.length,
      folded: accepted.filter(a => a.duplicateOf !== null).length,
      rejected
    }
    // item records first, the batch record last: a batch that can be read has all its items
    await mapLimit(accepted, 32, async a => {
      const rec: ItemRecord = {
        index: a.index,
        row: rowOf(a.index),
        body: a.body,
        provider: a.plan.provider,
        outcome: a.duplicateOf === null ? 'pending' : 'duplicate',
        caseId: null,
        existing: null,
        duplicateOf: a.duplicateOf,
        problem: null,
        attempts: 0,
        updatedAt: now
      }
      await this.#records.putItem(meta, rec)
    })
    await this.#records.store.set(keys.batch(meta.id), JSON.stringify(meta), { ttlMs: this.deps.settings.retentionMs })
    // the owner's list: the n-th batch of a key is entry n, so newest first is counting down
    const { value: n } = await this.#records.store.incr(keys.batchesOf(client, 'seq'), OWNER_SEQ_TTL_MS)
    await this.#records.store.set(keys.batchesOf(client, String(n)), meta.id, { ttlMs: this.deps.settings.retentionMs })
    await mapLimit(accepted.filter(a => a.duplicateOf === null), 32, async a => {
      await this.deps.jobs.add<BatchJob>(BATCH_QUEUE, { batchId: meta.id, index: a.index }, { jobId: `${meta.id}-${a.index}` }).catch(storeFailure)
    })
    log.info({ batchId: meta.id, items: meta.total, folded: meta.folded, rejected: rejected.length }, 'batch accepted')
    return await this.#records.view(meta)
  }
}

function merge (defaults: BatchDefaults | undefined, item: Record<string, unknown>): Record<string, unknown> {
  if (defaults === undefined) return { ...item }
  const out: Record<string, unknown> = { ...defaults, ...item }
  for (const k of ['brand', 'providerOptions', 'social'] as const) {
    const d = defaults[k]
    const own = item[k]
    if (d !== undefined && typeof own === 'object' && own !== null && !Array.isArray(own)) out[k] = { ...d, ...own }
  }
  return out
}
