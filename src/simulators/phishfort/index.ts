/**
 * PhishFort Client API simulator (after the PhishFort Client API docs): the `/v1` routes the connector calls, with the
 * vendor's auth header, envelopes, cursor paging, Boom error bodies, report validation and multipart limits.
 */
import { STATUS_CODES } from 'node:http'
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  ALLOWED_ATTACHMENT_TYPES, MAX_ATTACHMENTS, MAX_LIMIT, MAX_REQUEST_BYTES, PHISHFORT_STATUSES,
  type BoomError, type IncidentList, type PhishfortStatus
} from '../../connectors/phishfort/wire.js'
import { paced } from '../../clock.js'
import { PHISHFORT_STATUS_MAP } from '../../connectors/phishfort/status-map.js'
import { createSimulatorApp, downSince, type Simulator, type SimulatorFactory, type SimulatorOptions, type SimTarget } from '../harness.js'
import { parsePlan } from '../plan.js'
import { seedIncidents } from './seed.js'
import { PhishfortWebhooks } from './webhooks.js'
import { IncidentStore, isPhishfortStatus, LIFECYCLES, MAIN_CLIENT, SUB_CLIENT, type SimIncident } from './state.js'

/** hapi's reason phrases where they differ from Node's (PhishFort Client API docs, 'Limits' page: the documented 413 says "Request Entity Too Large") */
const BOOM_PHRASES: Readonly<Record<number, string>> = { 413: 'Request Entity Too Large' }

export function boom (statusCode: number, message: string): BoomError {
  return { statusCode, error: BOOM_PHRASES[statusCode] ?? STATUS_CODES[statusCode] ?? 'Error', message }
}

/** thrown inside handlers; the error handler renders it as the Boom body */
class BoomReply extends Error {
  readonly statusCode: number
  constructor (statusCode: number, message: string) {
    super(message)
    this.statusCode = statusCode
  }
}

// PhishFort Client API docs, 'Limits' page: the only documented error body
const TOO_LARGE = `Payload content length greater than maximum allowed: ${MAX_REQUEST_BYTES}`
const SUBJECT_TYPE_RULE = "When using the 'subject' field, incidentType must be one of: email, phone, ipv4"
const SUBJECT_TYPES = ['email', 'phone', 'ipv4']
const SOCIAL_HOSTS = /(^|\.)(facebook\.com|x\.com|twitter\.com|instagram\.com|t\.me|tiktok\.com|linkedin\.com|youtube\.com)$/i
const E164 = /^\+[1-9]\d{1,14}$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i
export const DASHBOARD_BASE = 'https://dashboard.phishfort.invalid/incidents/'

interface Form { fields: Record<string, unknown>, files: Array<{ filename: string, contentType: string, size: number }> }

export function createPhishfortSimulator (opts: SimulatorOptions): Simulator {
  const { app, faults, stats } = createSimulatorApp(boom)
  const store = new IncidentStore(opts.clock, opts.seed ?? 1)
  seedIncidents(store, opts.seed ?? 1, Math.max(opts.count ?? 36, 1), opts.spanDays)

  app.setNotFoundHandler(async (req, reply) => reply.code(404).send(boom(404, `Not Found: ${req.method} ${req.url.split('?')[0] ?? ''}`)))
  app.setErrorHandler(async (err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode ?? 500
    const message = status === 413 ? TOO_LARGE : status >= 500 ? 'An internal server error occurred' : err.message
    return reply.code(status).send(boom(status, message))
  })

  app.register(async (api: FastifyInstance) => {
    await api.register(multipart, { limits: { fileSize: MAX_REQUEST_BYTES, files: 100, parts: 200, fieldSize: 1024 * 1024 } })
    // PhishFort Client API docs: `x-api-key`; a wrong or missing key answers 401 (body shape [?]: Boom like the 413)
    api.addHook('onRequest', async (req, reply) => {
      if (req.headers['x-api-key'] !== opts.apiKey) return reply.code(401).send(boom(401, 'Invalid or missing API key'))
    })
    routes(api, store)
    webhooks.routes(api, boom)
  })
  const webhooks = new PhishfortWebhooks(store, opts.clock)
  app.addHook('onClose', async () => { webhooks.close() })

  // the analysts' side (PhishFort Client API docs, 'Incident Lifecycle' page): approval, client action, blocklisting
  // and failed attempts are their decisions, which no client call asks for; the plan replaces the incident's future steps
  app.post<{ Params: { id: string } }>('/__sim/incidents/:id/plan', async (req, reply) => {
    const incident = store.get(req.params.id)
    if (incident === undefined) return await reply.code(404).send(boom(404, 'Incident not found'))
    const plan = parsePlan(req.body, PHISHFORT_STATUSES)
    if (typeof plan === 'string') return await reply.code(400).send(boom(400, plan))
    store.replan(incident, plan.map(s => [s.afterMs, s.status] as const))
    return await reply.code(204).send()
  })

  // the small internet: an incident's page is down once PhishFort says takedown_success or blocklisted (a social-media
  // profile has no page of its own)
  const down = (s: PhishfortStatus): boolean => ['taken_down', 'mitigated'].includes(PHISHFORT_STATUS_MAP[s])
  const targets = (): SimTarget[] => store.all().filter(i => i.incidentType !== 'social').map(i => ({ value: i.url ?? i.domain ?? i.subject, createdAt: i.createdAt, downAt: downSince(store.visibleSteps(i), down) }))
  return { app, faults, stats, basePath: '', webhooks, targets }
}

