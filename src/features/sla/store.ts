/**
 * Where service levels live, shared by replicas: per case one record (its facts, milestones set once, the steps done,
 * the cases a failover linked), a sorted set of cases by creation time (the compliance report's window) and the
 * timers: a sorted set of (case, action) by due time, with a lease set beside it so exactly one replica acts on each
 * due time and another takes it over when that replica dies. Redis keeps them under one `{sla}` hash tag (one Cluster
 * slot, one script for the claim); the in-process adapter runs the same rules for one replica.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../clock.js'
import type { KvStore } from '../../store/kv-store.js'
import { turnBatch, type TurnBatch } from '../../store/turn-batch.js'
import { ACTION_KINDS, type ActionKind, type SlaFacts } from './evaluate.js'

export interface SlaRecord {
  facts: SlaFacts
  /** the steps recorded (and acted on) already */
  done: ActionKind[]
  /** case id → provider, of the cases a failover linked to this one (the new case, or the original) */
  related: Record<string, string>
}

export interface DueTimer { caseId: string, kind: ActionKind, at: number }

export type MilestonePatch = Partial<Pick<SlaFacts, 'status' | 'terminal' | 'firstActionAt' | 'downAt'>>

export interface SlaStore {
  /** the case's record, created when absent: the record as created (what a reschedule needs), null when it existed */
  track: (facts: SlaFacts) => Promise<SlaRecord | null>
  /**
   * status and terminal replace; firstActionAt and downAt are kept once set (the first wins). Returns the record as it
   * is after the patch (what a reschedule needs, without reading it again), null for an untracked case (nothing written)
   */
  update: (caseId: string, patch: MilestonePatch) => Promise<SlaRecord | null>
  get: (caseId: string) => Promise<SlaRecord | null>
  getMany: (caseIds: readonly string[]) => Promise<Array<SlaRecord | null>>
  /** case ids created in [since, until), oldest first, at most `limit` */
  createdBetween: (since: number, until: number, limit: number) => Promise<string[]>
  /** records a step as done and drops its timer */
  finish: (caseId: string, kind: ActionKind) => Promise<void>
  link: (caseId: string, relatedId: string, provider: string) => Promise<void>
  /**
   * the case's timers become exactly these (a step done is never scheduled again); `done`, when the caller has just
   * read the record, saves reading it again
   */
  schedule: (caseId: string, timers: ReadonlyArray<{ kind: ActionKind, at: number }>, done?: readonly ActionKind[]) => Promise<void>
  /** timers due at `now`, earliest first (leased ones included: their claim fails) */
  due: (now: number, limit: number) => Promise<DueTimer[]>
  /** takes a due timer for `leaseMs`: true for one caller; after the lease runs out another may take it */
  claim: (t: DueTimer, now: number, leaseMs: number) => Promise<boolean>
  /** moves a lease held now out to `until` (the replica acting on the step is alive); nothing when the lease is gone */
  renew: (t: DueTimer, until: number) => Promise<void>
  /** how many timers are set */
  size: () => Promise<number>
}

const SEP = '\u001f'
const member = (caseId: string, kind: ActionKind): string => `${caseId}${SEP}${kind}`
function unmember (m: string, score: string | number): DueTimer | null {
  const i = m.lastIndexOf(SEP)
  const kind = m.slice(i + 1) as ActionKind
  return i < 0 || !ACTION_KINDS.includes(kind) ? null : { caseId: m.slice(0, i), kind, at: Number(score) }
}

export class MemorySlaStore implements SlaStore {
  readonly #records = new Map<string, SlaRecord>()
  readonly #due = new Map<string, number>()
  readonly #leases = new Map<string, number>()

