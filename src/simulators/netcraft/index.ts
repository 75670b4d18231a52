/**
 * A stateful fake of the Netcraft Takedown API v1 under `/api/v1` (the endpoints of Netcraft's "Takedown API"
 * reference as the shipped Cortex XSOAR "Netcraft v2" integration uses them): Bearer auth, form-encoded (or multipart
 * with an `evidence` file, or JSON) POSTs, trailing slashes on every path, the plain-text `report/` answers
 * (`TD_OK`/`TD_EXISTS`/`TD_WILDCARD`/`TD_VERIFY` with HTTP 200), bare JSON arrays without paging metadata,
 * `sort`/`dir`/`max_results`/`id_before`/`id_after` and the other list filters, notes, escalation and attack types.
 */
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NETCRAFT_STATUS_SLUGS, NETCRAFT_STATUSES, statusSlug, type NetcraftStatus } from '../../connectors/netcraft/wire.js'
import { paced } from '../../clock.js'
import { createSimulatorApp, downSince, type Simulator, type SimulatorFactory, type SimulatorOptions, type SimTarget } from '../harness.js'
import { parsePlan } from '../plan.js'
import { seedTakedowns } from './seed.js'
import { AUTHORISED_PATH, DAY, hostOf, normaliseAttack, TakedownStore, VERIFY_AFTER, type SimTakedown } from './state.js'

/** the 401 body: Netcraft's is undocumented, so it is one constant here */
export const UNAUTHORISED_BODY = { error: 'unauthorised' }
/** `max_results` cap (XSOAR's TAKEDOWN_API_LIMIT); the API's own default page size is unknown, this one is ours */
const MAX_RESULTS = 100_000
const DEFAULT_RESULTS = 1000
/** reports of hosts matching this are held for extra verification (TD_VERIFY) */
const VERIFY_PATTERN = /(^|\.)verify-hold\./
/** escalate/ refusals: the v1 failure code is unknown; the body is the legacy `{error_code, error_message}` */
const ESCALATE_REFUSED_STATUS = 400

/** Live list order and flags of some attack types (XSOAR docs: `netcraft-attack-type-list` output). */
const ATTACK_TYPES = [
  ['phishing_url', 'Phishing URL', 'url', true, false, true],
  ['dropsite', 'Dropsite', 'url', true, false, false],
  ['fake_mobile_app', 'Fake Mobile App', 'url', true, false, false],
  ['phishkit_archive', 'Phishkit Archive', 'url', true, false, false],
  ['malware_c2', 'Malware Command & Control', 'url', true, false, false],
  ['malware_c2_ip', 'Malware C2 IP', 'malware_c2_ip', true, false, false],
  ['facebook_brand_infringement', 'Facebook Brand Infringement', 'url', false, false, false],
  ['fake_shop', 'Fake Shop', 'url', true, false, true],
  ['advance_fee_fraud', 'Advance Fee Fraud', 'email', true, false, false],
  ['sends_phishing_url', 'Mail Server Sending Phishing', 'server', true, false, false]
] as const

type Fields = Record<string, string>

/** true/false/True/False/1/0 in any case (XSOAR sends Python booleans as `True`/`False`) */
function bool (value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined
  const v = value.trim().toLowerCase()
  return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : undefined
}

/** `YYYY-MM-DD HH:MM:SS` (UTC, time optional, inclusive bound); null when absent, NaN when unreadable */
function filterTime (value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}))?$/.exec(value.trim())
  return m === null ? Number.NaN : Date.parse(`${m[1] ?? ''}T${m[2] ?? '00:00:00'}Z`)
}

export function createNetcraftSimulator (opts: SimulatorOptions): Simulator {
  const { app, faults, stats } = createSimulatorApp((_status, message) => ({ error: message }))
  const store = new TakedownStore(opts.clock)
  seedTakedowns(store, opts.seed ?? 1, Math.max(opts.count ?? 36, 1), opts.spanDays)

  app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ error: 'not found' }))
  app.register(async (api: FastifyInstance) => {
    await api.register(multipart, { attachFieldsToBody: 'keyValues', limits: { files: 1, fileSize: 20 * 1024 * 1024 } })
    api.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)))
    })
    api.addHook('onRequest', async (req, reply) => {
      if (req.headers.authorization !== `Bearer ${opts.apiKey}`) return reply.code(401).send(UNAUTHORISED_BODY)
    })
    routes(api, store)
  }, { prefix: '/api/v1' })

  // Netcraft's side (XSOAR "Netcraft v2" integration docs, the takedown statuses): escalating to the upstream provider or
  // the police, invalidating a report and giving up on a stale one are Netcraft's decisions, which no client call asks for
  app.post<{ Params: { id: string } }>('/__sim/takedowns/:id/plan', async (req, reply) => {
    const t = store.get(req.params.id)
    if (t === undefined) return await reply.code(404).send({ error: 'no such takedown' })
    const plan = parsePlan(req.body, NETCRAFT_STATUS_SLUGS)
    if (typeof plan === 'string') return await reply.code(400).send({ error: plan })
    store.replan(t, plan)
    return await reply.code(204).send()
  })

  // the small internet: an attack's page is down while Netcraft says resolved (monitoring) or resolved, the statuses the
  // gateway maps to mitigated and taken_down (connectors/netcraft/status-map.ts); a restart ends the run
  const down = (s: NetcraftStatus): boolean => s === 'resolved_monitoring' || s === 'resolved'
  const targets = (): SimTarget[] => store.all().map(t => ({ value: t.attack, createdAt: t.createdAt, downAt: downSince(store.visible(t), down) }))
  return { app, faults, stats, basePath: '/api/v1', targets }
}

