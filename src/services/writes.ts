/**
 * Case write use-cases: create (validation, routing, dry run, duplicate check, one vendor submit) and the actions
 * on existing cases. Nothing reaches a vendor before every gateway-side check has passed.
 */
import type { CancelSignal } from '../connectors/deadline.js'
import type { AppealInput, Attachment, CaseAction, ConnectorContext, CreateCaseInput, ProviderConnector } from '../connectors/connector.js'
import { ConnectorError } from '../connectors/connector.js'
import { GatewayError } from '../domain/problems.js'
import { normaliseTarget, targetProblem } from '../domain/target.js'
import { targetKey } from '../domain/target-identity.js'
import type { CaseObserver } from './observer.js'
import type { Logger } from '../logger.js'
import type { Case, CaseDetail } from '../schemas/case.js'
import type { TargetType } from '../schemas/common.js'
import type { Companion, CompanionPlan, CreateCaseBody, CreatePlan, RoutingExplanation } from '../schemas/create.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { describeOff, type ProviderSet } from './provider-set.js'
import { capabilitiesOf } from './providers.js'
import { identifyTarget } from '../domain/target-identity.js'
import { drawOf, rankMeasured, unmeasured, type MeasuredRouting, type OutcomeStats } from './routing.js'

export const MAX_ATTACHMENTS = 12
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

export type CreateResult = { kind: 'plan', plan: CreatePlan } | { kind: 'created', case: Case, adopted?: true, companions?: Companion[] }

export interface CreateOptions {
  dryRun: boolean
  /** background work (bulk submission): the share of the vendor's outbound budget its calls must also fit in */
  budget?: ConnectorContext['budget']
  /** runs after every check has passed, right before the vendor create is sent (a marker that it may have been) */
  beforeSubmit?: () => Promise<void>
  /**
   * the create is a retry of one that may have reached the vendor: an open case for the target (or the vendor's
   * "already exists" naming one) is the earlier attempt's case and is returned as created (`adopted`)
   */
  adopt?: boolean
  /** deadline of the whole create (default: the provider's timeout) */
  timeoutMs?: number
  /** false: skip the open-case lookup (a batch's up-front validation, where a duplicate is an outcome, not an error) */
  checkDuplicate?: boolean
  /**
   * file the routing rule's companions (`also`) after a routed create, or list them in a dry run's plan (the create
   * route); other callers (batch items, detections) create the one case
   */
  companions?: boolean
  /** where the duplicate check looks (default: the service's DUPLICATE_SCOPE) */
  duplicateScope?: DuplicateScope
  /**
   * runs one companion create at most once (the route: under a key derived from the request's Idempotency-Key, so a
   * retry of the request gets the first companion back instead of filing it again); default: runs it
   */
  companionOnce?: (provider: ProviderId, create: () => Promise<Companion>) => Promise<Companion>
  /**
   * what a measured routing rule draws its exploration choice from (the request's Idempotency-Key, a batch item):
   * the same key routes alike on every retry and replica, and in a dry run sent with it; absent: the random source
   */
  routingKey?: string
}

export type DuplicateScope = 'all' | 'provider'

/** an open case a duplicate 409 names */
export interface DuplicateRef { id: string, provider: ProviderId, status: string }

/**
 * The open cases the gateway has seen for a target at any provider (the target index, a port the targets feature
 * implements): `key` is the case's target key (domain/target-identity.ts `targetKey`).
 */
export interface OpenCaseIndex {
  openCases: (target: { type: TargetType, value: string }) => Promise<Array<{ id: string, provider: string, status: string, key: string }>>
  created: (c: Case) => Promise<void>
}

interface Choice { provider: ProviderId, connector: ProviderConnector, routedBy: 'request' | 'rule', rejected: CreatePlan['rejected'], routing?: RoutingExplanation }

/** routing by measured outcome (services/routing.ts): the settings, the measurements port and the random source */
export interface MeasuredRoutingDeps {
  settings: MeasuredRouting
  stats: OutcomeStats
  /** a number in [0, 1) for a create without a routing key (default Math.random; tests inject a seeded one) */
  random?: () => number
}