function routes (api: FastifyInstance, store: IncidentStore): void {
  const clients = new Map([[MAIN_CLIENT.id, MAIN_CLIENT], [SUB_CLIENT.id, SUB_CLIENT]])

  function find (id: string): SimIncident {
    const incident = store.get(id)
    if (incident === undefined) throw new BoomReply(404, 'Incident not found')
    return incident
  }

  // PhishFort Client API docs, 'Incidents' page: limit/cursor paging, `paging.next` an opaque id, `null` on the last page
  api.get<{ Querystring: Record<string, string | undefined> }>('/v1/incidents', async (req) => {
    const q = req.query
    let limit = MAX_LIMIT
    if (q.limit !== undefined) {
      if (!/^\d+$/.test(q.limit)) throw new BoomReply(400, '"limit" must be a number')
      limit = Number(q.limit)
      if (limit < 1) throw new BoomReply(400, '"limit" must be greater than or equal to 1')
      if (limit > MAX_LIMIT) throw new BoomReply(400, `"limit" must be less than or equal to ${MAX_LIMIT}`)
    }
    if (q.status !== undefined && !isPhishfortStatus(q.status)) {
      throw new BoomReply(400, `"status" must be one of [${PHISHFORT_STATUSES.join(', ')}]`)
    }
    const from = dateParam(q.fromDate, 'fromDate')
    const to = dateParam(q.toDate, 'toDate')
    let start: SimIncident | null = null
    if (q.cursor !== undefined && q.cursor !== '') {
      start = store.get(q.cursor) ?? null
      if (start === null) throw new BoomReply(400, '"cursor" is invalid')
    }
    const sorted = store.sorted()
    // the cursor names the first incident of the page; its position holds even when filters no longer match it
    const startIndex = start === null ? 0 : sorted.indexOf(start)
    const matching = sorted.slice(startIndex).filter(i =>
      (q.clientId === undefined || i.clientId === q.clientId) &&
      (q.status === undefined || store.statusOf(i) === q.status) &&
      // "created after" / "created before": the simulator treats both bounds as exclusive (real inclusivity [?])
      (from === null || i.createdAt > from) &&
      (to === null || i.createdAt < to))
    const page = matching.slice(0, limit)
    const body: IncidentList = {
      data: page.map(i => store.toIncident(i, false)),
      paging: { cursor: page.at(-1)?.id ?? q.cursor ?? null, next: matching[limit]?.id ?? null, limit }
    }
    return body
  })

  api.get<{ Params: { subject: string } }>('/v1/incident/subject/:subject', async (req) => {
    const wanted = req.params.subject.toLowerCase()
    const hit = store.sorted().find(i => [i.subject, i.url, i.domain].some(v => v !== undefined && v.toLowerCase() === wanted))
    if (hit === undefined) throw new BoomReply(404, 'Incident not found')
    return { data: store.toIncident(hit, true) }
  })

  api.get<{ Params: { id: string } }>('/v1/incident/:id', async (req) => ({ data: store.toIncident(find(req.params.id), true) }))

  for (const [path, lifecycle] of [['/v1/incident/tkd', LIFECYCLES.takedown], ['/v1/incident/monitor', LIFECYCLES.monitor]] as const) {
    api.post(path, { bodyLimit: MAX_REQUEST_BYTES }, async (req, reply) => {
      const form = await readBody(req)
      const report = validateReport(form.fields, clients)
      const now = store.clock.now()
      const id = store.newId()
      const client = clients.get(report.clientId ?? MAIN_CLIENT.id) ?? MAIN_CLIENT
      const incident: SimIncident = {
        id,
        clientId: client.id,
        safeDomain: client.safeDomain,
        ...report.target,
        source: 'CLIENT_REPORTED',
        createdAt: now,
        ...(report.reportedBy === undefined ? {} : { reportedBy: report.reportedBy }),
        incidentClass: 'n/a',
        verboseOnly: false,
        steps: [],
        notes: [],
        attachments: form.files
      }
      for (const [offset, status] of lifecycle) {
        incident.steps.push({ at: now + paced(store.clock, offset), status, message: stepMessage(status, report.comment) })
      }
      if (form.files.length > 0) incident.notes.push({ at: now, message: `${form.files.length} attachment(s) added`, type: 'info' })
      // PhishFort Client API docs, 'Report Incident' page [?]: duplicate reports are not documented; the simulator makes a second incident
      store.add(incident)
      return reply.code(201).send({ message: 'Incident reported successfully', id, url: DASHBOARD_BASE + id })
    })
  }

  // PhishFort Client API docs, 'Request Incident Review' page: actions take no body; 200 with a message, 404 for an unknown incident
  for (const [action, plan, words] of [
    ['tkd', LIFECYCLES.requestTakedown, 'takedown'],
    ['monitor', LIFECYCLES.requestMonitor, 'monitor'],
    ['safe', LIFECYCLES.markSafe, 'mark safe']
  ] as const) {
    api.post<{ Params: { id: string } }>(`/v1/incident/:id/${action}`, async (req) => {
      const incident = find(req.params.id)
      store.replan(incident, plan, `Client requested ${words}`)
      return { message: `You issued a review request to ${words} on incidentId: ${incident.id}`, id: incident.id }
    })
  }

  api.post<{ Params: { id: string } }>('/v1/incident/:id/comment', async (req) => {
    const incident = find(req.params.id)
    const comment = (req.body as { comment?: unknown } | null)?.comment
    if (typeof comment !== 'string') throw new BoomReply(400, '"comment" must be a string')
    if (comment.trim() === '') throw new BoomReply(400, '"comment" is not allowed to be empty')
    incident.notes.push({ at: store.clock.now(), message: `Client comment: ${comment}`, type: 'info' })
    return { message: 'Comment added successfully', id: incident.id }
  })

  api.post<{ Params: { id: string } }>('/v1/incident/:id/attach', async (req) => {
    const incident = find(req.params.id)
    if (!req.isMultipart()) throw new BoomReply(415, 'Attachments must be sent as multipart/form-data')
    const form = await readBody(req)
    if (form.files.length === 0) throw new BoomReply(400, '"attachments" is required')
    incident.attachments.push(...form.files)
    incident.notes.push({ at: store.clock.now(), message: `${form.files.length} attachment(s) added`, type: 'info' })
    return { message: 'Attachments uploaded successfully', id: incident.id }
  })
}