  async track (facts: SlaFacts): Promise<SlaRecord | null> {
    if (this.#records.has(facts.caseId)) return null
    const r: SlaRecord = { facts: { ...facts }, done: [], related: {} }
    this.#records.set(facts.caseId, r)
    return structuredClone(r)
  }

  async update (caseId: string, patch: MilestonePatch): Promise<SlaRecord | null> {
    const r = this.#records.get(caseId)
    if (r === undefined) return null
    if (patch.status !== undefined) r.facts.status = patch.status
    if (patch.terminal !== undefined) r.facts.terminal = patch.terminal
    if (patch.firstActionAt !== undefined) r.facts.firstActionAt ??= patch.firstActionAt
    if (patch.downAt !== undefined) r.facts.downAt ??= patch.downAt
    return structuredClone(r)
  }

  async get (caseId: string): Promise<SlaRecord | null> {
    return this.#read(caseId)
  }

  /** one loop, not a promise per case: a listing page asks for 50 */
  async getMany (caseIds: readonly string[]): Promise<Array<SlaRecord | null>> {
    return caseIds.map(id => this.#read(id))
  }

  #read (caseId: string): SlaRecord | null {
    const r = this.#records.get(caseId)
    return r === undefined ? null : structuredClone(r)
  }

  async createdBetween (since: number, until: number, limit: number): Promise<string[]> {
    return [...this.#records.values()].filter(r => r.facts.createdAt >= since && r.facts.createdAt < until)
      .sort((a, b) => a.facts.createdAt - b.facts.createdAt).slice(0, limit).map(r => r.facts.caseId)
  }

  async finish (caseId: string, kind: ActionKind): Promise<void> {
    const r = this.#records.get(caseId)
    if (r !== undefined && !r.done.includes(kind)) r.done.push(kind)
    this.#due.delete(member(caseId, kind))
    this.#leases.delete(member(caseId, kind))
  }

  async link (caseId: string, relatedId: string, provider: string): Promise<void> {
    const r = this.#records.get(caseId)
    if (r !== undefined) r.related[relatedId] = provider
  }

  async schedule (caseId: string, timers: ReadonlyArray<{ kind: ActionKind, at: number }>): Promise<void> {
    const done = this.#records.get(caseId)?.done ?? []
    for (const kind of ACTION_KINDS) this.#due.delete(member(caseId, kind))
    for (const t of timers) if (!done.includes(t.kind)) this.#due.set(member(caseId, t.kind), t.at)
  }

  async due (now: number, limit: number): Promise<DueTimer[]> {
    return [...this.#due.entries()].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]).slice(0, limit)
      .map(([m, at]) => unmember(m, at)).filter((t): t is DueTimer => t !== null)
  }

  async claim (t: DueTimer, now: number, leaseMs: number): Promise<boolean> {
    const m = member(t.caseId, t.kind)
    const at = this.#due.get(m)
    if (at === undefined || at > now || (this.#leases.get(m) ?? 0) > now) return false
    this.#leases.set(m, now + leaseMs)
    return true
  }

  async renew (t: DueTimer, until: number): Promise<void> {
    const m = member(t.caseId, t.kind)
    const lease = this.#leases.get(m)
    if (lease !== undefined && lease < until) this.#leases.set(m, until)
  }

  async size (): Promise<number> { return this.#due.size }
}

const PREFIX = 'tgw:v1:sla:{sla}:'
const K = {
  record: (caseId: string): string => `${PREFIX}c:${caseId}`,
  created: `${PREFIX}created`,
  due: `${PREFIX}due`,
  leases: `${PREFIX}leases`
}

/* KEYS: due, leases. ARGV: member, now, lease until. Due and not leased (or the lease ran out) → lease it. */
const CLAIM = `
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not at or tonumber(at) > tonumber(ARGV[2]) then return 0 end
local lease = redis.call('ZSCORE', KEYS[2], ARGV[1])
if lease and tonumber(lease) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`

/*
 * KEYS: the record. ARGV: status ('' = unchanged), terminal 1|0 ('' = unchanged), firstActionAt, downAt ('' = none; each
 * set only when absent). An untracked case (no `f`) gets nothing written: false. Else HGETALL of the record after it.
 */
const UPDATE = `
if redis.call('HEXISTS', KEYS[1], 'f') == 0 then return false end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'st', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'tm', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], 'fa', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSETNX', KEYS[1], 'dn', ARGV[4]) end
return redis.call('HGETALL', KEYS[1])
`

/*
 * KEYS: the record, created. ARGV: 1 facts JSON, 2 status, 3 terminal 1|0, 4 TTL ms, 5 createdAt, 6 case id, 7 the
 * oldest createdAt kept, 8 firstActionAt, 9 downAt ('' = none; set with HSETNX). A record that exists is left as it
 * is: false. Else HGETALL of the record made.
 */
const TRACK = `
if redis.call('HSETNX', KEYS[1], 'f', ARGV[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'tm', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])
if ARGV[8] ~= '' then redis.call('HSETNX', KEYS[1], 'fa', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSETNX', KEYS[1], 'dn', ARGV[9]) end
return redis.call('HGETALL', KEYS[1])
`

/* KEYS: due. ARGV: 1 how many members follow to remove, those members, then score, member pairs to add. */
const SCHEDULE = `
local n = tonumber(ARGV[1])
if n > 0 then redis.call('ZREM', KEYS[1], unpack(ARGV, 2, n + 1)) end
for i = n + 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`

/** how long a record is kept after its case was created (the compliance report reaches back at most this far) */
export const RECORD_TTL_MS = 400 * 86_400_000

export class RedisSlaStore implements SlaStore {
  readonly #client: Redis | Cluster
  readonly #clock: Clock
  readonly #batch: TurnBatch
  constructor (client: Redis | Cluster, clock: Clock) {
    this.#client = client
    this.#clock = clock
    if (!('tgwSlaClaim' in client)) client.defineCommand('tgwSlaClaim', { numberOfKeys: 2, lua: CLAIM })
    if (!('tgwSlaUpdate' in client)) client.defineCommand('tgwSlaUpdate', { numberOfKeys: 1, lua: UPDATE })
    if (!('tgwSlaTrack' in client)) client.defineCommand('tgwSlaTrack', { numberOfKeys: 2, lua: TRACK })
    if (!('tgwSlaSchedule' in client)) client.defineCommand('tgwSlaSchedule', { numberOfKeys: 1, lua: SCHEDULE })
    this.#batch = turnBatch(client)
  }

  // track, update and schedule run for each recorded event: sent with the other writes of the turn (TurnBatch)

  async track (f: SlaFacts): Promise<SlaRecord | null> {
    const now = this.#clock.now()
    // one script, one round trip: the record made (the milestones with HSETNX), the creation index, the record answered
    return this.#decodeFlat(await this.#batch.send<string[] | null>('tgwSlaTrack', K.record(f.caseId), K.created, JSON.stringify(f), f.status,
      f.terminal ? '1' : '0', Math.max(60_000, f.createdAt + RECORD_TTL_MS - now), f.createdAt, f.caseId, now - RECORD_TTL_MS,
      f.firstActionAt === null ? '' : f.firstActionAt, f.downAt === null ? '' : f.downAt))
  }

  async update (caseId: string, patch: MilestonePatch): Promise<SlaRecord | null> {
    // one script, one round trip: the existence check, the patch and the record after it
    return this.#decodeFlat(await this.#batch.send<string[] | null>('tgwSlaUpdate', K.record(caseId), patch.status ?? '',
      patch.terminal === undefined ? '' : patch.terminal ? '1' : '0',
      patch.firstActionAt == null ? '' : String(patch.firstActionAt), patch.downAt == null ? '' : String(patch.downAt)))
  }

  /** a script's HGETALL answer (field, value, ...), or null (false from the script) */
  #decodeFlat (flat: string[] | null): SlaRecord | null {
    if (flat === null) return null
    const h: Record<string, string> = {}
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string
    return this.#decode(h)
  }

  #decode (h: Record<string, string>): SlaRecord | null {
    if (h.f === undefined) return null
    const facts = JSON.parse(h.f) as SlaFacts
    facts.status = h.st ?? facts.status
    facts.terminal = h.tm === undefined ? facts.terminal : h.tm === '1'
    facts.firstActionAt = h.fa === undefined ? null : Number(h.fa)
    facts.downAt = h.dn === undefined ? null : Number(h.dn)
    const done: ActionKind[] = []
    const related: Record<string, string> = {}
    for (const [field, value] of Object.entries(h)) {
      if (field.startsWith('d:')) done.push(field.slice(2) as ActionKind)
      if (field.startsWith('r:')) related[field.slice(2)] = value
    }
    return { facts, done, related }
  }

