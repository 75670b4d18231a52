/**
 * Netcraft Takedown API v1 connector. Listing walks `attacks/` by id, newest first (`sort=id&dir=desc&id_before=`),
 * one vendor page per call; a case is one takedown, its notes are history entries, `report/` creates one and answers
 * in plain text (TD_OK / TD_EXISTS / TD_WILDCARD / TD_VERIFY), notes are comments, `escalate/` is the escalate
 * action, attack types are reference data. See README.md for every assumption where Netcraft's docs are silent.
 */
import { FormData } from 'undici'
import { sortNewestFirst } from '../../domain/merge.js'
import { GatewayError } from '../../domain/problems.js'
import type { Case, CaseDetail } from '../../schemas/case.js'
import type { TargetType } from '../../schemas/common.js'
import type { ReferenceItem, ReferenceKind } from '../../schemas/reference.js'
import type { UnifiedStatus } from '../../schemas/unified-status.js'
import type { StatusEngine } from '../../status/engine.js'
import {
  ConnectorError, mappedPage, rowTime, type Capabilities, type CaseAction, type CaseFilters, type ConnectorContext, type ConnectorDeps,
  type ConnectorFactory, type CreateCaseInput, type CreateOutcome, type PreparedRequest, type ProviderCaseQuery,
  type ProviderConnector, type ProviderPage, type ProviderRowPage, type ProviderSettings
} from '../connector.js'
import type { QueryValue } from '../http.js'
import { NetcraftClient } from './client.js'
import { netcraftFilterTime, toCase, toCaseDetail, toRow } from './mapper.js'
import { NETCRAFT_ID } from './ids.js'
import { flag, NETCRAFT_STATUS_DESCRIPTIONS, NETCRAFT_STATUS_SLUGS, NETCRAFT_STATUSES, type Takedown } from './wire.js'

const PROVIDER = 'netcraft'
/** providerOptions a Netcraft report understands (camelCase of the report/ fields); anything else is a 400 */
const OPTION_KEYS = ['attackType', 'tags', 'suspectedFraudulentDomain', 'malware'] as const
const ATTACK_TYPE = /^[a-z0-9_]{1,64}$/

export const NETCRAFT_CAPABILITIES: Capabilities = {
  create: { takedown: ['url', 'domain', 'email', 'ipv4'], monitor: ['url', 'domain'] },
  cancel: false,
  attachments: false,
  comments: true,
  appeal: false,
  actions: ['escalate'],
  detections: false,
  reference: ['statuses', 'threat-types']
}

function validation (path: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_VALIDATION', message, { provider: PROVIDER, errors: [{ path, message }] })
}

/**
 * The `statuses=` slugs for a unified-status filter, or undefined when they cannot be told exactly (then the gateway
 * filters alone): every slug that can map into the wanted set (`verified` either way of `authgiven`), unless a
 * STATUS_MAP_FILE entry for a word that is no slug maps into it.
 */
export function vendorStatusFilter (statuses: readonly UnifiedStatus[] | undefined, engine: StatusEngine): string | undefined {
  if (statuses === undefined || statuses.length === 0) return undefined
  const wanted = new Set<UnifiedStatus>(statuses)
  const slugs = NETCRAFT_STATUS_SLUGS.filter(s => wanted.has(engine.map(PROVIDER, s, { authgiven: 0 }).status) || wanted.has(engine.map(PROVIDER, s, { authgiven: 1 }).status))
  const known = new Set<string>(NETCRAFT_STATUS_SLUGS.map(s => s.replace(/_/g, ' ')))
  if (engine.entries(PROVIDER).some(e => wanted.has(e.status) && !known.has(e.providerStatus))) return undefined
  return slugs.length === 0 ? undefined : slugs.join(',')
}

class NetcraftConnector implements ProviderConnector {
  readonly id = PROVIDER
  readonly capabilities = NETCRAFT_CAPABILITIES
  readonly #client: NetcraftClient
  readonly #deps: ConnectorDeps
  readonly #region: string | undefined
  readonly #forceAuth: string
  readonly #attackType: string
  readonly #notify: string

  constructor (settings: ProviderSettings, deps: ConnectorDeps) {
    this.#client = new NetcraftClient(settings, deps)
    this.#deps = deps
    this.#region = settings.options?.region
    this.#forceAuth = flag(settings.options?.forceAuth ?? 'true') ? 'true' : 'false'
    this.#attackType = settings.options?.attackType ?? 'phishing_url'
    this.#notify = flag(settings.options?.notify ?? 'false') ? 'true' : 'false'
  }

