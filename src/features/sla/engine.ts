/**
 * The service-level engine: keeps each case's facts from the change events (created, the first status after
 * `received`, the target down), re-computes the case's timers from them whenever they change (and for every tracked
 * case at start, so a changed policy file re-times them), and on each tick acts on the due timers one replica at a
 * time (a lease in the store; a replica that dies mid-step leaves it to another once the lease runs out). Each step is
 * an event recorded once per case and step; escalation and failover run under idempotency keys of the case, so a
 * retried or taken-over step asks the vendor once.
 */
import type { Clock } from '../../clock.js'
import { Cancellation } from '../../connectors/deadline.js'
import { GatewayError } from '../../domain/problems.js'
import { ruleFor, type SlaPolicy, type SlaRule } from '../../domain/sla-policy.js'
import type { Logger } from '../../logger.js'
import type { Case } from '../../schemas/case.js'
import type { AppendInput, CaseEvent } from '../../schemas/event.js'
import type { ProviderId } from '../../schemas/provider.js'
import type { SlaEventData, SlaEventType } from '../../schemas/sla.js'
import { isTerminal, type UnifiedStatus } from '../../schemas/unified-status.js'
import { refile, type RefileDeps } from '../../services/refile.js'
import { evaluate, type ActionKind, type SlaEvaluation, type SlaFacts } from './evaluate.js'
import type { SlaRecord, SlaStore } from './store.js'

/** the idempotency client of the gateway's own service-level steps */
const CLIENT = 'gateway:sla'
const VENDOR_DOWN: ReadonlySet<string> = new Set(['taken_down', 'mitigated'])
/** a replica acting on a step holds it this long (SLA_LEASE_MS), renewed while it acts; after a crash another replica takes it over */
export const LEASE_MS = 60_000
const TICK_LIMIT = 200
/** an escalation the provider cannot or will not do: the comment goes instead (anything else is retried) */
const REFUSED: ReadonlySet<string> = new Set(['GW_ERR_UNSUPPORTED', 'GW_ERR_PROVIDER_REJECTED'])
/** at start, the timers of cases created this far back are re-computed (older ones stay as they were) */
const RESYNC_MS = 90 * 86_400_000

export interface EngineDeps {
  store: SlaStore
  policy: SlaPolicy
  clock: Clock
  /** true: the target is down when the gateway's probes verify it (target.verified_down); false: when the vendor says taken_down or mitigated */
  verifiedDown: boolean
  append: (input: AppendInput) => Promise<unknown>
  /** the write path, the case reads and idempotency; absent: escalations and failovers are recorded as `none` */
  writes?: Omit<RefileDeps, 'log'>
  /** how long a replica holds a step it acts on (default LEASE_MS); its idempotency claims last as long */
  leaseMs?: number
  /** which providers take the `escalate` action (their modules' capabilities) */
  escalates: (provider: string) => boolean
  log: Logger
  onStep?: (type: SlaEventType, provider: string, policy: string, dryRun: boolean) => void
}

const iso = (t: number): string => new Date(t).toISOString()

const KIND_EVENT: Record<ActionKind, SlaEventType> = {
  'warn-first': 'case.sla_warning',
  'warn-down': 'case.sla_warning',
  'breach-first': 'case.sla_breached',
  'breach-down': 'case.sla_breached',
  escalate: 'case.escalated',
  failover: 'case.failed_over'
}

export function factsOf (c: Case, at: number): SlaFacts {
  return {
    caseId: c.id,
    provider: c.provider,
    target: { type: c.target.type, value: c.target.value },
    threatClass: c.threat.class,
    brand: { id: c.brand.id, name: c.brand.name },
    createdAt: Date.parse(c.createdAt),
    status: c.status,
    terminal: c.terminal,
    firstActionAt: c.status !== 'received' ? at : null,
    downAt: null
  }
}

