/**
 * Netcraft simulator state: takedowns with a timeline of status steps, authorisation and escalation times, and notes.
 * Status, flags and every `first_*`/`final_*` date are computed from the injected clock at read time (no timers), so
 * tests move a takedown along with `clock.advance()`. Records are served the way the live API sends them (XSOAR
 * "Netcraft v2" integration docs, live captures): string ids, "0"/"1" flags, display-string statuses, `" UTC"`
 * timestamps and `""` for every unset value; notes carry integer ids and times without the suffix.
 */
import { paced, type Clock } from '../../clock.js'
import { NETCRAFT_STATUSES, type NetcraftStatus } from '../../connectors/netcraft/wire.js'

export const MIN = 60_000
export const HOUR = 60 * MIN
export const DAY = 24 * HOUR

export interface Step { at: number, status: NetcraftStatus }
export interface SimNote { id: number, takedownId: string, groupId: number, author: string, text: string, at: number }

export interface SimTakedown {
  id: string
  attack: string
  reportedUrl: string
  attackType: string
  region: string
  brand: string
  reporter: string
  reportSource: string
  customerLabel: string
  tags: string[]
  falsePositive: boolean
  host: string
  registrar: string
  ip: string
  createdAt: number
  /** status steps, oldest first; a step is visible once the clock reaches `at` */
  steps: Step[]
  authAt: number | null
  authSource: '' | 'customer' | 'netcraft'
  escalatedAt: number | null
}

/** Lifecycle of a reported attack, offsets from the report (or authorisation) time. */
export const AUTHORISED_PATH: ReadonlyArray<readonly [number, NetcraftStatus]> = [
  [HOUR, 'contacted_hosting'], [12 * HOUR, 'resolved_monitoring'], [12 * HOUR + 7 * DAY, 'resolved']
]
export const VERIFY_AFTER = 10 * MIN

/** `YYYY-MM-DD HH:MM:SS UTC` (takedown records) or without the suffix (notes). */
export function wireTime (ms: number | null, suffix = true): string {
  if (ms === null) return ''
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + (suffix ? ' UTC' : '')
}

