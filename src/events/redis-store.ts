/**
 * The event log on Redis Streams. One Lua script is the compare-and-record step: snapshot fingerprint compare →
 * sequence increment → XADD to the log (trimmed by time with MINID) → the same entry, under the same id, pushed to the
 * case's timeline, all atomic, so replicas that see the same change record it once. One dedicated connection per
 * process tails the log with XREAD BLOCK and fans new entries out to the subscribers (SSE clients, other features).
 *
 * A case's timeline is a Redis list, not a stream (ADR 0049): Redis gives every new stream a listpack of
 * stream-node-max-bytes (4 KB) up front, so a stream per case cost ~4.7 KB whatever it held. Its entries carry the case
 * deflated against a fixed dictionary (raw bytes after a newline; base64 in `z` in entries written before), trimmed
 * by time from the head. Timelines written before as streams are
 * still read, under their old key, until they expire.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import type { Cluster, Redis } from 'ioredis'
import type { RedisTarget } from '../store/redis-kv-store.js'
import type { Logger } from '../logger.js'
import type { Case } from '../schemas/case.js'
import type { AppendInput, CaseEvent, CaseEventType, Event, GatewayEvent, ObservedVia, TimelineEvent } from '../schemas/event.js'
import type { UnifiedStatus } from '../schemas/unified-status.js'
import { eventKeys } from '../store/keys.js'
import { closeRedisClient, settleWithin, type Abandoned } from '../store/closing.js'
import { createRedisClient, waitForReady } from '../store/redis-kv-store.js'
import { turnBatch, type TurnBatch } from '../store/turn-batch.js'
import type { Clock } from '../clock.js'
import { caseFingerprint, caseOfTargetEvent, compareIds, gatewayEventOf, matchesFilter, type Checkpoint, type EventFilter, type EventRead, type EventStore, type ObserveInput, type RetentionOptions } from './store.js'

/*
 * A timeline list's entries older than the MINID ARGV (`<ms>-0`) are popped from its head (oldest first; at most 100 a
 * call, the next append goes on). A target event's entry is the JSON array [entry id, field, value, ...]; a case
 * event's is the JSON array LINE_FIELDS (values only, in that order), a newline (JSON never holds a raw one) and the
 * case deflated, as raw bytes.
 */
const TRIM_LINE = `
local function trimLine(key, minid)
  local min = tonumber(string.match(minid, '^(%d+)'))
  for _ = 1, 100 do
    local head = redis.call('LINDEX', key, 0)
    if not head then return end
    local ms = tonumber(string.match(head, '^%["(%d+)%-'))
    if ms == nil or ms >= min then return end
    redis.call('LPOP', key)
  end
end
`

/*
 * KEYS: snapshot, log, timeline list, open-cases zset, snapshot counts, expiring zset, epoch
 * ARGV: 1 fp, 2 status, 3 providerStatus ('' = null), 4 terminal 1|0, 5 updatedAt ('' = null), 6 createdAt,
 *       7 createdAt ms, 8 silentIfNew 1|0, 9 observedAt, 10 via, 11 case JSON, 12 provider, 13 case id,
 *       14 log MINID, 15 timeline MINID, 16 timeline/snapshot TTL ms, 17 the epoch this process holds ('' = none yet),
 *       18 now ms, 19 gapSince ms ('' = none; a status change of a snapshot last changed before it is flagged, isGap()),
 *       20 the case deflated (packCase, raw bytes), what the timeline keeps instead of ARGV[11]
 * Returns false (unchanged or silent) or {entry id, type, gap 1|0, sequence, previous status, previous providerStatus,
 * occurredAt ('' = null)}: what the caller does not know already (it has the case it sent); an error when the stored epoch is not ARGV[17]
 * (the store lost its data, or another replica began a new epoch this one has not seen yet).
 * The rules are decide() of store.ts.
 * A terminal snapshot expires; the expiring zset holds when (Redis TIME, the clock PEXPIRE uses), so SWEEP can take
 * it off the counts. A case whose expired snapshot the sweep has not taken off yet is still counted: not counted again.
 */