function stepMessage (status: PhishfortStatus, comment: string | undefined): string {
  const base = {
    pending_review: 'Incident reported and queued for analyst review',
    case_building: 'Analyst is reviewing the incident and gathering evidence',
    takedown_in_progress: 'Takedown notices sent to the registrar and hosting provider',
    takedown_success: 'Content is offline; takedown complete',
    pre_weaponised: 'Incident placed into monitoring'
  } as Partial<Record<PhishfortStatus, string>>
  const text = base[status] ?? status
  return status === 'pending_review' && comment !== undefined ? `${text} (comment: ${comment})` : text
}

function dateParam (value: string | undefined, name: string): number | null {
  if (value === undefined || value === '') return null
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new BoomReply(400, `"${name}" must be a valid date`)
  return ms
}

/** JSON or multipart (PhishFort Client API docs, 'Report Incident' page and 'Add Attachments' page): at most 12 files of the allowed types, request under 10485760 bytes. */
async function readBody (req: FastifyRequest): Promise<Form> {
  if (!req.isMultipart()) {
    const body = req.body
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BoomReply(400, 'Invalid request payload JSON format')
    return { fields: body as Record<string, unknown>, files: [] }
  }
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared >= MAX_REQUEST_BYTES) throw new BoomReply(413, TOO_LARGE)
  const allowed: ReadonlySet<string> = new Set(ALLOWED_ATTACHMENT_TYPES)
  const form: Form = { fields: {}, files: [] }
  let total = 0
  for await (const part of req.parts()) {
    if (part.type === 'field') {
      form.fields[part.fieldname] = part.value
      total += String(part.value).length
      continue
    }
    const data = await part.toBuffer()
    total += data.length
    if (part.fieldname !== 'attachments') throw new BoomReply(400, `"${part.fieldname}" is not allowed`)
    if (form.files.length >= MAX_ATTACHMENTS) {
      throw new BoomReply(413, `Too many attachments: at most ${MAX_ATTACHMENTS} files are allowed`)
    }
    if (total >= MAX_REQUEST_BYTES) throw new BoomReply(413, TOO_LARGE)
    const contentType = part.mimetype.toLowerCase()
    if (!allowed.has(contentType)) throw new BoomReply(400, `Unsupported attachment type: ${part.mimetype}`)
    form.files.push({ filename: part.filename, contentType, size: data.length })
  }
  return form
}