/** What makes two reports the same attack: lower-case scheme and host, no trailing slash. */
export function normaliseAttack (value: string): string {
  const v = value.trim()
  try {
    const u = new URL(v)
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}`.toLowerCase()
  } catch {
    return v.toLowerCase().replace(/\/+$/, '')
  }
}

export function hostOf (value: string): string {
  try {
    return new URL(value).hostname.toLowerCase()
  } catch {
    return value.includes('@') ? (value.split('@').pop() ?? '').toLowerCase() : value.toLowerCase()
  }
}

export class TakedownStore {
  readonly #byId = new Map<string, SimTakedown>()
  readonly notes: SimNote[] = []
  readonly clock: Clock
  #nextId = 30480489
  #nextNote = 1394724283

  constructor (clock: Clock) { this.clock = clock }

  add (t: SimTakedown): void {
    this.#byId.set(t.id, t)
    if (Number(t.id) >= this.#nextId) this.#nextId = Number(t.id) + 1
  }

  get (id: string): SimTakedown | undefined { return this.#byId.get(id) }
  all (): SimTakedown[] { return [...this.#byId.values()] }
  newId (): string { return String(this.#nextId++) }

  addNote (takedownId: string, author: string, text: string, groupId = 0): SimNote {
    const note = { id: this.#nextNote++, takedownId, groupId, author, text, at: this.clock.now() }
    this.notes.push(note)
    return note
  }

  visible (t: SimTakedown): Step[] {
    const now = this.clock.now()
    return t.steps.filter(s => s.at <= now)
  }

  statusOf (t: SimTakedown): NetcraftStatus {
    return this.visible(t).at(-1)?.status ?? 'unverified'
  }

  authorised (t: SimTakedown): boolean {
    return t.authAt !== null && t.authAt <= this.clock.now()
  }

  /** Authorises a takedown now (a later report with force_auth=true): a verified one moves on to the notices. */
  authorise (t: SimTakedown, source: 'customer' | 'netcraft'): void {
    if (this.authorised(t)) return
    const now = this.clock.now()
    t.authAt = now
    t.authSource = source
    if (['unverified', 'verified'].includes(this.statusOf(t))) {
      t.steps = [...this.visible(t), ...AUTHORISED_PATH.map(([offset, status]) => ({ at: now + paced(this.clock, offset), status }))]
    }
  }

  /** Netcraft's own people decide the next steps (the `/__sim` plan control): the future steps give way to the plan. */
  replan (t: SimTakedown, plan: ReadonlyArray<{ afterMs: number, status: NetcraftStatus }>): void {
    const now = this.clock.now()
    t.steps = [...this.visible(t), ...plan.map(s => ({ at: now + paced(this.clock, s.afterMs), status: s.status }))]
  }

  /** The record as the live API sends it. */
  toWire (t: SimTakedown): Record<string, unknown> {
    const steps = this.visible(t)
    const first = (pred: (s: Step) => boolean): number | null => steps.find(pred)?.at ?? null
    const last = (pred: (s: Step) => boolean): number | null => steps.filter(pred).at(-1)?.at ?? null
    const status = this.statusOf(t)
    const contacted = (s: Step): boolean => s.status.startsWith('contacted_')
    const resolvedAt = first(s => s.status === 'resolved_monitoring')
    const restart = resolvedAt === null ? null : last(s => contacted(s) && s.at > resolvedAt)
    const escalated = t.escalatedAt !== null && t.escalatedAt <= this.clock.now()
    const noteTimes = this.notes.filter(n => n.takedownId === t.id).map(n => n.at)
    const updated = Math.max(steps.at(-1)?.at ?? t.createdAt, escalated ? t.escalatedAt ?? 0 : 0, ...noteTimes)
    return {
      id: t.id,
      group_id: t.id,
      attack_url: t.attack,
      reported_url: t.reportedUrl,
      attack_type: t.attackType,
      status: NETCRAFT_STATUSES[status],
      authgiven: this.authorised(t) ? '1' : '0',
      authorisation_source: this.authorised(t) ? t.authSource : '',
      escalated: escalated ? '1' : '0',
      escalation_source: escalated ? 'customer' : '',
      managed: escalated,
      false_positive: t.falsePositive,
      has_phishing_kit: '0',
      phishing_kit_hash: [],
      date_submitted: wireTime(t.createdAt),
      last_updated: wireTime(updated),
      date_authed: wireTime(this.authorised(t) ? t.authAt : null),
      date_escalated: wireTime(escalated ? t.escalatedAt : null),
      date_first_actioned: wireTime(first(s => s.status !== 'unverified')),
      first_contact: wireTime(first(contacted)),
      first_inactive: wireTime(first(s => s.status === 'inactive_monitoring')),
      first_resolved: wireTime(resolvedAt),
      final_resolved: wireTime(last(s => s.status === 'resolved_monitoring')),
      first_outage: '',
      final_outage: '',
      status_change_uptime: '',
      restart_date: wireTime(restart),
      stop_monitoring_date: wireTime(['resolved', 'stale'].includes(status) ? steps.at(-1)?.at ?? null : null),
      region: t.region,
      target_brand: t.brand,
      targeted_url: '',
      customer_label: t.customerLabel,
      customer_tag: '',
      tags: t.tags,
      reporter: t.reporter,
      report_source: t.reportSource,
      ip: t.ip,
      country_code: t.ip === '' ? '' : 'us',
      // the registered domain; none for an IP host
      domain: /^[\d.]+$/.test(hostOf(t.attack)) ? '' : hostOf(t.attack).split('.').slice(-2).join('.'),
      hostname: hostOf(t.attack),
      host: t.host,
      registrar: t.registrar,
      fwd_owner: '[unknown]',
      rev_owner: '[unknown]',
      language: 'english',
      is_redirect: 'no_redirect',
      domain_attack: 'no',
      hostname_attack: 'no',
      deceptive_domain_score: '0.00',
      hostname_ddss_score: '0.00',
      domain_risk_rating: '0',
      site_risk_rating: '0',
      certificate: [],
      certificate_revoked: 'Not revoked',
      evidence_url: `https://incident.netcraft.com/${Number(t.id).toString(16).padStart(12, '0')}/`,
      screenshot_url: '',
      gsb_block_status: [],
      gsb_first_blocked: [],
      logged_credential_injections: [],
      malware_category: '',
      malware_family: ''
    }
  }

  noteToWire (n: SimNote): Record<string, unknown> {
    return { author: n.author, group_id: n.groupId, note: n.text, note_id: n.id, takedown_id: Number(n.takedownId), time: wireTime(n.at, false) }
  }
}