const OBSERVE = TRIM_LINE + `
if ARGV[17] ~= '' and redis.call('GET', KEYS[7]) ~= ARGV[17] then return redis.error_reply('TGW_EPOCH the stored epoch changed') end
local s = redis.call('HMGET', KEYS[1], 'fp', 'seq', 'st', 'ps', 'term', 'ua', 'at')
if s[1] == ARGV[1] then return false end
local new = (s[1] == false)
if not new and ARGV[3] == '' and s[4] ~= false and s[4] ~= '' then return false end
if new and redis.call('ZSCORE', KEYS[6], ARGV[13]) == false then redis.call('HINCRBY', KEYS[5], ARGV[12], 1) end
if ARGV[4] == '1' then redis.call('ZREM', KEYS[4], ARGV[13]) else redis.call('ZADD', KEYS[4], ARGV[7], ARGV[13]) end
local function keep(seq)
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'seq', seq, 'st', ARGV[2], 'ps', ARGV[3], 'term', ARGV[4], 'ua', ARGV[5], 'at', ARGV[18])
  if ARGV[4] == '1' then
    redis.call('PEXPIRE', KEYS[1], ARGV[16])
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[6], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[16]), ARGV[13])
  else
    redis.call('PERSIST', KEYS[1])
    redis.call('ZREM', KEYS[6], ARGV[13])
  end
end
if new and ARGV[8] == '1' then keep(0) return false end
local typ
local occ = ''
if new then
  typ = 'case.created'
  occ = ARGV[6]
else
  if s[5] == '1' and ARGV[4] == '0' then typ = 'case.reopened'
  elseif s[3] ~= ARGV[2] then typ = 'case.status_changed'
  else typ = 'case.updated' end
  if ARGV[5] ~= '' and ARGV[5] ~= s[6] then occ = ARGV[5] end
end
local seq = tonumber(s[2] or '0') + 1
local pst = s[3] or ''
local pps = s[4] or ''
local gap = (not new) and ARGV[19] ~= '' and typ ~= 'case.updated' and tonumber(s[7] or '0') < tonumber(ARGV[19])
local fields = {'t', typ, 'g', gap and '1' or '0', 'q', seq, 'pn', new and '1' or '0', 'pst', pst, 'pps', pps, 'oa', occ, 'ob', ARGV[9], 'ov', ARGV[10], 'c', ARGV[11], 'ep', ARGV[17]}
local id = redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[14], '*', unpack(fields))
local line = {id, typ, seq, ARGV[18], ARGV[10], ARGV[17], gap and 1 or 0, new and 1 or 0, pst, pps, new and '' or occ}
redis.call('RPUSH', KEYS[3], cjson.encode(line) .. string.char(10) .. ARGV[20])
trimLine(KEYS[3], ARGV[15])
redis.call('PEXPIRE', KEYS[3], ARGV[16])
keep(seq)
return {id, typ, gap and '1' or '0', seq, pst, pps, occ}
`

/*
 * An event of the gateway itself: no snapshot, no compare. KEYS: once-marker, log, the case's timeline (a target event;
 * else the log again). ARGV: 1 marker TTL ms, 2 log MINID, 3 timeline MINID ('' = no timeline), 4 timeline TTL ms, 5.. the entry fields. The marker (SET NX)
 * makes a second append of the same occurrence record nothing. Returns false (recorded before) or the entry id.
 */
const APPEND = TRIM_LINE + `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[2], '*', unpack(ARGV, 5))
if ARGV[3] ~= '' then
  redis.call('RPUSH', KEYS[3], cjson.encode({id, unpack(ARGV, 5)}))
  trimLine(KEYS[3], ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
return id
`

/*
 * The snapshot counts, after taking off the terminal snapshots that expired. KEYS: expiring zset, snapshot counts.
 * ARGV: 1 snapshot key prefix (the case id follows), 2 most expired snapshots taken off per call.
 * Returns HGETALL of the counts.
 */
const SWEEP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then
    local provider = string.match(id, '^([^:]+):')
    if provider then redis.call('HINCRBY', KEYS[2], provider, -1) end
    redis.call('ZREM', KEYS[1], id)
  end
