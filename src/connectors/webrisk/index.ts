/**
 * Google Web Risk Submission API connector: a create is `uris:submit` (one URL), a case is the submission's
 * long-running operation, read with `operations.get`. Web Risk blocklists (Safe Browsing warns users), it removes
 * nothing. There is no confirmed way to list submissions, so the listing is the gateway's own record of what it
 * submitted (record.ts), and the watcher's open-set walk reads the due operations. See README.md for what is unknown.
 */
import { sortNewestFirst } from '../../domain/merge.js'
import { GatewayError } from '../../domain/problems.js'
import type { Case, CaseDetail } from '../../schemas/case.js'
import type { TargetType } from '../../schemas/common.js'
import type { ReferenceItem, ReferenceKind } from '../../schemas/reference.js'
import { MemoryKvStore } from '../../store/memory-kv-store.js'
import {
  ConnectorError, mappedPage, rowTime, type Capabilities, type ConnectorContext, type ConnectorDeps, type ConnectorFactory,
  type CreateCaseInput, type CreateOutcome, type PreparedRequest, type ProviderCaseQuery, type ProviderConnector,
  type ProviderPage, type ProviderRowPage, type ProviderSettings
} from '../connector.js'
import { mapLimit } from '../map-limit.js'
import { WebriskClient } from './client.js'
import { OPEN_FILTER_QUERY as OPEN_FILTER } from './open-filter.js'
import { caseIdOfOperation, operationOfCaseId, WEBRISK_ID } from './ids.js'
import { mapSeen, seenOf, toCase, toCaseDetail, toRow, type Seen } from './mapper.js'
import { nextPollAt, SubmissionRecord, type Submission } from './record.js'
import { ABUSE_TYPES, CONFIDENCE_LEVELS, JUSTIFICATION_LABELS, OPERATION_STATES, PLATFORMS, type Operation } from './wire.js'

const PROVIDER = 'webrisk'
/** providerOptions a submission understands (SubmitUriRequest's threatInfo and threatDiscovery); anything else is a 400 */
const OPTION_KEYS = ['abuseType', 'confidenceLevel', 'confidenceScore', 'justificationLabels', 'platform', 'regionCodes'] as const
/** `submission.uri` must be a valid URL (Web Risk "Using the Submission API"); 2083 is the browsers' practical limit */
const MAX_URI = 2083
/** operations the watcher reads at once */
const POLL_CONCURRENCY = 4

export const WEBRISK_CAPABILITIES: Capabilities = {
  create: { takedown: ['url'], monitor: [] },
  cancel: false,
  attachments: false,
  comments: false,
  appeal: false,
  actions: [],
  detections: false,
  reference: ['statuses', 'threat-types']
}

const ABUSE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  MALWARE: 'Malware',
  SOCIAL_ENGINEERING: 'Social engineering (phishing, deceptive sites)',
  UNWANTED_SOFTWARE: 'Unwanted software'
}

function validation (path: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_VALIDATION', message, { provider: PROVIDER, errors: [{ path, message }] })
}

function oneOf (value: unknown, allowed: readonly string[], path: string): string {
  if (typeof value !== 'string' || !allowed.includes(value) || value.endsWith('_UNSPECIFIED')) {
    throw validation(path, `must be one of ${allowed.filter(a => !a.endsWith('_UNSPECIFIED')).join(', ')}`)
  }
  return value
}

/** A failure of the gateway's own store, while it is the listing: the provider's answer is unavailable. */
function recordDown (err: unknown): ConnectorError {
  return new ConnectorError(PROVIDER, 'unavailable', 'the gateway\'s record of Web Risk submissions is unreachable', { cause: err })
}

class WebriskConnector implements ProviderConnector {
  readonly id = PROVIDER
  readonly capabilities = WEBRISK_CAPABILITIES
  readonly #client: WebriskClient
  readonly #deps: ConnectorDeps
  readonly #record: SubmissionRecord
  readonly #project: string
  readonly #listOperations: boolean
  readonly #quota: { minute: number, day: number }