/** Form, multipart (text fields; the evidence file is accepted and dropped) or JSON, as one string map. */
function fieldsOf (req: FastifyRequest): Fields {
  const out: Fields = {}
  for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v)
  }
  return out
}

function routes (api: FastifyInstance, store: TakedownStore): void {
  const refuse = (reply: FastifyReply, message: string, status = 400): FastifyReply =>
    reply.code(status).send({ error_code: 'TD_ERROR', error_message: message })

  api.get<{ Querystring: Record<string, string | undefined> }>('/attacks/', async (req) => {
    const q = req.query
    const csv = (v: string | undefined): string[] | null => v === undefined || v === '' ? null : v.split(',').map(s => s.trim().toLowerCase())
    const statuses = csv(q.statuses)
    const types = csv(q.attack_types)
    const from = filterTime(q.date_from)
    const to = filterTime(q.date_to)
    const url = q.url?.trim().toLowerCase()
    const wantedFlag = (v: string | undefined, on: boolean, source: string): boolean => v === undefined || v === '' ||
      (v === 'no' ? !on : v === 'yes' ? on : on && v === `yes:${source}`)
    const now = store.clock.now()
    // the cheap tests first, and no record built for a filter: toWire reads every note, so a list of 25,000 takedowns
    // that built one per row spent seconds a page (only the page it answers is built)
    let rows = store.all().filter(t => (q.id === undefined || t.id === q.id) &&
      // id_before / id_after are exclusive ("submitted before / after")
      (q.id_before === undefined || Number(t.id) < Number(q.id_before)) &&
      (q.id_after === undefined || Number(t.id) > Number(q.id_after)) &&
      (from === null || t.createdAt >= from) && (to === null || t.createdAt <= to) &&
      (q.region === undefined || q.region === '' || t.region === q.region) &&
      (types === null || types.includes(t.attackType)) &&
      (q.ip === undefined || t.ip === q.ip) &&
      (bool(q.false_positive) === undefined || bool(q.false_positive) === t.falsePositive) &&
      (q.reporter_email === undefined || t.reporter === q.reporter_email) &&
      (statuses === null || statuses.includes(statusSlug(NETCRAFT_STATUSES[store.statusOf(t)]))) &&
      (url === undefined || url === '' || [normaliseAttack(t.attack), t.attack.toLowerCase(), hostOf(t.attack), t.ip].includes(url) || normaliseAttack(url) === normaliseAttack(t.attack)) &&
      wantedFlag(q.authgiven, store.authorised(t), t.authSource) &&
      wantedFlag(q.escalated, t.escalatedAt !== null && t.escalatedAt <= now, 'customer'))
    const dir = q.dir?.toLowerCase() === 'desc' ? -1 : 1
    const key = (t: SimTakedown): number | string => {
      switch (q.sort) {
        case 'date_submitted': return t.createdAt
        case 'status': return store.statusOf(t)
        case 'last_updated': return String(store.toWire(t).last_updated)
        default: return Number(t.id)
      }
    }
    rows = rows.sort((a, b) => {
      const ka = key(a)
      const kb = key(b)
      return (ka < kb ? -1 : ka > kb ? 1 : Number(a.id) - Number(b.id)) * dir
    })
    const max = Math.min(MAX_RESULTS, /^\d+$/.test(q.max_results ?? '') ? Number(q.max_results) : DEFAULT_RESULTS)
    return rows.slice(0, max).map(t => store.toWire(t))
  })

  api.post('/report/', async (req, reply) => {
    const f = fieldsOf(req)
    const text = (body: string): FastifyReply => reply.code(200).type('text/plain; charset=utf-8').send(body)
    const attack = f.attack?.trim() ?? ''
    if (attack === '') return text('TD_ERROR\nattack is required')
    if ((f.comment ?? '').trim() === '') return text('TD_ERROR\ncomment is required')
    const region = f.region ?? 'sandbox-region'
    const forceAuth = bool(f.force_auth) === true
    const host = hostOf(attack)
    if (VERIFY_PATTERN.test(host)) return text('TD_VERIFY')
    const wanted = normaliseAttack(attack)
    const existing = store.all().find(t => t.region === region && normaliseAttack(t.attack) === wanted)
    if (existing !== undefined) {
      // reporting an attack that has a takedown authorises it (force_auth) and answers its id
      if (forceAuth) store.authorise(existing, 'customer')
      return text(`TD_EXISTS\n${existing.id}`)
    }
    const wildcard = store.all().find(t => t.region === region && hostOf(t.attack).startsWith('*.') && host.endsWith(hostOf(t.attack).slice(1)))
    if (wildcard !== undefined) return text('TD_WILDCARD')
    const now = store.clock.now()
    const wait = (ms: number): number => paced(store.clock, ms)
    const inactive = bool(f.inactive) === true
    const t: SimTakedown = {
      id: store.newId(),
      attack,
      reportedUrl: attack,
      attackType: f.type ?? 'phishing_url',
      region,
      brand: f.brand ?? 'Acme Bank',
      reporter: 'api@acme.example',
      reportSource: 'API',
      customerLabel: f.customer_label ?? '',
      tags: (f.tags ?? '').split(',').map(s => s.trim()).filter(s => s !== ''),
      falsePositive: false,
      host: '',
      registrar: '',
      ip: '',
      createdAt: now,
      steps: inactive
        ? [{ at: now, status: 'inactive_monitoring' }, { at: now + wait(14 * DAY), status: 'stale' }]
        : [{ at: now, status: 'unverified' }, { at: now + wait(VERIFY_AFTER), status: 'verified' },
            ...(forceAuth ? AUTHORISED_PATH.map(([offset, status]) => ({ at: now + wait(VERIFY_AFTER + offset), status })) : [])],
      authAt: forceAuth && !inactive ? now + wait(VERIFY_AFTER) : null,
      authSource: forceAuth && !inactive ? 'customer' : '',
      escalatedAt: null
    }
    store.add(t)
    return text(`TD_OK\n${t.id}`)
  })

  api.get<{ Querystring: Record<string, string | undefined> }>('/notes/', async (req) => {
    const { takedown_id: id, author } = req.query
    return store.notes
      .filter(n => (id === undefined || n.takedownId === id) && (author === undefined || n.author === author))
      .map(n => store.noteToWire(n))
  })

  api.post('/notes/', async (req, reply) => {
    const f = fieldsOf(req)
    const t = store.get(f.takedown_id ?? '')
    if (t === undefined) return refuse(reply, `no takedown ${f.takedown_id ?? ''}`)
    if ((f.text ?? '').trim() === '') return refuse(reply, 'text is required')
    return { note_id: store.addNote(t.id, 'api@acme.example', f.text ?? '').id }
  })

  api.post('/escalate/', async (req, reply) => {
    const t = store.get(fieldsOf(req).takedown_id ?? '')
    if (t === undefined) return refuse(reply, 'no such takedown', ESCALATE_REFUSED_STATUS)
    // only authorised takedowns can be escalated (XSOAR docs: "Only authorised takedowns can be escalated")
    if (!store.authorised(t)) return refuse(reply, 'the takedown is not authorised, so it cannot be escalated', ESCALATE_REFUSED_STATUS)
    if (t.escalatedAt === null) {
      t.escalatedAt = store.clock.now()
      store.addNote(t.id, 'api@acme.example', 'Takedown escalated from automated to managed')
    }
    return { status: 'TD_OK' }
  })

  api.get<{ Querystring: Record<string, string | undefined> }>('/attack-types/', async (req) => {
    const q = req.query
    return ATTACK_TYPES
      .map(([name, display, base, automated, autoEscalation, autoAuthorise]) => ({
        name, display_name: display, base_type: base, description: `${display} attacks`, automated, auto_escalation: autoEscalation, auto_authorise: autoAuthorise
      }))
      .filter(t => (bool(q.automated) === undefined || t.automated === bool(q.automated)) &&
        (bool(q.auto_escalation) === undefined || t.auto_escalation === bool(q.auto_escalation)) &&
        (bool(q.auto_authorise) === undefined || t.auto_authorise === bool(q.auto_authorise)))
  })
}

/** The factory simulators/index.ts finds by the provider id. */
export const simulator: SimulatorFactory = createNetcraftSimulator