end
return redis.call('HGETALL', KEYS[2])
`
/** expired snapshots one count takes off at most (a scrape stays short; the next one goes on) */
const SWEEP_BATCH = 5000

type Fields = string[]
type Entry = [string, Fields]

/**
 * The dictionary a timeline's case is deflated against: the keys and the usual values of a canonical case, so even
 * the first case of a timeline compresses (~900 → ~250 bytes). Entries name it by their field (`z`): never edit it;
 * a better one goes under a new field name, and `z` stays readable.
 */
const CASE_DICTIONARY = Buffer.from('{"id":"","provider":"","providerCaseId":"","target":{"type":"domain","value":"https://",' +
  '"domain":"","host":"","hostUnicode":"","registrableDomain":"","publicSuffix":"com","canonicalUrl":null,"submitted":"https://"},' +
  '"status":"in_progress","terminal":false,"providerStatus":"In Progress","brand":{"id":null,"name":""},"threat":{"class":"phishing",' +
  '"name":null,"platform":null},"reportedBy":null,"createdAt":"2026-","updatedAt":null,"links":{"self":"/v1/cases/","provider":null},' +
  '"verification":{"state":"not_checked","firstSeenLiveAt":null,"lastSeenLiveAt":null,"downSince":null,"verifiedDownAt":null,' +
  '"lastCheckedAt":null,"nextCheckAt":null,"checks":0,"relatedCaseIds":[]}}')

/**
 * The dictionary of the raw-bytes entries (after the newline): a whole canonical case as the vendors' listings give it
 * (the `sla` block, a URL target, null brand and threat fields), ~10 % smaller cases than CASE_DICTIONARY at level 6.
 * Part of the stored format like the first: never edited.
 */
const RAW_CASE_DICTIONARY = Buffer.from('{"id":"","provider":"","providerCaseId":"","target":{"type":"url","value":"https://","domain":null,"host":"",' +
  '"hostUnicode":"","registrableDomain":"","publicSuffix":"com","canonicalUrl":"https://"},"status":"in_progress","terminal":false,' +
  '"providerStatus":"","brand":{"id":null,"name":null},"threat":{"class":"phishing","name":null,"platform":null},"reportedBy":null,' +
  '"createdAt":"2026-","updatedAt":null,"links":{"self":"/v1/cases/","provider":null},"verification":{"state":"not_checked",' +
  '"firstSeenLiveAt":null,"lastSeenLiveAt":null,"downSince":null,"verifiedDownAt":null,"lastCheckedAt":null,"nextCheckAt":null,"checks":0,' +
  '"relatedCaseIds":[]},"sla":null}')

/** a case as a raw-bytes timeline entry keeps it */
export const packCase = (json: string): Buffer => deflateRawSync(json, { dictionary: RAW_CASE_DICTIONARY, level: 6 })
export const unpackCase = (packed: Buffer): string => inflateRawSync(packed, { dictionary: RAW_CASE_DICTIONARY }).toString('utf8')

/**
 * a timeline list's entry: [id, field, value, ...] (numbers as the script encoded them), then, for a case event, a
 * newline and the case deflated (read back as the field `c`). Entries written before carry the case in base64 (`z`).
 */
function lineEntry (raw: Buffer): Entry {
  const nl = raw.indexOf(10)
  const [id, ...values] = JSON.parse((nl < 0 ? raw : raw.subarray(0, nl)).toString('utf8')) as Array<string | number>
  if (nl < 0) return [String(id), values.map(String)]
  const fields: Fields = []
  for (let i = 0; i < LINE_FIELDS.length; i++) fields.push(LINE_FIELDS[i] as string, String(values[i] ?? ''))
  // observedAt is kept as epoch ms (13 digits, not 24 characters of ISO 8601)
  fields[5] = new Date(Number(fields[5])).toISOString()
  fields.push('c', unpackCase(raw.subarray(nl + 1)))
  return [String(id), fields]
}

/** the fields of a case event's timeline entry, after its id, as the observe script writes them (values only; `ob` in epoch ms, `oa`
 * empty for a created event: its case's createdAt) */
const LINE_FIELDS = ['t', 'q', 'ob', 'ov', 'ep', 'g', 'pn', 'pst', 'pps', 'oa'] as const

/** the case of an entry written before the raw bytes: base64, deflated against CASE_DICTIONARY */
export const unpackBase64 = (packed: string): string => inflateRawSync(Buffer.from(packed, 'base64'), { dictionary: CASE_DICTIONARY }).toString('utf8')
/** a case as entries were written before the raw bytes (what the tests of that format write) */
export const packBase64 = (json: string): string => deflateRawSync(json, { dictionary: CASE_DICTIONARY, level: 1 }).toString('base64')

function toEvent (id: string, fields: Fields): Event {
  const f: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string
  // an appended event of the gateway itself: `d` holds its data, there is no case
  if (f.d !== undefined) {
    const input = { type: f.t, data: JSON.parse(f.d) as unknown, key: '', occurredAt: f.oa as string }
    return gatewayEventOf(input as AppendInput, id, f.ob as string)
  }
  const c = JSON.parse(f.c ?? unpackBase64(f.z as string)) as Case
  return {
    id,
    type: f.t as CaseEventType,
    // a created event's occurredAt is its case's createdAt: a compact timeline entry leaves it out
    occurredAt: f.oa === '' || f.oa === undefined ? (f.pn === '1' ? c.createdAt : null) : f.oa,
    observedAt: f.ob as string,
    observedVia: f.ov as ObservedVia,
    case: c,
    previous: f.pn === '1' ? null : { status: f.pst as UnifiedStatus, providerStatus: f.pps === '' || f.pps === undefined ? null : f.pps },
    sequence: Number(f.q),
    epoch: f.ep ?? '',
    ...(f.g === '1' ? { gap: true as const } : {})
  }
}

/** the smallest stream id at or after `ms` */
const minId = (ms: number): string => `${Math.max(0, Math.floor(ms))}-0`

/** the observe script's answer: entry id, type, gap, sequence, previous status, previous providerStatus, occurredAt */
type Recorded = [string, CaseEventType, '0' | '1', number, string, string, string]
/** fingerprints remembered at most (~1.5 MB): a case observed again after more cases than this pays the HGET again */
const STORED_MAX = 20_000

export class RedisEventStore implements EventStore {
  readonly kind = 'redis' as const
  readonly client: Redis | Cluster
  readonly #tail: Redis | Cluster
  readonly #keys: ReturnType<typeof eventKeys>
  readonly #listeners = new Set<(e: Event) => void>()
  #tailId: string | null = null
  #tailing: Promise<void> | null = null
  #closed = false
  #lastError: string | null = null
  #epoch: string | null = null
  /**
   * the observe steps of one event-loop turn (a watcher's page, 64 appends at once) leave in one socket write; the
   * feed's and timeline's reads do not wait for it
   */
  readonly #batch: TurnBatch
  /** case id → the fingerprint this process last found in (or wrote to) its snapshot, the newest STORED_MAX */
  readonly #stored = new Map<string, string>()

  readonly o: { keyPrefix: string, clock: Clock, log: Logger, retention: RetentionOptions }

  constructor (target: string | RedisTarget, opts: RedisEventStore['o']) {
    this.o = opts
    this.client = createRedisClient(target, { enableOfflineQueue: false, commandTimeout: 1000, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: t => Math.min(t * 100, 2000) })
    // the tail blocks up to 5 s per XREAD: no command timeout on it
    this.#tail = createRedisClient(target, { enableOfflineQueue: false, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: t => Math.min(t * 100, 2000) })
    this.client.on('error', (err: Error) => { this.#lastError = err.message })
    this.client.on('ready', () => { this.#lastError = null })
    this.#tail.on('error', () => {})
    this.client.defineCommand('tgwObserve', { numberOfKeys: 7, lua: OBSERVE })
    this.client.defineCommand('tgwSweep', { numberOfKeys: 2, lua: SWEEP })
    this.client.defineCommand('tgwAppend', { numberOfKeys: 3, lua: APPEND })
    this.#batch = turnBatch(this.client)
    this.#keys = eventKeys(opts.keyPrefix)
  }

  async waitReady (ms = 2000): Promise<boolean> {
    return await waitForReady(this.client, ms)
  }

  async observe ({ case: c, via, silentIfNew, gapSince }: ObserveInput): Promise<CaseEvent | null> {
    const now = this.o.clock.now()
    const k = this.#keys
    const fp = caseFingerprint(c)
    // most observe steps (a watcher's sync reads every open case) find the case unchanged: one HGET tells, so only a
    // change pays for the case's serialisation, its deflate and the script (which compares again, atomically). A case
    // this process last found stored under another fingerprint has changed (or another replica recorded it, and the
    // script answers unchanged): the HGET is skipped then.
    const known = this.#stored.get(c.id)
    if (known === undefined || known === fp) {
      if (await this.#batch.send<string | null>('hget', k.snapshot(c.id), 'fp') === fp) {
        if (known === undefined) this.#remember(c.id, fp)
        return null
      }
    }
    const json = JSON.stringify(c)
    const observedAt = new Date(now).toISOString()
    const epoch = this.#epoch ?? ''
    const args = [
      k.snapshot(c.id), k.log, k.line(c.id), k.open, k.counts, k.expiring, k.epoch,
      fp, c.status, c.providerStatus ?? '', c.terminal ? '1' : '0', c.updatedAt ?? '', c.createdAt,
      Date.parse(c.createdAt), silentIfNew ? '1' : '0', observedAt, via, json, c.provider, c.id,
      minId(now - this.o.retention.retentionMs), minId(now - this.o.retention.timelineRetentionMs), this.o.retention.timelineRetentionMs,
      epoch, now, gapSince ?? '', packCase(json)
    ]
    const r = await this.#batch.send<Recorded | null>('tgwObserve', ...args)
    // the snapshot now holds fp (recorded, silent, or found equal; a read without the vendor status keeps the old one,
    // and then the next observe step pays the HGET it would have paid anyway)
    this.#remember(c.id, fp)
    if (r === null) return null
    // the event is built from the case in hand: the reply carries only what the script decided (no case to parse back)
    const [id, type, gap, sequence, pst, pps, occ] = r
    return {
      id,
      type,
      occurredAt: occ === '' ? null : occ,
      observedAt,
      observedVia: via,
      case: c,
      previous: type === 'case.created' ? null : { status: pst as UnifiedStatus, providerStatus: pps === '' ? null : pps },
      sequence: Number(sequence),
      epoch,
      ...(gap === '1' ? { gap: true as const } : {})
    } as CaseEvent
  }

  #remember (caseId: string, fp: string): void {
    this.#stored.delete(caseId)
    this.#stored.set(caseId, fp)
    if (this.#stored.size > STORED_MAX) this.#stored.delete(this.#stored.keys().next().value as string)
  }

  async append (input: AppendInput): Promise<GatewayEvent | null> {
    const now = this.o.clock.now()
    const observedAt = new Date(now).toISOString()
    const append = (this.client as unknown as { tgwAppend: (...args: Array<string | number>) => Promise<string | null> }).tgwAppend
    const about = caseOfTargetEvent(input)
    const id = await append.call(this.client, this.#keys.once(input.key), this.#keys.log, about === null ? this.#keys.log : this.#keys.line(about.caseId),
      this.o.retention.retentionMs, minId(now - this.o.retention.retentionMs), about === null ? '' : minId(now - this.o.retention.timelineRetentionMs),
      this.o.retention.timelineRetentionMs,
      't', input.type, 'oa', input.occurredAt, 'ob', observedAt, 'ov', 'gateway', 'd', JSON.stringify(input.data))
    return id === null ? null : gatewayEventOf(input, id, observedAt)
  }

  async #range (key: string, after: string | null, limit: number, filter: EventFilter, scanLimit: number): Promise<EventRead> {
    const items: Event[] = []
    let next = after
    let scanned = 0
    while (items.length < limit && scanned < scanLimit) {
      const count = Math.min(500, Math.max(limit - items.length, 50))
      const entries = await this.client.xrange(key, next === null ? '-' : `(${next}`, '+', 'COUNT', count) as Entry[]
      for (const [id, fields] of entries) {
        scanned++
        next = id
        const e = toEvent(id, fields)
        if (matchesFilter(e, filter)) items.push(e)
        if (items.length >= limit || scanned >= scanLimit) break
      }
      if (entries.length < count) break
    }
    return { items, next }
  }

  /** a case's timeline: the entries of a stream written before the list (ADR 0049), then the list's, after `after` */
  async #timelineRange (caseId: string, after: string | null, limit: number, filter: EventFilter, scanLimit: number): Promise<EventRead> {
    const [old, line] = await Promise.all([
      this.client.xrange(this.#keys.timeline(caseId), after === null ? '-' : `(${after}`, '+', 'COUNT', scanLimit) as Promise<Entry[]>,
      this.client.lrangeBuffer(this.#keys.line(caseId), 0, -1)
    ])
    const items: Event[] = []
    let next = after
    let scanned = 0
    const entries = [...old, ...line.map(lineEntry).filter(([id]) => after === null || compareIds(id, after) > 0)]
    for (const [id, fields] of entries) {
      if (items.length >= limit || scanned >= scanLimit) break
      scanned++
      next = id
      const e = toEvent(id, fields)
      if (matchesFilter(e, filter)) items.push(e)
    }
    return { items, next }
  }

  async read (after: string | null, limit: number, filter: EventFilter, scanLimit = Math.max(1000, limit * 20)): Promise<EventRead> {
    return filter.caseId === undefined
      ? await this.#range(this.#keys.log, after, limit, filter, scanLimit)
      : await this.#timelineRange(filter.caseId, after, limit, filter, scanLimit)
  }

  async oldestId (): Promise<string | null> {
    const [first] = await this.client.xrange(this.#keys.log, '-', '+', 'COUNT', 1) as Entry[]
    return first?.[0] ?? null
  }

  async newestId (caseId?: string): Promise<string | null> {
    if (caseId === undefined) return await this.#newestOf(this.#keys.log)
    const [line, old] = await Promise.all([this.client.lindexBuffer(this.#keys.line(caseId), -1), this.#newestOf(this.#keys.timeline(caseId))])
    return line === null ? old : lineEntry(line)[0]
  }

  async #newestOf (stream: string): Promise<string | null> {
    const [last] = await this.client.xrevrange(stream, '+', '-', 'COUNT', 1) as Entry[]
    return last?.[0] ?? null
  }

  async timeline (caseId: string, after: string | null, limit: number): Promise<EventRead<TimelineEvent>> {
    // a timeline holds the case's events and the target events about it
    return await this.#timelineRange(caseId, after, limit, {}, limit) as EventRead<TimelineEvent>
  }

  async subscribe (listener: (event: Event) => void): Promise<() => void> {
    if (this.#tailId === null) {
      const [last] = await this.client.xrevrange(this.#keys.log, '+', '-', 'COUNT', 1) as Entry[]
      this.#tailId ??= last?.[0] ?? '0-0'
    }
    this.#listeners.add(listener)
    this.#tailing ??= this.#tailLoop()
    return () => { this.#listeners.delete(listener) }
  }

  async #tailLoop (): Promise<void> {
    while (!this.#closed) {
      try {
        const res = await this.#tail.xread('COUNT', 500, 'BLOCK', 5000, 'STREAMS', this.#keys.log, this.#tailId ?? '$') as Array<[string, Entry[]]> | null
        for (const [, entries] of res ?? []) {
          for (const [id, fields] of entries) {
            this.#tailId = id
            const event = toEvent(id, fields)
            for (const listener of this.#listeners) listener(event)
          }
        }
      } catch (err) {
        if (this.#closed) return
        this.o.log.debug({ err: (err as Error).message }, 'event tail read failed; retrying')
        await new Promise(resolve => setTimeout(resolve, 500))
      }
    }
  }

  async openCasesCreatedBefore (beforeMs: number, offset: number, limit: number): Promise<string[]> {
    return await this.client.zrangebyscore(this.#keys.open, '-inf', `(${beforeMs}`, 'LIMIT', offset, limit)
  }

  async getCheckpoint (provider: string): Promise<Checkpoint | null> {
    const raw = await this.client.hget(this.#keys.checkpoints, provider)
    return raw === null ? null : JSON.parse(raw) as Checkpoint
  }

  async setCheckpoint (provider: string, checkpoint: Checkpoint): Promise<void> {
    await this.client.hset(this.#keys.checkpoints, provider, JSON.stringify(checkpoint))
  }

  /** snapshots held per provider: the terminal ones that expired since the last call are taken off first */
  async snapshotCounts (): Promise<Record<string, number>> {
    const k = this.#keys
    const flat = await (this.client as unknown as { tgwSweep: (...args: Array<string | number>) => Promise<string[]> })
      .tgwSweep(k.expiring, k.counts, k.snapshot(''), SWEEP_BATCH)
    const counts: Record<string, number> = {}
    for (let i = 0; i + 1 < flat.length; i += 2) counts[flat[i] as string] = Number(flat[i + 1])
    return counts
  }

  async readEpoch (): Promise<string | null> {
    return await this.client.get(this.#keys.epoch)
  }

  async writeEpoch (epoch: string): Promise<void> {
    // kept for good (no expiry): its absence is how a store that lost its data is told from one that kept it
    await this.client.set(this.#keys.epoch, epoch)
    this.#epoch = epoch
  }

  async health (): Promise<string | null> {
    if (this.client.status !== 'ready') return `event store redis ${this.client.status}${this.#lastError === null ? '' : `: ${this.#lastError}`}`
    return null
  }

  /** Redis's eviction policy: anything but noeviction may drop events and snapshots under memory pressure. */
  async maxmemoryPolicy (): Promise<string | null> {
    try {
      const res = await this.client.call('CONFIG', 'GET', 'maxmemory-policy') as string[]
      return res[1] ?? null
    } catch {
      return null
    }
  }

  async close (abandoned?: Abandoned): Promise<void> {
    this.#closed = true
    this.#listeners.clear()
    this.#tail.disconnect()
    if (!(await closeRedisClient(this.client))) abandoned?.('event store: Redis did not answer QUIT; the connection was dropped with its pending commands')
    if (this.#tailing !== null && !(await settleWithin(this.#tailing))) abandoned?.('event store: the tail read of the event log')
  }
}