interface Report {
  target: Pick<SimIncident, 'subject' | 'incidentType'> & Partial<Pick<SimIncident, 'domain' | 'url'>>
  reportedBy?: string
  clientId?: string
  comment?: string
}

/**
 * The report rules of the PhishFort Client API docs ('Report Incident' page), with the live 400 message quoted in the
 * public polarityio/phishfort integration (commit 4f834ed).
 */
function validateReport (fields: Record<string, unknown>, clients: ReadonlyMap<string, unknown>): Report {
  const str = (name: string): string | undefined => {
    const v = fields[name]
    if (v === undefined) return undefined
    if (typeof v !== 'string') throw new BoomReply(400, `"${name}" must be a string`)
    return v
  }
  // PhishFort Client API docs, 'Report Incident' page: `comment`, if present, must be a non-null string
  if ('comment' in fields && fields.comment === null) throw new BoomReply(400, '"comment" must be a string')
  const comment = str('comment')
  const reportedBy = str('reportedBy')
  if (reportedBy !== undefined && !EMAIL.test(reportedBy)) throw new BoomReply(400, '"reportedBy" must be a valid email')
  const clientId = str('clientId')
  if (clientId !== undefined && !clients.has(clientId)) throw new BoomReply(403, 'clientId is not a managed sub-client of this client')
  const url = str('url')
  const incidentType = str('incidentType')
  const subject = str('subject')
  const extras = {
    ...(reportedBy === undefined ? {} : { reportedBy }),
    ...(clientId === undefined ? {} : { clientId }),
    ...(comment === undefined ? {} : { comment })
  }

  if (subject !== undefined || incidentType !== undefined) {
    if (incidentType === undefined || !SUBJECT_TYPES.includes(incidentType)) throw new BoomReply(400, SUBJECT_TYPE_RULE)
    if (subject === undefined || subject === '') throw new BoomReply(400, '"subject" is required')
    if (incidentType === 'phone' && !E164.test(subject)) throw new BoomReply(400, '"subject" must be a valid E.164 phone number')
    if (incidentType === 'email' && !EMAIL.test(subject)) throw new BoomReply(400, '"subject" must be a valid email')
    if (incidentType === 'ipv4' && !IPV4.test(subject)) throw new BoomReply(400, '"subject" must be a valid ipv4 address')
    return { target: { incidentType, subject }, ...extras }
  }
  if (url === undefined || url === '') throw new BoomReply(400, '"url" is required')
  let host: string
  let isUrl = false
  if (/^https?:\/\//i.test(url)) {
    try {
      host = new URL(url).hostname.toLowerCase()
      isUrl = true
    } catch {
      throw new BoomReply(400, '"url" must be a valid uri or domain')
    }
  } else {
    host = url.toLowerCase()
    if (!DOMAIN.test(host)) throw new BoomReply(400, '"url" must be a valid uri or domain')
  }
  if (SOCIAL_HOSTS.test(host)) return { target: { incidentType: 'social', subject: url, url }, ...extras }
  return { target: { incidentType: 'domain', subject: host, domain: host, ...(isUrl ? { url } : {}) }, ...extras }
}

/** The factory simulators/index.ts finds by the provider id. */
export const simulator: SimulatorFactory = createPhishfortSimulator