/** The writes on an existing case a provider may lack: its capability flag, the connector method, the 422's words. */
const ABILITIES = {
  cancel: { method: 'cancel', words: 'cancel cases' },
  attachments: { method: 'addAttachments', words: 'take attachments on an existing case' },
  comments: { method: 'addComment', words: 'take comments' },
  appeal: { method: 'appeal', words: 'take appeals of mitigations' }
} as const

export class CaseWriteService {
  readonly #providers: ProviderSet
  readonly #routing: Record<TargetType, ProviderId[]>
  readonly #observer: CaseObserver | undefined
  readonly #duplicateScope: DuplicateScope
  readonly #index: OpenCaseIndex | undefined
  readonly #companions: Partial<Record<TargetType, readonly ProviderId[]>>
  readonly #measured: MeasuredRoutingDeps | undefined

  /**
   * `observer`: told about every case a write creates or changes (change events); `duplicateScope`: where a create
   * looks for an open case for its target (`all` live providers, the default, or only the chosen `provider`)
   */
  constructor (providers: ProviderSet, routing: Record<TargetType, ProviderId[]>, observer?: CaseObserver, opts: {
    duplicateScope?: DuplicateScope
    index?: OpenCaseIndex
    companions?: Partial<Record<TargetType, readonly ProviderId[]>>
    /** routing by measured outcome for the target types whose rule says `measured` */
    measured?: MeasuredRoutingDeps
  } = {}) {
    this.#providers = providers
    this.#routing = routing
    this.#observer = observer
    this.#duplicateScope = opts.duplicateScope ?? 'all'
    this.#index = opts.index
    this.#companions = opts.companions ?? {}
    this.#measured = opts.measured
  }

  async create (body: CreateCaseBody, attachments: Attachment[], opts: CreateOptions, signal: CancelSignal, log: Logger): Promise<CreateResult> {
    const problem = targetProblem(body.target.type, body.target.value)
    if (problem !== null) {
      throw new GatewayError('GW_ERR_VALIDATION', `target.value ${problem}`, { errors: [{ path: '/target/value', message: problem }] })
    }
    if (attachments.length > MAX_ATTACHMENTS) {
      throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE', `At most ${MAX_ATTACHMENTS} attachments (got ${attachments.length})`)
    }
    const action = body.action ?? 'takedown'
    const input: CreateCaseInput = {
      action,
      target: { type: body.target.type, value: body.target.value.trim() },
      brand: { id: body.brand?.id ?? null, name: body.brand?.name ?? null },
      comment: body.comment ?? null,
      reportedBy: body.reportedBy ?? null,
      clientId: body.clientId ?? null,
      social: body.social ?? null,
      providerOptions: body.providerOptions ?? {},
      attachments
    }
    const choice = await this.#choose(body.provider, input, opts.routingKey, log)
    // one deadline for the whole create: validation against live reference data, the duplicate lookup and the submit
    const result = await this.#providers.withContext(choice.provider, signal, log, async ctx => await this.#create(choice, input, body, opts, action, ctx, log),
      opts.timeoutMs, opts.budget)
    const also = choice.routedBy === 'rule' && opts.companions === true ? (this.#companions[input.target.type] ?? []).filter(p => p !== choice.provider) : []
    if (also.length === 0 || (result.kind === 'created' && result.adopted === true && opts.companionOnce === undefined)) return result
    if (result.kind === 'plan') {
      const companions = await Promise.all(also.map(async p => await this.#companionPlan(p, body, attachments, opts, signal, log)))
      return { kind: 'plan', plan: { ...result.plan, companions } }
    }
    const companions: Companion[] = []
    for (const p of also) {
      const run = async (): Promise<Companion> => await this.#companion(p, body, attachments, opts, signal, log)
      companions.push(opts.companionOnce === undefined ? await run() : await opts.companionOnce(p, run))
    }
    return { ...result, companions }
  }

  /**
   * A companion: the same target at another provider, through the same write path (its checks, its own duplicate
   * look-up, the budget), without the primary's vendor-specific options. It is a second case on the target by design,
   * so the look-up is the companion provider's own; its failure is reported, never thrown.
   */
  async #companion (provider: ProviderId, body: CreateCaseBody, attachments: Attachment[], opts: CreateOptions, signal: CancelSignal, log: Logger): Promise<Companion> {
    try {
      const result = await this.create(companionBody(body, provider), attachments, companionOptions(opts, false), signal, log)
      if (result.kind !== 'created') throw new Error('unreachable: a create without dryRun returned a plan')
      return { provider, id: result.case.id, error: null }
    } catch (err) {
      log.warn({ provider, err: (err as Error).message }, 'companion create failed; the primary case stands')
      return { provider, id: null, error: companionError(err) }
    }
  }

  async #companionPlan (provider: ProviderId, body: CreateCaseBody, attachments: Attachment[], opts: CreateOptions, signal: CancelSignal, log: Logger): Promise<CompanionPlan> {
    try {
      const result = await this.create(companionBody(body, provider), attachments, companionOptions(opts, true), signal, log)
      return result.kind === 'plan' ? { provider, request: result.plan.request, error: null } : { provider, request: null, error: 'would not be sent' }
    } catch (err) {
      return { provider, request: null, error: companionError(err) }
    }
  }

