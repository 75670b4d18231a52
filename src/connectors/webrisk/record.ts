/**
 * The gateway's durable record of the submissions it made (docs/adr/0041-webrisk-listed-from-the-gateway-record.md):
 * Web Risk has no confirmed way to list them, so this record is the listing. It lives in the gateway's key-value store
 * (Redis when configured, shared by replicas; memory otherwise), under one `{project}` hash tag:
 * - `seq`: how many submissions were recorded; `idx:<n>` the native id of the n-th (the listing walks n downward,
 *   newest first, with no lock and no list rewritten per submission);
 * - `rec:<id>`: the submission as last seen (mapper.ts `Seen`) and when to poll its operation next;
 * - `uri:<sha256 of the URL>`: the latest submission of a URL (the duplicate check);
 * - `min:<epoch minute>`, `day:<YYYY-MM-DD>`: submissions counted against the quotas.
 */
import { createHash } from 'node:crypto'
import type { KvStore } from '../../store/kv-store.js'
import type { Seen } from './mapper.js'

const PREFIX = 'tgw:v1:wr:'
/** a record outlives any review (Google decides within about a day) by far; the index counter never expires */
const RECORD_TTL_MS = 400 * 24 * 3600_000
const FOREVER_MS = 100 * 365 * 24 * 3600_000
const DAY_MS = 24 * 3600_000
const MINUTE = 60_000
/** Poll delays after the submission (the notes' schedule): 1, 2, 5, 10, 20 and 40 minutes, hourly to 48 h, then 6-hourly. */
const EARLY_POLLS = [1, 2, 5, 10, 20, 40].map(m => m * MINUTE)
const HOURLY_UNTIL = 48 * 60 * MINUTE
const POLL_FOR = 7 * DAY_MS

export interface Submission extends Seen {
  /** epoch ms of the next operation read the watcher owes this submission; null = no more polling */
  nextPollAt: number | null
}

/** When to read an open operation next (null once it is a week old: its last state stays). */
export function nextPollAt (createdAtMs: number, nowMs: number): number | null {
  const age = nowMs - createdAtMs
  const early = EARLY_POLLS.find(d => d > age)
  if (early !== undefined) return createdAtMs + early
  if (age < HOURLY_UNTIL) return createdAtMs + (Math.floor(age / (60 * MINUTE)) + 1) * 60 * MINUTE
  const next = createdAtMs + HOURLY_UNTIL + (Math.floor((age - HOURLY_UNTIL) / (6 * 60 * MINUTE)) + 1) * 6 * 60 * MINUTE
  return next - createdAtMs > POLL_FOR ? null : next
}

/** The URL as the duplicate check compares it: scheme and host lower-cased, no fragment, trailing slash kept. */
export function normaliseUri (uri: string): string {
  try {
    const u = new URL(uri)
    u.hash = ''
    return u.toString()
  } catch {
    return uri.trim()
  }
}

export class SubmissionRecord {
  readonly #store: KvStore
  readonly #tag: string

  constructor (store: KvStore, project: string) {
    this.#store = store
    this.#tag = `${PREFIX}{${project}}:`
  }

  #key (part: string): string { return this.#tag + part }

  /**
   * Counts one submission against the minute's and the day's quota (fixed windows: the UTC minute, the UTC day); a
   * refusal says which and when it resets. A refused submission still counts (the counters are shared by replicas and
   * never decremented), which errs on the side of the quota.
   */
  async countSubmit (limits: { minute: number, day: number }, nowMs: number): Promise<{ ok: true } | { ok: false, which: 'minute' | 'day', retryAfterSeconds: number }> {
    if (limits.minute > 0) {
      const minute = Math.floor(nowMs / MINUTE)
      const { value } = await this.#store.incr(this.#key(`min:${minute}`), 2 * MINUTE)
      if (value > limits.minute) return { ok: false, which: 'minute', retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * MINUTE - nowMs) / 1000)) }
    }
    if (limits.day > 0) {
      const day = new Date(nowMs).toISOString().slice(0, 10)
      const { value } = await this.#store.incr(this.#key(`day:${day}`), DAY_MS + 3600_000)
      // the reset time of Google's daily quota is not published: tomorrow 00:00 UTC is a guess, said as one
      if (value > limits.day) return { ok: false, which: 'day', retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(day) + DAY_MS - nowMs) / 1000)) }
    }
    return { ok: true }
  }

  async add (s: Submission): Promise<void> {
    await this.#store.set(this.#key(`rec:${s.id}`), JSON.stringify(s), { ttlMs: RECORD_TTL_MS })
    if (s.uri !== null) await this.#store.set(this.#key(`uri:${uriHash(s.uri)}`), s.id, { ttlMs: RECORD_TTL_MS })
    const { value } = await this.#store.incr(this.#key('seq'), FOREVER_MS)
    await this.#store.set(this.#key(`idx:${value}`), s.id, { ttlMs: RECORD_TTL_MS })
  }

  async put (s: Submission): Promise<void> {
    await this.#store.set(this.#key(`rec:${s.id}`), JSON.stringify(s), { ttlMs: RECORD_TTL_MS })
  }

  async get (id: string): Promise<Submission | null> {
    const raw = await this.#store.get(this.#key(`rec:${id}`))
    return raw === null ? null : JSON.parse(raw) as Submission
  }

  async getMany (ids: readonly string[]): Promise<Array<Submission | null>> {
    if (ids.length === 0) return []
    return (await this.#store.mget(ids.map(id => this.#key(`rec:${id}`)))).map(raw => raw === null ? null : JSON.parse(raw) as Submission)
  }

  /** the latest submission of this URL */
  async latestFor (uri: string): Promise<Submission | null> {
    const id = await this.#store.get(this.#key(`uri:${uriHash(uri)}`))
    return id === null ? null : await this.get(id)
  }

  /**
   * Submissions newest first, from position `from` (null: the newest) downward, `batch` index entries at a time, until
   * `want` of them pass `keep`; `next` is where the following page starts (null: the oldest was read).
   */
  async walk (from: number | null, want: number, keep: (s: Submission) => boolean, batch = Math.max(want, 50)): Promise<{ items: Submission[], next: number | null }> {
    let n = from ?? Number(await this.#store.get(this.#key('seq')) ?? '0')
    const items: Submission[] = []
    while (n > 0 && items.length < want) {
      const positions: number[] = []
      for (let i = n; i > 0 && i > n - batch; i--) positions.push(i)
      const ids = await this.#store.mget(positions.map(i => this.#key(`idx:${i}`)))
      const recs = await this.getMany(ids.filter((id): id is string => id !== null))
      // each position read counts; stop at the one that filled the page so the next page starts right after it
      let used = 0
      let r = 0
      for (const id of ids) {
        used++
        if (id === null) continue
        const rec = recs[r++] ?? null
        if (rec !== null && keep(rec)) items.push(rec)
        if (items.length === want) break
      }
      n -= used
    }
    return { items, next: n > 0 ? n : null }
  }
}

function uriHash (uri: string): string {
  return createHash('sha256').update(normaliseUri(uri)).digest('hex').slice(0, 32)
}
