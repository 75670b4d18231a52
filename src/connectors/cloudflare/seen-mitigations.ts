/**
 * What the gateway last saw of each abuse report's active mitigations, keyed by the report's `mitigation_summary`
 * (ADR 0028). A listing reads `…/mitigations?status=active` only for a report whose summary differs from the one
 * recorded (or whose record is older than its maximum age); otherwise it reuses the recorded mitigations.
 *
 * Two levels: an in-process map (no round trip for the reports this replica has seen) and the gateway's KvStore
 * (Redis when configured, so replicas and restarts share what one of them has read). The store is an optimisation:
 * when it fails, the listing reads from the vendor and the in-process map still answers.
 */
import { Type } from 'typebox'
import type { Clock } from '../../clock.js'
import type { Logger } from '../../logger.js'
import { keys } from '../../store/keys.js'
import type { KvStore } from '../../store/kv-store.js'
import { TtlCache } from '../../store/ttl-cache.js'
import { check } from '../validate.js'
import { MitigationSchema, type AbuseReport, type Mitigation } from './wire.js'

/**
 * A record is trusted for at most this long, then read again even with an unchanged summary: it bounds how long a
 * swap the counts do not show (one active mitigation removed while another became active between two reads) can go
 * unseen in listings. Spread per report over 75–100 % of it, so the records written by one walk do not all expire
 * together.
 */
export const SEEN_MAX_AGE_MS = 24 * 3_600_000
/** in-process records kept (an entry is ~300 bytes); the oldest written go first */
const LOCAL_MAX = 20_000

/**
 * what the gateway last saw of a report's active mitigations (ADR 0028), in the `cf-seen` namespace the provider
 * module declares; one `{account}` hash tag, so a listing page reads its reports' records with one MGET
 */
function seenKey (accountId: string, reportId: string): string {
  return keys.vendor('cf-seen', `{${accountId}}:${reportId}`)
}

const RecordSchema = Type.Object({ summary: Type.String(), at: Type.Number(), active: Type.Array(MitigationSchema) })
interface SeenRecord { summary: string, at: number, active: Mitigation[] }

/** The report fields whose change means its active mitigations may have changed. */
export function summaryKey (r: AbuseReport): string {
  const s = r.mitigation_summary ?? {}
  return [r.status, s.accepted_url_count, s.active_count, s.pending_count, s.in_review_count].join('|')
}

/** 75–100 % of SEEN_MAX_AGE_MS, fixed per report id (FNV-1a of the id): no randomness, still spread. */
function maxAgeOf (reportId: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < reportId.length; i++) h = Math.imul(h ^ reportId.charCodeAt(i), 0x01000193)
  return Math.round(SEEN_MAX_AGE_MS * (0.75 + 0.25 * ((h >>> 0) / 0xffffffff)))
}

export class SeenMitigations {
  readonly #local: TtlCache<SeenRecord>
  readonly #store: KvStore | undefined
  readonly #clock: Clock
  readonly #accountId: string

  constructor (opts: { accountId: string, clock: Clock, store?: KvStore | undefined }) {
    this.#accountId = opts.accountId
    this.#clock = opts.clock
    this.#store = opts.store
    this.#local = new TtlCache({ max: LOCAL_MAX, ttlMs: SEEN_MAX_AGE_MS, clock: opts.clock })
  }

  #fresh (report: AbuseReport, rec: SeenRecord | undefined): rec is SeenRecord {
    if (rec === undefined || rec.summary !== summaryKey(report)) return false
    const age = this.#clock.now() - rec.at
    return age >= 0 && age < maxAgeOf(report.id)
  }

  /**
   * The recorded active mitigations of each report, or null where the report must be read (no record, another
   * summary, or too old). One store round trip for the reports the in-process map does not answer.
   */
  async lookup (reports: readonly AbuseReport[], log: Logger): Promise<Array<Mitigation[] | null>> {
    const out = reports.map(r => {
      const rec = this.#local.get(r.id)
      return this.#fresh(r, rec) ? rec.active : null
    })
    const missing = reports.flatMap((_r, i) => out[i] === null ? [i] : [])
    if (missing.length === 0 || this.#store === undefined) return out
    let values: Array<string | null>
    try {
      values = await this.#store.mget(missing.map(i => seenKey(this.#accountId, reports[i]!.id)))
    } catch (err) {
      log.debug({ provider: 'cloudflare', err: (err as Error).message }, 'seen mitigations: the store did not answer; reading from the vendor')
      return out
    }
    missing.forEach((i, k) => {
      const rec = parse(values[k] ?? null)
      const report = reports[i]!
      if (rec === null || !this.#fresh(report, rec)) return
      this.#remember(report.id, rec)
      out[i] = rec.active
    })
    return out
  }

  /** Records what was just read of a report (listing or detail view); store failures are logged and ignored. */
  async record (report: AbuseReport, active: Mitigation[], log: Logger): Promise<void> {
    const rec: SeenRecord = { summary: summaryKey(report), at: this.#clock.now(), active }
    this.#remember(report.id, rec)
    if (this.#store === undefined) return
    try {
      await this.#store.set(seenKey(this.#accountId, report.id), JSON.stringify(rec), { ttlMs: maxAgeOf(report.id) })
    } catch (err) {
      log.debug({ provider: 'cloudflare', reportId: report.id, err: (err as Error).message }, 'seen mitigations: could not write the record')
    }
  }

  #remember (reportId: string, rec: SeenRecord): void {
    this.#local.set(reportId, rec, { at: rec.at, ttlMs: maxAgeOf(reportId) })
  }
}

function parse (raw: string | null): SeenRecord | null {
  if (raw === null) return null
  try {
    const value: unknown = JSON.parse(raw)
    return check(RecordSchema, value) ? value : null
  } catch {
    return null
  }
}