  async #create (choice: Choice, input: CreateCaseInput, body: CreateCaseBody, opts: CreateOptions, action: CreateCaseInput['action'], ctx: ConnectorContext, log: Logger): Promise<CreateResult> {
    const connector = choice.connector
    if (connector.prepareCreate === undefined || connector.submitCreate === undefined) {
      throw new GatewayError('GW_ERR_UNSUPPORTED', `${choice.provider} cannot create cases through this gateway`, { provider: choice.provider })
    }
    const prepared = await this.#recorded(choice.provider, async () => await connector.prepareCreate!(input, ctx))
    if (body.allowDuplicate !== true && opts.checkDuplicate !== false) {
      const { own, existing } = await this.#duplicates(choice, input.target, ctx, log, opts.duplicateScope ?? this.#duplicateScope)
      if (own !== null && opts.adopt === true && !opts.dryRun) return { kind: 'created', case: own, adopted: true }
      if (existing.length > 0) {
        // a dry run answers what the create would: the same 409, naming each open case
        const target = normaliseTarget(input.target.type, input.target.value)
        const named = existing.map(c => `${c.provider} already has an open case for ${target}: ${c.id} (status ${c.status})`).join('; ')
        throw new GatewayError('GW_ERR_DUPLICATE_CASE',
          `${opts.dryRun ? 'Dry run: the create would be refused; nothing was sent. ' : ''}${named}. Send allowDuplicate: true to file another.`,
          { provider: existing[0]!.provider, existing: existing[0]!.id, existingCases: existing.map(c => ({ id: c.id, provider: c.provider, status: c.status })) })
      }
    }
    if (opts.dryRun) {
      return {
        kind: 'plan',
        plan: { dryRun: true, provider: choice.provider, routedBy: choice.routedBy, request: prepared, rejected: choice.rejected, ...(choice.routing === undefined ? {} : { routing: choice.routing }) }
      }
    }
    await opts.beforeSubmit?.()
    const outcome = await this.#recorded(choice.provider, async () => await connector.submitCreate!(prepared, input, ctx))
    if (outcome.kind === 'exists' && opts.adopt === true && outcome.existing !== null) return { kind: 'created', case: outcome.existing, adopted: true }
    if (outcome.kind === 'exists') {
      throw new GatewayError('GW_ERR_DUPLICATE_CASE', `${choice.provider}: ${outcome.message}`, {
        provider: choice.provider,
        ...(outcome.existing === null ? {} : { existing: outcome.existing.id })
      })
    }
    log.info({ provider: choice.provider, caseId: outcome.case.id, action }, 'case created')
    // the next create of this target at another provider finds it at once, before any event about it is recorded
    await this.#index?.created(outcome.case).catch((err: unknown) => { log.warn({ err: (err as Error).message }, 'target index: the created case was not indexed') })
    this.#observer?.seen(outcome.case, 'gateway', true)
    return { kind: 'created', case: outcome.case }
  }

  /**
   * The open cases for the create's target: the chosen provider's own lookup, and with `DUPLICATE_SCOPE=all` the open
   * cases the gateway has seen at every other provider with the same canonical target (the target index, fed by the
   * watcher, reads, listings and creates): one store read instead of a lookup at every vendor per create, which
   * would spend each vendor's budget on every other vendor's creates.
   */
  async #duplicates (choice: Choice, target: CreateCaseInput['target'], ctx: ConnectorContext, log: Logger, scope: DuplicateScope): Promise<{ own: Case | null, existing: DuplicateRef[] }> {
    const own = choice.connector.findOpenCase === undefined
      ? null
      : await this.#recorded(choice.provider, async () => await choice.connector.findOpenCase!(target, ctx))
    const found: DuplicateRef[] = own === null ? [] : [{ id: own.id, provider: own.provider, status: own.status }]
    return { own, existing: scope === 'provider' ? found : await this.#elsewhere(choice, target, found, log) }
  }

  async #elsewhere (choice: Choice, target: CreateCaseInput['target'], found: DuplicateRef[], log: Logger): Promise<DuplicateRef[]> {
    if (this.#duplicateScope === 'provider' || this.#index === undefined) return found
    const key = targetKey(target.type, target.value)
    try {
      const elsewhere = await this.#index.openCases(target)
      const live = new Set(this.#providers.active().map(e => e.id as string))
      for (const c of elsewhere) {
        if (c.provider !== choice.provider && live.has(c.provider) && c.key === key && !found.some(f => f.id === c.id)) found.push({ id: c.id, provider: c.provider as ProviderId, status: c.status })
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cross-provider duplicate check: the target index did not answer; only the chosen provider was asked')
    }
    return found
  }

  async cancel (id: string, reasonId: number, description: string | null, signal: CancelSignal, log: Logger): Promise<CaseDetail> {
    const { provider, nativeId, connector } = this.#able(id, 'cancel')
    const detail = await this.#call(provider, signal, log, async ctx => await connector.cancel!(nativeId, { reasonId, description }, ctx), id)
    this.#observer?.seen(detail, 'gateway', false)
    return detail
  }

  async attach (id: string, files: Attachment[], signal: CancelSignal, log: Logger): Promise<number> {
    const { provider, nativeId, connector } = this.#able(id, 'attachments')
    if (files.length === 0) throw new GatewayError('GW_ERR_VALIDATION', 'Send at least one file in an `attachments` part', { errors: [{ path: '/attachments', message: 'required' }] })
    await this.#call(provider, signal, log, async ctx => await connector.addAttachments!(nativeId, files, ctx), id)
    this.#observer?.touched(id)
    return files.length
  }

  async comment (id: string, comment: string, signal: CancelSignal, log: Logger): Promise<void> {
    const { provider, nativeId, connector } = this.#able(id, 'comments')
    await this.#call(provider, signal, log, async ctx => await connector.addComment!(nativeId, comment, ctx), id)
    this.#observer?.touched(id)
  }

  async appeal (id: string, input: AppealInput, signal: CancelSignal, log: Logger): Promise<void> {
    const { provider, nativeId, connector } = this.#able(id, 'appeal')
    await this.#call(provider, signal, log, async ctx => await connector.appeal!(nativeId, input, ctx), id)
    this.#observer?.touched(id)
  }

  async action (id: string, action: CaseAction, signal: CancelSignal, log: Logger): Promise<void> {
    const { provider, nativeId, connector } = this.#target(id)
    const actions = capabilitiesOf(connector).actions
    if (!actions.includes(action) || connector.performAction === undefined) {
      const hint = actions.length === 0 || connector.performAction === undefined ? 'it takes no actions on existing cases' : `its actions are ${actions.join(', ')}`
      throw new GatewayError('GW_ERR_UNSUPPORTED', `${provider} cannot do "${action}" on an existing case; ${hint}`, { provider, allowed: connector.performAction === undefined ? [] : [...actions] })
    }
    await this.#call(provider, signal, log, async ctx => await connector.performAction!(nativeId, action, ctx), id)
    this.#observer?.touched(id)
  }

  /**
   * Provider choice: the one the body names (must be on and able), else the first able one of the routing rule (a
   * measured rule: of its able providers ranked by measured outcome).
   */
  async #choose (requested: ProviderId | undefined, input: CreateCaseInput, routingKey: string | undefined, log: Logger): Promise<Choice> {
    if (this.#providers.active().length === 0) {
      const off = this.#providers.all()
      throw new GatewayError('GW_ERR_PROVIDER_OFF', `Every provider is off in this gateway: ${off.map(describeOff).join(', ')}. To turn one on, ${this.#providers.turnOnHint(off)}`)
    }
    const why = (id: ProviderId): string | null => this.#unable(id, input.action, input.target.type)
    if (requested !== undefined) {
      const reason = why(requested)
      if (reason !== null) {
        const entry = this.#providers.get(requested)
        if (entry?.connector == null) this.#providers.require(requested) // the 422 that says how to turn it on
        throw new GatewayError('GW_ERR_UNSUPPORTED', reason, { provider: requested })
      }
      return { provider: requested, connector: this.#providers.require(requested), routedBy: 'request', rejected: [] }
    }
    const rejected: CreatePlan['rejected'] = []
    const type = input.target.type
    const measured = this.#measured
    if (measured !== undefined && measured.settings.strategy[type] === 'measured') {
      const able: ProviderId[] = []
      for (const id of this.#routing[type]) {
        const reason = why(id)
        if (reason === null) able.push(id)
        else rejected.push({ provider: id, reason })
      }
      if (able.length > 0) {
        const { order, explanation } = await this.#measure(able, input.target, routingKey, measured, log)
        const provider = order[0]!
        return { provider, connector: this.#providers.require(provider), routedBy: 'rule', rejected, routing: explanation }
      }
    } else {
      for (const id of this.#routing[type]) {
        const reason = why(id)
        if (reason === null) return { provider: id, connector: this.#providers.require(id), routedBy: 'rule', rejected }
        rejected.push({ provider: id, reason })
      }
    }
    throw new GatewayError('GW_ERR_UNSUPPORTED',
      `No provider can take this request: ${rejected.map(r => r.reason).join('; ') || `no routing rule for ${input.target.type}`}. Name one with "provider".`,
      { allowed: [...PROVIDER_IDS] })
  }

  /** why the provider cannot take this create (off, or its module does not take the target type), null when it can */
  #unable (id: ProviderId, action: CreateCaseInput['action'], type: TargetType): string | null {
    const entry = this.#providers.get(id)
    if (entry?.connector == null) return `${entry === undefined ? id : describeOff(entry)} is off`
    const able = capabilitiesOf(entry.connector).create[action]
    if (!able.includes(type)) {
      return `${id} cannot ${action === 'monitor' ? 'monitor' : 'take down'} a ${type} target` +
        (able.length === 0 ? ` (it has no ${action} requests)` : ` (it takes ${able.join(', ')})`)
    }
    return null
  }

  /**
   * The providers a takedown of this target without a named provider would go to, in its routing rule's effective
   * order: the able ones of the rule but `exclude`, ranked by measured outcome when the rule is `measured` (the best
   * first, never an exploration draw), else as listed. A failover walks it.
   */
  async routingOrder (target: { type: TargetType, value: string }, exclude: ReadonlySet<string>, log: Logger): Promise<ProviderId[]> {
    const able = this.#routing[target.type].filter(id => !exclude.has(id) && this.#unable(id, 'takedown', target.type) === null)
    const measured = this.#measured
    if (measured === undefined || measured.settings.strategy[target.type] !== 'measured' || able.length < 2) return able
    // a draw of 1 is never below the explore share (at most 50 %): the best-ranked provider leads
    return (await this.#measure(able, target, undefined, { ...measured, random: () => 1 }, log)).order
  }

  /** A measured rule's order of its able providers, and why; the rule's list order when the measurements are unavailable. */
  async #measure (able: ProviderId[], target: { type: TargetType, value: string }, routingKey: string | undefined, measured: MeasuredRoutingDeps, log: Logger): Promise<{ order: ProviderId[], explanation: RoutingExplanation }> {
    const { type } = target
    const settings = measured.settings
    const tld = identifyTarget(type, target.value).publicSuffix
    const draw = routingKey === undefined ? (measured.random ?? Math.random)() : drawOf(routingKey)
    try {
      const stats = await measured.stats.outcomes(type, tld, settings.windowDays)
      return rankMeasured(able, stats, { type, tld, settings, draw })
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'measured routing: the measurements did not answer; the rule\'s list order is used')
      return { order: able, explanation: unmeasured(able, { type, settings, reason: 'the milestone store did not answer' }) }
    }
  }

  /**
   * Throws the 404/422 problem a write of this kind to `id` would end in: routes call it before the body is read
   * or validated, so a provider that cannot cancel says so before a cancel body is asked for.
   */
  assertAble (id: string, what: keyof typeof ABILITIES): void { this.#able(id, what) }

  #able (id: string, what: keyof typeof ABILITIES): { provider: ProviderId, nativeId: string, connector: ProviderConnector } {
    const target = this.#target(id)
    const { method, words } = ABILITIES[what]
    if (!capabilitiesOf(target.connector)[what] || target.connector[method] === undefined) {
      throw this.#unsupported(target.provider, words, what === 'cancel' ? this.#providers.get(target.provider)?.hints?.cancel ?? null : null)
    }
    return target
  }

  #target (id: string): { provider: ProviderId, nativeId: string, connector: ProviderConnector } {
    const parsed = this.#providers.resolveCaseId(id)
    if (parsed === null) throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `No case ${id}: case ids look like <provider>:<id>`)
    return { provider: parsed.provider, nativeId: parsed.providerCaseId, connector: this.#providers.require(parsed.provider) }
  }

  #unsupported (provider: ProviderId, what: string, hint: string | null): GatewayError {
    return new GatewayError('GW_ERR_UNSUPPORTED', `${provider} cannot ${what}${hint === null ? '' : `; ${hint}`}`, { provider })
  }

  /** Runs a vendor call on an existing case in its own deadline scope. */
  async #call<T> (provider: ProviderId, signal: CancelSignal, log: Logger, fn: (ctx: ConnectorContext) => Promise<T>, caseId: string): Promise<T> {
    return await this.#recorded(provider, async () => await this.#providers.withContext(provider, signal, log, fn), caseId)
  }

  /** Records vendor failures for GET /v1/providers; a vendor 404 on an existing-case action is "no such case". */
  async #recorded<T> (provider: ProviderId, fn: () => Promise<T>, caseId?: string): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof ConnectorError) {
        if (err.kind === 'not_found' && caseId !== undefined) {
          throw new GatewayError('GW_ERR_CASE_NOT_FOUND', `${provider} has no case ${caseId}`, { provider, providerStatus: err.upstreamStatus })
        }
        if (err.kind !== 'not_found' && err.kind !== 'rejected') this.#providers.recordError(provider, err)
      }
      throw err
    }
  }
}

const companionBody = (body: CreateCaseBody, provider: ProviderId): CreateCaseBody => {
  const { providerOptions: _primaryOnly, ...rest } = body
  return { ...rest, provider }
}

const companionOptions = (opts: CreateOptions, dryRun: boolean): CreateOptions => ({
  dryRun,
  duplicateScope: 'provider',
  ...(opts.budget === undefined ? {} : { budget: opts.budget }),
  ...(opts.adopt === undefined ? {} : { adopt: opts.adopt }),
  ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs })
})

/** the words of a companion failure: the gateway's and the connectors' messages are public (no secrets); others are not */
const companionError = (err: unknown): string =>
  err instanceof GatewayError || err instanceof ConnectorError ? err.message : 'internal error'
