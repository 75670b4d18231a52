/**
 * Target intelligence wired into the app: the index fed by every recorded case event, and GET /v1/targets/lookup.
 * The case views (relatedCases, enrichment) are built with the case service (`targetsView`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { GatewayError } from '../../domain/problems.js'
import { targetProblem } from '../../domain/target.js'
import { identifyTarget } from '../../domain/target-identity.js'
import type { Logger } from '../../logger.js'
import { AUTH_PROBLEMS, problems } from '../../routes/responses.js'
import type { CreateCaseBody, CreatePlan } from '../../schemas/create.js'
import type { CaseEvent } from '../../schemas/event.js'
import type { RelatedCase } from '../../schemas/target-intel.js'
import { TargetLookupQuerySchema, TargetLookupSchema, type TargetLookup } from '../../schemas/target-lookup.js'
import type { CancelSignal } from '../../connectors/deadline.js'
import type { LastProbePort } from '../../core/last-probe.js'
import type { CaseService } from '../../services/cases.js'
import type { CaseWriteService } from '../../services/writes.js'
import { summaryOf, type IndexedCase, type TargetIndex } from './index-store.js'
import type { RdapService } from './rdap/service.js'
import { enrichmentOf, relatedOf } from './view.js'

export interface TargetsFeatureOptions {
  index: TargetIndex
  rdap: RdapService | null
  writes: CaseWriteService
  cases: CaseService
  /** the event log: every recorded case event feeds the index once, in the replica that recorded it */
  events: { onRecorded: (listener: (event: CaseEvent) => Promise<unknown>) => void }
  /** the newest probe of the target's cases, filled by verification when it is on */
  lastProbe: LastProbePort
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/** what a lookup value is: an http(s) URL, an IPv4 address, else a domain */
export function lookupType (value: string): 'url' | 'domain' | 'ipv4' {
  if (/^https?:\/\//i.test(value)) return 'url'
  return IPV4.test(value) ? 'ipv4' : 'domain'
}

export async function lookupTarget (opts: TargetsFeatureOptions, value: string, signal: CancelSignal, log: Logger): Promise<TargetLookup> {
  const type = lookupType(value.trim())
  const problem = targetProblem(type, value.trim())
  if (problem !== null) {
    throw new GatewayError('GW_ERR_VALIDATION', `value is read as a ${type} and ${problem}`, { errors: [{ path: '/value', message: `${type}: ${problem}` }] })
  }
  const id = identifyTarget(type, value.trim())
  const enrichment = opts.rdap === null || id.host === null ? Promise.resolve(null) : enrichmentOf(opts.rdap, id.host)
  const body = { target: { type, value: value.trim() } } as CreateCaseBody
  let plan: CreatePlan | null = null
  let planError: string | null = null
  let named: string[] = []
  const dryRun = async (b: CreateCaseBody): Promise<CreatePlan> => {
    const result = await opts.writes.create(b, [], { dryRun: true }, signal, log)
    if (result.kind !== 'plan') throw new Error('unreachable: a dry run created a case')
    return result.plan
  }
  try {
    plan = await dryRun(body)
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_DUPLICATE_CASE') {
      named = (err.extras.existingCases ?? []).map(c => c.id)
      try { plan = await dryRun({ ...body, allowDuplicate: true }) } catch (again) { planError = (again as Error).message }
    } else if (err instanceof GatewayError) {
      planError = err.message
    } else {
      throw err
    }
  }
  // the index answers what it can: with the store down the cases are the ones the vendors named, read now
  const indexed = async (): Promise<IndexedCase[]> => await opts.index.find({ host: id.host, registrableDomain: id.registrableDomain }, 200).catch((err: unknown) => {
    log.warn({ err: (err as Error).message }, 'target index: the store did not answer; the lookup shows the open cases the vendors named')
    return []
  })
  const known = await indexed()
  // the open cases the vendors named and the gateway has not indexed yet: read once (the read indexes them)
  const missing = named.filter(n => !known.some(k => k.id === n))
  const read = await Promise.all(missing.map(async caseId => await opts.cases.get(caseId, { raw: false }, signal, log).catch(() => null)))
  const again = missing.length === 0 ? known : await indexed()
  const rows = [...again, ...read.flatMap(c => c === null || again.some(k => k.id === c.id) ? [] : [summaryOf(c)].filter((s): s is IndexedCase => s !== null))]
  const related: RelatedCase[] = relatedOf(rows, id.host)
  const lastProbe = await opts.lastProbe.latest(related.filter(r => r.match === 'host').map(r => r.id)).catch((err: unknown) => {
    log.warn({ err: (err as Error).message }, 'verification store: no answer; the lookup shows no last probe')
    return null
  })
  return {
    target: { type, value: value.trim(), ...id },
    openCases: related.filter(r => !r.terminal),
    pastCases: related.filter(r => r.terminal),
    plan,
    planError,
    enrichment: await enrichment,
    lastProbe
  }
}

export const targetsFeature: FastifyPluginAsyncTypebox<TargetsFeatureOptions> = async (app, opts) => {
  opts.events.onRecorded(async event => { await opts.index.add(event.case) })

  app.get('/v1/targets/lookup', {
    config: { scope: 'read' },
    schema: {
      operationId: 'lookupTarget',
      tags: ['Targets'],
      summary: 'What the gateway knows about a target before it is reported',
      description: 'For an analyst before reporting: the normalised target (host, registrable domain, public suffix, canonical URL), the open and ' +
        'finished cases for its host or registrable domain at every vendor (those the gateway has seen, and the open ones the live providers name ' +
        'for this exact target), the routing plan a create would use (a dry run: nothing is sent) and the RDAP enrichment (registrar, abuse ' +
        'contacts, registration dates and EPP statuses, hosting networks) when RDAP_ENABLED is on, and the newest probe of the host\'s cases ' +
        'when VERIFY_ENABLED is on. The value is read as a URL when it starts ' +
        'with http:// or https://, as an IPv4 address when it is one, else as a domain.',
      security: [{ bearerAuth: [] }],
      querystring: TargetLookupQuerySchema,
      response: { 200: TargetLookupSchema, ...problems(...AUTH_PROBLEMS) }
    }
  }, async (req) => await lookupTarget(opts, req.query.value, req.cancellation, req.log))
}