  async listCases (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderPage> {
    return await mappedPage(this.listCaseRows(query, ctx))
  }

  async listCaseRows (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage> {
    const before = query.pageToken === null ? null : BigInt(query.pageToken)
    // two extra rows: one tells whether a next page exists, one absorbs the boundary row if id_before is inclusive
    const rows = await this.#client.listAttacks({
      ...this.#filters(query.filters),
      sort: 'id',
      dir: 'desc',
      max_results: query.pageSize + 2,
      id_before: before === null ? undefined : before.toString()
    }, ctx)
    // ids compared as numbers of any size, each converted once (not twice per comparison of the sort)
    const fresh = rows
      .map(t => ({ t, id: BigInt(String(t.id)) }))
      .filter(r => before === null || r.id < before)
      .sort((a, b) => (b.id > a.id ? 1 : -1))
      .map(r => r.t)
    const page = fresh.slice(0, query.pageSize)
    const last = page.at(-1)
    const mapped = page.map(t => {
      try {
        return toRow(t, this.#deps.status)
      } catch (err) {
        throw new ConnectorError(PROVIDER, 'protocol', (err as Error).message, { cause: err })
      }
    })
    sortNewestFirst(mapped, rowTime)
    return { rows: mapped, next: fresh.length > query.pageSize && last !== undefined ? String(last.id) : null }
  }

  #filters (filters: CaseFilters): Record<string, QueryValue> {
    const q: Record<string, QueryValue> = { region: this.#region }
    // date bounds are inclusive whole seconds at Netcraft; widened by a second, the gateway applies the exact ones
    if (filters.since !== undefined) q.date_from = netcraftFilterTime(new Date(Date.parse(filters.since) - 1000).toISOString())
    if (filters.until !== undefined) q.date_to = netcraftFilterTime(new Date(Date.parse(filters.until) + 1000).toISOString())
    q.statuses = filters.vendor?.statuses ?? vendorStatusFilter(filters.statuses, this.#deps.status)
    return q
  }

  async #takedown (providerCaseId: string, ctx: ConnectorContext): Promise<Takedown> {
    // a native id that is not Netcraft's shape names no takedown: no vendor call
    if (!NETCRAFT_ID.test(providerCaseId)) throw new ConnectorError(PROVIDER, 'not_found', `netcraft has no takedown ${providerCaseId}`)
    const rows = await this.#client.listAttacks({ id: providerCaseId, region: this.#region }, ctx)
    // the legacy API's id filter returned every takedown: filter on our side as well
    const found = rows.find(t => String(t.id) === providerCaseId)
    if (found === undefined) throw new ConnectorError(PROVIDER, 'not_found', `netcraft has no takedown ${providerCaseId}`, { upstreamStatus: 200 })
    return found
  }

  async getCase (providerCaseId: string, opts: { raw: boolean }, ctx: ConnectorContext): Promise<CaseDetail> {
    const [takedown, notes] = await Promise.all([this.#takedown(providerCaseId, ctx), this.#client.listNotes(providerCaseId, ctx)])
    return toCaseDetail(takedown, notes.filter(n => String(n.takedown_id) === providerCaseId), this.#deps.status, { raw: opts.raw })
  }

  async listReference (kind: ReferenceKind, ctx: ConnectorContext): Promise<ReferenceItem[] | null> {
    if (kind === 'statuses') {
      return NETCRAFT_STATUS_SLUGS.map(s => {
        const mapped = this.#deps.status.map(PROVIDER, s, { authgiven: 1 })
        return { provider: PROVIDER, kind, id: s, name: NETCRAFT_STATUSES[s], description: NETCRAFT_STATUS_DESCRIPTIONS[s], unifiedStatus: mapped.status, terminal: mapped.terminal }
      })
    }
    if (kind === 'threat-types') {
      const types = await this.#client.listAttackTypes(this.#region, ctx)
      return types.map(t => ({ provider: PROVIDER, kind, id: t.name, name: t.display_name ?? t.name, description: t.description ?? null, active: true }))
    }
    return null
  }

  async prepareCreate (input: CreateCaseInput, _ctx: ConnectorContext): Promise<PreparedRequest> {
    const allowed = input.action === 'monitor' ? NETCRAFT_CAPABILITIES.create.monitor : NETCRAFT_CAPABILITIES.create.takedown
    if (!allowed.includes(input.target.type)) {
      throw new GatewayError('GW_ERR_UNSUPPORTED', `Netcraft cannot ${input.action} a ${input.target.type} target (it takes ${allowed.join(', ')})`, { provider: PROVIDER })
    }
    const options = input.providerOptions
    for (const key of Object.keys(options)) {
      if (!(OPTION_KEYS as readonly string[]).includes(key)) throw validation(`/providerOptions/${key}`, `Netcraft takes no ${key} (it takes ${OPTION_KEYS.join(', ')})`)
    }
    if (input.comment === null || input.comment.trim() === '') throw validation('/comment', 'Netcraft needs a comment: why the attack is reported')
    const attackType = options.attackType ?? (isDefaultTyped(input.target.type) ? this.#attackType : undefined)
    if (typeof attackType !== 'string' || !ATTACK_TYPE.test(attackType)) {
      throw validation('/providerOptions/attackType', `Netcraft needs an attack type name for a ${input.target.type} target (GET /v1/reference/threat-types?provider=netcraft)`)
    }
    const body: Record<string, string> = { attack: input.target.value, comment: input.comment.trim(), type: attackType, force_auth: this.#forceAuth }
    if (input.action === 'monitor') body.inactive = 'true'
    if (input.brand.name !== null) body.brand = input.brand.name
    if (this.#region !== undefined) body.region = this.#region
    if (input.clientId !== null) body.customer_label = input.clientId
    if (options.tags !== undefined) {
      if (!Array.isArray(options.tags) || !options.tags.every(t => typeof t === 'string' && t !== '' && !t.includes(','))) {
        throw validation('/providerOptions/tags', 'tags must be a list of non-empty strings without commas')
      }
      body.tags = options.tags.join(',')
    }
    for (const [key, field] of [['suspectedFraudulentDomain', 'suspected_fraudulent_domain'], ['malware', 'malware']] as const) {
      if (options[key] === undefined) continue
      if (typeof options[key] !== 'boolean') throw validation(`/providerOptions/${key}`, `${key} must be true or false`)
      body[field] = String(options[key])
    }
    if (input.attachments.length > 1) throw validation('/attachments', 'Netcraft takes one evidence file per report')
    const files = input.attachments.map(a => ({ field: 'evidence', filename: a.filename, contentType: a.contentType, size: a.data.length }))
    return { method: 'POST', path: '/report/', contentType: files.length === 0 ? 'application/x-www-form-urlencoded' : 'multipart/form-data', body, files }
  }

  async submitCreate (prepared: PreparedRequest, input: CreateCaseInput, ctx: ConnectorContext): Promise<CreateOutcome> {
    const fields = prepared.body as Record<string, string>
    let form: FormData | undefined
    const evidence = input.attachments[0]
    if (evidence !== undefined) {
      form = new FormData()
      for (const [k, v] of Object.entries(fields)) form.append(k, v)
      form.append('evidence', new Blob([new Uint8Array(evidence.data)], { type: evidence.contentType }), evidence.filename)
    }
    const answer = await this.#client.report(fields, ctx, form)
    switch (answer.code) {
      case 'TD_OK':
        return { kind: 'created', case: await this.#readBack(answer.id, ctx) }
      case 'TD_EXISTS':
        return { kind: 'exists', message: `Netcraft already has takedown ${answer.id} for this attack (TD_EXISTS)`, existing: await this.#readBack(answer.id, ctx) }
      case 'TD_WILDCARD':
        return { kind: 'exists', message: 'Netcraft refused the report: it is a wildcard sub-domain variant of an existing takedown (TD_WILDCARD)', existing: null }
      case 'TD_VERIFY': {
        // held for extra verification: a takedown exists only if verification succeeds; look once, else say so
        const [found] = await this.#byAttack(input.target.value, ctx)
        if (found !== undefined) return { kind: 'created', case: toCase(found, this.#deps.status) }
        throw new GatewayError('GW_ERR_PROVIDER_REJECTED',
          'Netcraft holds the report for extra verification (TD_VERIFY): no takedown exists yet; it appears in GET /v1/cases?provider=netcraft if verification succeeds',
          { provider: PROVIDER, providerStatus: 200 })
      }
    }
  }

  /** The case of a takedown id a report answered with; a takedown not readable yet is built from nothing invented. */
  async #readBack (id: string, ctx: ConnectorContext): Promise<Case> {
    const rows = await this.#client.listAttacks({ id, region: this.#region }, ctx)
    const found = rows.find(t => String(t.id) === id)
    if (found === undefined) throw new ConnectorError(PROVIDER, 'protocol', `report/ answered takedown ${id}, which attacks/ does not list`)
    return toCase(found, this.#deps.status)
  }

  /** takedowns of one attack, newest first (`url=` matches a URL, e-mail address, host name, domain or IP) */
  async #byAttack (value: string, ctx: ConnectorContext): Promise<Takedown[]> {
    return await this.#client.listAttacks({ url: value, region: this.#region, sort: 'id', dir: 'desc', max_results: 20 }, ctx)
  }

  async findOpenCase (target: { type: TargetType, value: string }, ctx: ConnectorContext): Promise<Case | null> {
    return (await this.#byAttack(target.value, ctx)).map(t => toCase(t, this.#deps.status)).find(c => !c.terminal) ?? null
  }

  async addComment (providerCaseId: string, comment: string, ctx: ConnectorContext): Promise<void> {
    if (comment.trim() === '') throw validation('/comment', 'Netcraft needs a non-empty note')
    await this.#takedown(providerCaseId, ctx)
    await this.#client.addNote(providerCaseId, comment, this.#notify === 'true', ctx)
  }

  async performAction (providerCaseId: string, action: CaseAction, ctx: ConnectorContext): Promise<void> {
    if (action !== 'escalate') throw new GatewayError('GW_ERR_UNSUPPORTED', `Netcraft has no ${action} action`, { provider: PROVIDER })
    await this.#takedown(providerCaseId, ctx)
    await this.#client.escalate(providerCaseId, ctx)
  }
}

/** url and domain reports default to NETCRAFT_ATTACK_TYPE; e-mail and IP reports must name their attack type */
function isDefaultTyped (type: TargetType): boolean {
  return type === 'url' || type === 'domain'
}

export const netcraftModule: ConnectorFactory = {
  id: PROVIDER,
  create (settings: ProviderSettings, deps: ConnectorDeps): ProviderConnector {
    return new NetcraftConnector(settings, deps)
  }
}