export class SlaEngine {
  readonly #d: EngineDeps
  constructor (deps: EngineDeps) { this.#d = deps }

  get policy (): SlaPolicy { return this.#d.policy }
  get #lease (): number { return this.#d.leaseMs ?? LEASE_MS }
  get verifiedDown (): boolean { return this.#d.verifiedDown }
  now (): number { return this.#d.clock.now() }

  ruleOf (f: Pick<SlaFacts, 'provider' | 'threatClass' | 'brand'> & { target: { type: string } }): SlaRule | null {
    return ruleFor(this.#d.policy, { provider: f.provider, targetType: f.target.type, threatClass: f.threatClass, brand: f.brand })
  }

  /** the case's standing now; null when no rule matches it */
  evaluation (r: SlaRecord): SlaEvaluation | null {
    const rule = this.ruleOf(r.facts)
    return rule === null ? null : evaluate(rule, r.facts, this.#d.clock.now())
  }

  /** A recorded case event: created starts the record, a status change sets the milestones it reaches. */
  async caseEvent (e: CaseEvent): Promise<void> {
    const c = e.case
    const at = Date.parse(e.occurredAt ?? e.observedAt)
    if (e.type === 'case.created') {
      // only cases a rule matches are kept (a policy change at start re-times those; cases seen before it are not added)
      if (this.ruleOf({ provider: c.provider, target: c.target, threatClass: c.threat.class, brand: c.brand }) === null) return
      const f = factsOf(c, Date.parse(c.createdAt))
      if (!this.#d.verifiedDown && VENDOR_DOWN.has(c.status)) f.downAt = f.createdAt
      // a new record is timed from what the store answered; one that existed (another replica's, a failover's) is read
      await this.#retime(c.id, await this.#d.store.track(f) ?? await this.#d.store.get(c.id))
    } else {
      // the update answers the record it left: re-timed from that, without reading it again
      await this.#retime(c.id, await this.#d.store.update(c.id, {
        status: c.status,
        terminal: isTerminal(c.status as UnifiedStatus),
        ...(c.status !== 'received' ? { firstActionAt: at } : {}),
        ...(!this.#d.verifiedDown && VENDOR_DOWN.has(c.status) ? { downAt: at } : {})
      }))
    }
  }

  /** target.verified_down (verification on): the down milestone */
  async verifiedDownAt (caseId: string, at: number): Promise<void> {
    if (!this.#d.verifiedDown) return
    await this.#retime(caseId, await this.#d.store.update(caseId, { downAt: at }))
  }

  /** The case's timers, from its facts and its rule (none once it met its levels, or when no rule matches). */
  async reschedule (caseId: string): Promise<void> {
    await this.#retime(caseId, await this.#d.store.get(caseId))
  }

  async #retime (caseId: string, r: SlaRecord | null): Promise<void> {
    if (r === null) return
    await this.#d.store.schedule(caseId, this.evaluation(r)?.actions ?? [], r.done)
  }

  /** At start: every tracked case of the last 90 days is re-timed under the rules now in force. Returns how many. */
  async resync (): Promise<number> {
    const now = this.#d.clock.now()
    let since = now - RESYNC_MS
    let n = 0
    for (;;) {
      const ids = await this.#d.store.createdBetween(since, now + 1, 500)
      for (const id of ids) await this.reschedule(id)
      n += ids.length
      if (ids.length < 500) return n
      const last = await this.#d.store.get(ids.at(-1) as string)
      if (last === null || last.facts.createdAt <= since) return n
      since = last.facts.createdAt
    }
  }

  /** Acts on the timers due now that this replica claims; returns how many steps it took. */
  async tick (): Promise<number> {
    const now = this.#d.clock.now()
    const { store, clock } = this.#d
    const lease = this.#lease
    let n = 0
    for (const t of await store.due(now, TICK_LIMIT)) {
      if (!await store.claim(t, now, lease)) continue
      this.#d.log.info({ caseId: t.caseId, step: t.kind, leaseMs: lease }, 'sla: step claimed')
      // while this replica acts (a slow vendor), it keeps the step; once it dies the lease runs out within one lease
      const beat = setInterval(() => { store.renew(t, clock.now() + lease).catch(() => {}) }, Math.max(100, Math.floor(lease / 3)))
      beat.unref()
      try {
        if (await this.#fire(t.caseId, t.kind)) n++
      } catch (err) {
        // the lease stays: another tick (here or on another replica) tries again once it runs out
        this.#d.log.warn({ caseId: t.caseId, step: t.kind, err: (err as Error).message }, 'sla: a step failed; it is retried after its lease')
      } finally {
        clearInterval(beat)
      }
    }
    return n
  }

  async #fire (caseId: string, kind: ActionKind): Promise<boolean> {
    const r = await this.#d.store.get(caseId)
    const rule = r === null ? null : this.ruleOf(r.facts)
    const step = r === null || rule === null ? undefined : evaluate(rule, r.facts, this.#d.clock.now()).actions.find(a => a.kind === kind)
    // met since, terminal, or no rule any more: nothing to do
    if (r === null || rule === null || step === undefined) { await this.#d.store.finish(caseId, kind); return false }
    const f = r.facts
    const type = KIND_EVENT[kind]
    const data: SlaEventData = {
      caseId,
      provider: f.provider,
      target: { type: f.target.type as SlaEventData['target']['type'], value: f.target.value },
      policy: rule.id,
      clock: kind.endsWith('-first') ? 'first_action' : kind.endsWith('-down') ? 'down' : null,
      dueAt: iso(step.at),
      dryRun: rule.dryRun,
      escalation: null,
      failover: null,
      relatedCaseIds: Object.keys(r.related)
    }
    if (kind === 'escalate') data.escalation = rule.dryRun ? { via: this.#d.escalates(f.provider) ? 'vendor' : 'comment', detail: 'dry run: nothing was sent' } : await this.#escalate(r, rule)
    if (kind === 'failover') {
      const order = await this.#failoverOrder(r)
      if (rule.dryRun) data.failover = { caseId: null, provider: order[0] ?? null, cancelledOriginal: false }
      else {
        data.failover = await this.#failover(r, rule, order)
        if (data.failover.caseId !== null) data.relatedCaseIds = [...new Set([...data.relatedCaseIds, data.failover.caseId])]
      }
    }
    await this.#d.append({ type, data, key: `${type}:${caseId}:${kind}`, occurredAt: iso(this.#d.clock.now()) } as AppendInput)
    this.#d.onStep?.(type, f.provider, rule.id, rule.dryRun)
    this.#d.log.info({ caseId, step: kind, policy: rule.id, dryRun: rule.dryRun }, `sla: ${type}`)
    await this.#d.store.finish(caseId, kind)
    return true
  }

  #words (f: SlaFacts, rule: SlaRule): string {
    const due = rule.downWithinMs === null ? null : iso(f.createdAt + rule.downWithinMs)
    return `Service level "${rule.id}": the target ${f.target.value} reported at ${iso(f.createdAt)} is not down yet` + (due === null ? '' : ` (due ${due})`)
  }

  /** the vendor's own escalation where its module declares one, else a comment naming the breach; once per case */
  async #escalate (r: SlaRecord, rule: SlaRule): Promise<NonNullable<SlaEventData['escalation']>> {
    const w = this.#d.writes
    if (w === undefined) return { via: 'none', detail: 'the write path is not wired' }
    const f = r.facts
    const log = this.#d.log
    const key = `escalate:${f.caseId}`
    const { response } = await w.idempotency.run(CLIENT, key, key, async () => {
      let refused: string | null = null
      if (this.#d.escalates(f.provider)) {
        try {
          await w.writes.action(f.caseId, 'escalate', new Cancellation(), log)
          return { response: { status: 200, headers: {}, body: { via: 'vendor', detail: null } }, record: true }
        } catch (err) {
          // a vendor that refuses (e.g. a takedown not authorised yet) still hears about the breach; an outage is retried
          const refusal = err instanceof GatewayError ? REFUSED.has(err.code) : (err as { kind?: string }).kind === 'rejected'
          if (!refusal) throw err
          refused = (err as Error).message
        }
      }
      try {
        await w.writes.comment(f.caseId, `${this.#words(f, rule)}. Please escalate.`, new Cancellation(), log)
        return { response: { status: 200, headers: {}, body: { via: 'comment', detail: refused } }, record: true }
      } catch (err) {
        if (err instanceof GatewayError && err.code === 'GW_ERR_UNSUPPORTED') return { response: { status: 200, headers: {}, body: { via: 'none', detail: refused ?? `${f.provider} takes neither escalations nor comments` } }, record: true }
        throw err
      }
    }, { inFlightMs: this.#lease })
    return response.body as NonNullable<SlaEventData['escalation']>
  }

  /** the order a create of the target would route by (a measured rule's ranking, no exploration) without the providers the case already went through */
  async #failoverOrder (r: SlaRecord): Promise<ProviderId[]> {
    const w = this.#d.writes
    if (w === undefined) return []
    const tried = new Set([r.facts.provider, ...Object.values(r.related)])
    return await w.writes.routingOrder({ type: r.facts.target.type as Case['target']['type'], value: r.facts.target.value }, tried, this.#d.log)
  }

  /** the same target at the next able provider, once per case (idempotency key), linked both ways; the original cancelled when the rule says so */
  async #failover (r: SlaRecord, rule: SlaRule, order: ProviderId[]): Promise<NonNullable<SlaEventData['failover']>> {
    const w = this.#d.writes
    if (w === undefined || order.length === 0) return { caseId: null, provider: null, cancelledOriginal: false }
    const f = r.facts
    let created: Case
    try {
      created = await refile({ ...w, log: this.#d.log }, {
        caseId: f.caseId,
        target: { type: f.target.type as Case['target']['type'], value: f.target.value },
        order,
        comment: `${this.#words(f, rule)}; failed over from case ${f.caseId}`,
        client: CLIENT,
        key: `failover:${f.caseId}`,
        // a replica that dies mid-create leaves the key with its lease: the replica taking the step over files it
        inFlightMs: this.#lease
      })
    } catch (err) {
      if (err instanceof GatewayError && ['GW_ERR_UNSUPPORTED', 'GW_ERR_PROVIDER_OFF', 'GW_ERR_VALIDATION', 'GW_ERR_DUPLICATE_CASE'].includes(err.code)) {
        return { caseId: null, provider: null, cancelledOriginal: false }
      }
      throw err
    }
    await this.#d.store.link(f.caseId, created.id, created.provider)
    // the new case's record may not be there yet (its case.created event comes on its own): made here, the event finds it
    await this.#d.store.track(factsOf(created, Date.parse(created.createdAt)))
    await this.#d.store.link(created.id, f.caseId, f.provider)
    await this.reschedule(created.id)
    let cancelledOriginal = false
    if (rule.cancelOriginal) {
      try {
        await w.writes.cancel(f.caseId, 1, `Failed over to ${created.id} (service level "${rule.id}")`, new Cancellation(), this.#d.log)
        cancelledOriginal = true
      } catch (err) {
        this.#d.log.warn({ caseId: f.caseId, err: (err as Error).message }, 'sla: the original case could not be cancelled after its failover')
      }
    }
    return { caseId: created.id, provider: created.provider, cancelledOriginal }
  }
}