  constructor (settings: ProviderSettings, deps: ConnectorDeps) {
    this.#client = new WebriskClient(settings, deps)
    this.#deps = deps
    this.#project = settings.options?.project ?? ''
    this.#listOperations = settings.options?.listOperations === 'true'
    this.#quota = { minute: Number(settings.options?.minuteSubmits ?? '100'), day: Number(settings.options?.dailySubmits ?? '1000') }
    this.#record = new SubmissionRecord(deps.store ?? new MemoryKvStore(deps.clock), this.#project)
  }

  #nowIso (): string { return new Date(this.#deps.clock.now()).toISOString() }

  async listCases (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderPage> {
    return await mappedPage(this.listCaseRows(query, ctx))
  }

  async listCaseRows (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage> {
    return this.#listOperations ? await this.#vendorPage(query, ctx) : await this.#recordPage(query, ctx)
  }

  /**
   * The record, newest first; each submission whose poll is due (record.ts schedule) is read from Web Risk first, so
   * the watcher's walks see the changes. The gateway re-applies every filter; the watcher's walk for old open cases
   * (OPEN_FILTER) gets only the submissions open as last seen.
   */
  async #recordPage (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage> {
    const from = query.pageToken === null ? null : Number(query.pageToken)
    const open = query.filters.vendor?.open === OPEN_FILTER.open
    let page: { items: Submission[], next: number | null }
    try {
      page = await this.#record.walk(from, query.pageSize, s => !open || !mapSeen(s, this.#deps.status).terminal)
    } catch (err) {
      throw recordDown(err)
    }
    const now = this.#deps.clock.now()
    const items: Seen[] = await mapLimit(page.items, POLL_CONCURRENCY, async s => {
      if (s.nextPollAt === null || s.nextPollAt > now) return s
      try {
        return await this.#refresh(s, ctx)
      } catch (err) {
        // the record answers for the vendor: a failed read leaves the last state seen, the poll stays due
        ctx.log.warn({ provider: PROVIDER, caseId: s.id, err: (err as Error).message }, 'could not read a due Web Risk operation; listing its last known state')
        return s
      }
    })
    const rows = items.map(s => toRow(s, this.#deps.status))
    sortNewestFirst(rows, rowTime)
    return { rows, next: page.next === null ? null : String(page.next) }
  }

  /** `operations.list` (WEBRISK_LIST_OPERATIONS=true): Web Risk's own pages, each joined with the record. */
  async #vendorPage (query: ProviderCaseQuery, ctx: ConnectorContext): Promise<ProviderRowPage> {
    const page = await this.#client.listOperations(this.#project, query.pageSize, query.pageToken, ctx)
    const ids = page.operations.map(op => {
      const id = caseIdOfOperation(op.name)
      if (id === null) throw new ConnectorError(PROVIDER, 'protocol', `operations list: "${op.name.slice(0, 120)}" is no operation name`)
      return id
    })
    const records = await this.#record.getMany(ids).catch(() => ids.map(() => null))
    const now = this.#nowIso()
    const rows = page.operations.map((op, i) => {
      try {
        return toRow(seenOf(op, ids[i] as string, records[i] ?? null, now), this.#deps.status)
      } catch (err) {
        throw new ConnectorError(PROVIDER, 'protocol', (err as Error).message, { cause: err })
      }
    })
    sortNewestFirst(rows, rowTime)
    return { rows, next: page.next }
  }

  /** Reads one recorded submission's operation and records what it says now. */
  async #refresh (s: Submission, ctx: ConnectorContext): Promise<Seen & { op: Operation }> {
    const { project, operation } = operationOfCaseId(s.id)
    const op = await this.#client.operation(project, operation, ctx)
    const seen = this.#seen(op, s.id, s)
    const next = seen.done ? null : nextPollAt(Date.parse(s.createdAt), this.#deps.clock.now())
    await this.#record.put({ ...seen, nextPollAt: next }).catch(err => { ctx.log.warn({ provider: PROVIDER, err: (err as Error).message }, 'could not update the Web Risk submission record') })
    return { ...seen, op }
  }

  #seen (op: Operation, id: string, before: Seen | null): Seen {
    try {
      return seenOf(op, id, before, this.#nowIso())
    } catch (err) {
      throw new ConnectorError(PROVIDER, 'protocol', (err as Error).message, { cause: err })
    }
  }

  async getCase (providerCaseId: string, opts: { raw: boolean }, ctx: ConnectorContext): Promise<CaseDetail> {
    // a native id that is not `<project>.<operation>` names no operation: no vendor call
    if (!WEBRISK_ID.test(providerCaseId)) throw new ConnectorError(PROVIDER, 'not_found', `webrisk has no operation ${providerCaseId}`)
    const record = await this.#record.get(providerCaseId).catch(() => null)
    if (record !== null) {
      const { op, ...seen } = await this.#refresh(record, ctx)
      return toCaseDetail(seen, this.#deps.status, opts.raw ? op : undefined)
    }
    const { project, operation } = operationOfCaseId(providerCaseId)
    const op = await this.#client.operation(project, operation, ctx)
    return toCaseDetail(this.#seen(op, providerCaseId, null), this.#deps.status, opts.raw ? op : undefined)
  }

  async listReference (kind: ReferenceKind, _ctx: ConnectorContext): Promise<ReferenceItem[] | null> {
    if (kind === 'statuses') {
      return OPERATION_STATES.map(state => {
        const mapped = this.#deps.status.map(PROVIDER, state, { done: 0, errorCode: 0, threats: 0 })
        return { provider: PROVIDER, kind, id: state, name: state, description: state === 'STATE_UNSPECIFIED' ? 'Accepted, no state yet' : null, unifiedStatus: mapped.status, terminal: mapped.terminal }
      })
    }
    if (kind === 'threat-types') {
      return ABUSE_TYPES.filter(t => !t.endsWith('_UNSPECIFIED')).map(t => ({ provider: PROVIDER, kind, id: t, name: t, description: ABUSE_DESCRIPTIONS[t] ?? null, active: true }))
    }
    return null
  }

  async prepareCreate (input: CreateCaseInput, _ctx: ConnectorContext): Promise<PreparedRequest> {
    if (input.action !== 'takedown' || input.target.type !== 'url') {
      throw new GatewayError('GW_ERR_UNSUPPORTED', `Web Risk cannot ${input.action} a ${input.target.type} target (it blocklists one url per submission)`, { provider: PROVIDER })
    }
    const uri = input.target.value
    if (!/^https?:\/\//i.test(uri) || uri.length > MAX_URI) throw validation('/target/value', `Web Risk takes an absolute http(s) URL of at most ${MAX_URI} characters`)
    const o = input.providerOptions
    for (const key of Object.keys(o)) {
      if (!(OPTION_KEYS as readonly string[]).includes(key)) throw validation(`/providerOptions/${key}`, `Web Risk takes no ${key} (it takes ${OPTION_KEYS.join(', ')})`)
    }
    const abuseType = oneOf(o.abuseType ?? 'SOCIAL_ENGINEERING', ABUSE_TYPES, '/providerOptions/abuseType')
    const threatInfo: Record<string, unknown> = { abuseType }
    if (o.confidenceLevel !== undefined && o.confidenceScore !== undefined) throw validation('/providerOptions/confidenceScore', 'send confidenceLevel or confidenceScore, not both')
    if (o.confidenceLevel !== undefined) threatInfo.threatConfidence = { level: oneOf(o.confidenceLevel, CONFIDENCE_LEVELS, '/providerOptions/confidenceLevel') }
    if (o.confidenceScore !== undefined) {
      if (typeof o.confidenceScore !== 'number' || o.confidenceScore < 0 || o.confidenceScore > 1) throw validation('/providerOptions/confidenceScore', 'must be a number from 0 to 1')
      threatInfo.threatConfidence = { score: o.confidenceScore }
    }
    const labels = o.justificationLabels === undefined ? [] : o.justificationLabels
    if (!Array.isArray(labels)) throw validation('/providerOptions/justificationLabels', 'must be a list')
    const justification: Record<string, unknown> = {}
    if (labels.length > 0) justification.labels = labels.map((l, i) => oneOf(l, JUSTIFICATION_LABELS, `/providerOptions/justificationLabels/${i}`))
    // the justification's comments are the only free text a submission carries
    if (input.comment !== null && input.comment.trim() !== '') justification.comments = [input.comment.trim()]
    if (Object.keys(justification).length > 0) threatInfo.threatJustification = justification
    const body: Record<string, unknown> = { submission: { uri }, threatInfo }
    const discovery: Record<string, unknown> = {}
    if (o.platform !== undefined) discovery.platform = oneOf(o.platform, PLATFORMS, '/providerOptions/platform')
    if (o.regionCodes !== undefined) {
      if (!Array.isArray(o.regionCodes) || !o.regionCodes.every(c => typeof c === 'string' && /^[A-Z]{2}$|^\d{3}$/.test(c))) {
        throw validation('/providerOptions/regionCodes', 'must be a list of CLDR region codes such as "US", most impact first')
      }
      discovery.regionCodes = o.regionCodes
    }
    if (Object.keys(discovery).length > 0) body.threatDiscovery = discovery
    return { method: 'POST', path: `/v1/projects/${encodeURIComponent(this.#project)}/uris:submit`, contentType: 'application/json', body, files: [] }
  }

  async submitCreate (prepared: PreparedRequest, input: CreateCaseInput, ctx: ConnectorContext): Promise<CreateOutcome> {
    // the quotas hold before the call (the duplicate check ran before this, findOpenCase)
    const now = this.#deps.clock.now()
    let quota: Awaited<ReturnType<SubmissionRecord['countSubmit']>>
    try {
      quota = await this.#record.countSubmit(this.#quota, now)
    } catch (err) {
      throw recordDown(err)
    }
    if (!quota.ok) {
      const setting = quota.which === 'minute' ? `WEBRISK_MINUTE_SUBMITS=${this.#quota.minute}` : `WEBRISK_DAILY_SUBMITS=${this.#quota.day}`
      throw new ConnectorError(PROVIDER, 'rate_limited', `the ${quota.which}'s Web Risk submissions (${setting}) are used up`, { retryAfter: quota.retryAfterSeconds })
    }
    const name = await this.#client.submit(this.#project, prepared.body, ctx)
    const id = caseIdOfOperation(name)
    if (id === null) throw new ConnectorError(PROVIDER, 'protocol', `uris:submit answered the operation name "${name.slice(0, 120)}", which the gateway cannot keep`)
    const threatInfo = prepared.body.threatInfo as { abuseType?: string } | undefined
    const seen: Seen = {
      id,
      name,
      uri: input.target.value,
      createdAt: new Date(now).toISOString(),
      state: 'STATE_UNSPECIFIED',
      done: false,
      errorCode: 0,
      errorMessage: null,
      threatTypes: [],
      closedReason: null,
      updatedAt: null,
      abuseType: threatInfo?.abuseType ?? null
    }
    try {
      await this.#record.add({ ...seen, nextPollAt: nextPollAt(now, now) })
    } catch (err) {
      // Google has the submission: failing the create now would invite a second one. The case is readable by its id.
      ctx.log.error({ provider: PROVIDER, caseId: id, err: (err as Error).message }, 'Web Risk accepted a submission the gateway could not record; it is missing from the listing')
    }
    return { kind: 'created', case: toCase(seen, this.#deps.status) }
  }

  /** The latest submission of the URL, while it is open as last seen (RUNNING, or SUCCEEDED: still blocklisted). */
  async findOpenCase (target: { type: TargetType, value: string }, _ctx: ConnectorContext): Promise<Case | null> {
    if (target.type !== 'url') return null
    let latest: Submission | null
    try {
      latest = await this.#record.latestFor(target.value)
    } catch (err) {
      throw recordDown(err)
    }
    if (latest === null || mapSeen(latest, this.#deps.status).terminal) return null
    return toCase(latest, this.#deps.status)
  }
}

export const webriskModule: ConnectorFactory = {
  id: PROVIDER,
  create (settings: ProviderSettings, deps: ConnectorDeps): ProviderConnector {
    return new WebriskConnector(settings, deps)
  }
}