  async get (caseId: string): Promise<SlaRecord | null> {
    return this.#decode(await this.#client.hgetall(K.record(caseId)))
  }

  async getMany (caseIds: readonly string[]): Promise<Array<SlaRecord | null>> {
    if (caseIds.length === 0) return []
    const p = this.#client.pipeline()
    for (const id of caseIds) p.hgetall(K.record(id))
    const answers = await p.exec() ?? []
    return answers.map(([err, h]) => err === null ? this.#decode(h as Record<string, string>) : null)
  }

  async createdBetween (since: number, until: number, limit: number): Promise<string[]> {
    return await this.#client.zrangebyscore(K.created, since, `(${until}`, 'LIMIT', 0, limit)
  }

  async finish (caseId: string, kind: ActionKind): Promise<void> {
    const m = member(caseId, kind)
    await this.#client.multi().hset(K.record(caseId), `d:${kind}`, String(this.#clock.now())).zrem(K.due, m).zrem(K.leases, m).exec()
  }

  async link (caseId: string, relatedId: string, provider: string): Promise<void> {
    await this.#client.hset(K.record(caseId), `r:${relatedId}`, provider)
  }

  async schedule (caseId: string, timers: ReadonlyArray<{ kind: ActionKind, at: number }>, done0?: readonly ActionKind[]): Promise<void> {
    const done = new Set(done0 ?? (await this.get(caseId))?.done ?? [])
    // one script (atomic, as the transaction it replaces): every timer of the case off, then the new ones on
    const args: Array<string | number> = [ACTION_KINDS.length, ...ACTION_KINDS.map(k => member(caseId, k))]
    for (const t of timers) if (!done.has(t.kind)) args.push(t.at, member(caseId, t.kind))
    await this.#batch.send('tgwSlaSchedule', K.due, ...args)
  }

  async due (now: number, limit: number): Promise<DueTimer[]> {
    const flat = await this.#client.zrangebyscore(K.due, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
    const out: DueTimer[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const t = unmember(flat[i] as string, flat[i + 1] as string)
      if (t !== null) out.push(t)
    }
    return out
  }

  async claim (t: DueTimer, now: number, leaseMs: number): Promise<boolean> {
    const claim = (this.#client as unknown as { tgwSlaClaim: (...a: Array<string | number>) => Promise<number> }).tgwSlaClaim
    return await claim.call(this.#client, K.due, K.leases, member(t.caseId, t.kind), now, now + leaseMs) === 1
  }

  async renew (t: DueTimer, until: number): Promise<void> {
    await this.#client.zadd(K.leases, 'XX', 'GT', until, member(t.caseId, t.kind))
  }

  async size (): Promise<number> { return await this.#client.zcard(K.due) }
}

export function openSlaStore (store: KvStore, clock: Clock): SlaStore {
  return store.kind === 'redis' && store.client !== undefined ? new RedisSlaStore(store.client, clock) : new MemorySlaStore()
}
