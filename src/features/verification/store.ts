/**
 * Where verification lives, shared by replicas: per case one JSON record (written with compare-and-set), a sorted set
 * of cases by next check time, each case's probe history (newest first, capped), the cases owing a re-emergence policy
 * and expiring claims. Redis keeps them under one `{vf}` hash tag (a Cluster slot), so the compare-and-set, the due and
 * pending sets and the case's outcome row (the analytics' 32 bytes, outcome-row.ts; ADR 0045) move in one script.
 * What is kept is bounded (ADR 0042): a check is stored packed (check-pack.ts), the history keeps the newest
 * `historyLimit` checks, and once a case's verification has ended (phase `done`: stayed_down, unprobeable, or the
 * vendor closed the case) its record and history expire `retentionMs` later; the outcome row stays for the analytics.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../clock.js'
import type { KvStore } from '../../store/kv-store.js'
import { SlottedRows } from '../../store/slotted-rows.js'
import { packCheck, unpackCheck, type Check } from './check-pack.js'
import type { Verification } from './lifecycle.js'
import { encodeOutcome, OUTCOME_ROW_BYTES, outcomeShard } from './outcome-row.js'

export type { Check } from './check-pack.js'

/** defaults of VERIFY_HISTORY_LIMIT and VERIFY_RETENTION_DAYS */
export const HISTORY_LIMIT = 50
export const RETENTION_MS = 90 * 86_400_000

export interface RetentionOptions {
  /** checks kept per case, newest first */
  historyLimit?: number
  /** how long a case's record and history stay once its verification ended */
  retentionMs?: number
}

/** a case whose verification ended: nothing more is probed, so what is kept of it can expire */
export const ended = (v: Verification): boolean => v.phase === 'done'

export interface VerificationStore {
  get: (caseId: string) => Promise<Verification | null>
  getMany: (caseIds: readonly string[]) => Promise<Array<Verification | null>>
  /** writes `next` when the stored record still equals `expected` (null: none stored); false when another won */
  put: (expected: Verification | null, next: Verification) => Promise<boolean>
  /** case ids whose next check is due at `now`, earliest first */
  due: (now: number, limit: number) => Promise<string[]>
  /** takes a case's probe for `ms` (true when this caller has it) */
  claim: (caseId: string, ms: number) => Promise<boolean>
  /** case ids owing a re-emergence policy (`pendingReappear`), oldest first */
  pending: (limit: number) => Promise<string[]>
  addCheck: (check: Check) => Promise<void>
  /** newest first */
  checks: (caseId: string, offset: number, limit: number) => Promise<{ items: Check[], total: number }>
  /** the case has an outcome row in `shard` and no record: its verification ended and its retention passed */
  retired: (caseId: string, shard: string) => Promise<boolean>
  /** the shards holding outcome rows (`<provider>:<YYYY-MM>`) */
  outcomeShards: () => Promise<string[]>
  /** per named shard (same order), its outcome rows concatenated (OUTCOME_ROW_BYTES each, in no order; empty when unknown) */
  outcomeRows: (shards: readonly string[]) => Promise<Buffer[]>
}

export class MemoryVerificationStore implements VerificationStore {
  readonly #records = new Map<string, string>()
  readonly #history = new Map<string, string[]>()
  readonly #claims = new Map<string, number>()
  readonly #outcomes = new SlottedRows(OUTCOME_ROW_BYTES)
  /** case id → when its record and history go (ended cases) */
  readonly #expires = new Map<string, number>()
  readonly #limit: number
  readonly #retentionMs: number
  constructor (private readonly now: () => number, o: RetentionOptions = {}) {
    this.#limit = o.historyLimit ?? HISTORY_LIMIT
    this.#retentionMs = o.retentionMs ?? RETENTION_MS
  }

  #expire (caseId: string): void {
    const at = this.#expires.get(caseId)
    if (at === undefined || at > this.now()) return
    this.#records.delete(caseId)
    this.#history.delete(caseId)
    this.#expires.delete(caseId)
  }

  async get (caseId: string): Promise<Verification | null> {
    return this.#read(caseId)
  }

  /** one loop, not a promise per case: a listing page asks for 50 */
  async getMany (caseIds: readonly string[]): Promise<Array<Verification | null>> {
    return caseIds.map(id => this.#read(id))
  }

  #read (caseId: string): Verification | null {
    this.#expire(caseId)
    const raw = this.#records.get(caseId)
    return raw === undefined ? null : JSON.parse(raw) as Verification
  }

  async put (expected: Verification | null, next: Verification): Promise<boolean> {
    this.#expire(next.caseId)
    const stored = this.#records.get(next.caseId) ?? null
    if (stored !== (expected === null ? null : JSON.stringify(expected))) return false
    this.#records.set(next.caseId, JSON.stringify(next))
    if (!ended(next)) this.#expires.delete(next.caseId)
    else if (!this.#expires.has(next.caseId)) this.#expires.set(next.caseId, this.now() + this.#retentionMs)
    const name = outcomeShard(next)
    if (name !== null) this.#outcomes.put(name, next.caseId, encodeOutcome(next))
    return true
  }

  async retired (caseId: string, shard: string): Promise<boolean> {
    return await this.get(caseId) === null && this.#outcomes.has(shard, caseId)
  }

  async outcomeShards (): Promise<string[]> { return this.#outcomes.shards() }

  async outcomeRows (shards: readonly string[]): Promise<Buffer[]> { return shards.map(name => Buffer.from(this.#outcomes.rows(name))) }

  async due (now: number, limit: number): Promise<string[]> {
    return [...this.#records.values()].map(r => JSON.parse(r) as Verification)
      .filter(v => v.nextCheckAt !== null && v.nextCheckAt <= now)
      .sort((a, b) => (a.nextCheckAt ?? 0) - (b.nextCheckAt ?? 0)).slice(0, limit).map(v => v.caseId)
  }

  async claim (caseId: string, ms: number): Promise<boolean> {
    if ((this.#claims.get(caseId) ?? 0) > this.now()) return false
    this.#claims.set(caseId, this.now() + ms)
    return true
  }

  async pending (limit: number): Promise<string[]> {
    return [...this.#records.values()].map(r => JSON.parse(r) as Verification)
      .filter(v => (v.pendingReappear ?? null) !== null).slice(0, limit).map(v => v.caseId)
  }

  async addCheck (check: Check): Promise<void> {
    this.#expire(check.caseId)
    const list = this.#history.get(check.caseId) ?? []
    list.unshift(packCheck(check))
    this.#history.set(check.caseId, list.slice(0, this.#limit))
  }

  async checks (caseId: string, offset: number, limit: number): Promise<{ items: Check[], total: number }> {
    this.#expire(caseId)
    const list = this.#history.get(caseId) ?? []
    return { items: list.slice(offset, offset + limit).map(raw => unpackCheck(caseId, raw)), total: list.length }
  }
}

const K = {
  record: (id: string) => `tgw:v1:verify:{vf}:case:${id}`,
  due: 'tgw:v1:verify:{vf}:due',
  claim: (id: string) => `tgw:v1:verify:{vf}:claim:${id}`,
  /** case ids owing a re-emergence policy, by when they first owed it */
  pending: 'tgw:v1:verify:{vf}:pending',
  history: (id: string) => `tgw:v1:verify:{vf}:checks:${id}`,
  /** per outcome shard: case id → slot, and the rows at slot × OUTCOME_ROW_BYTES (as the milestone rows, ADR 0020) */
  outcomeSlots: (shard: string) => `tgw:v1:verify:{vf}:outcome-slots:${shard}`,
  outcomeRows: (shard: string) => `tgw:v1:verify:{vf}:outcome-rows:${shard}`,
  outcomeShards: 'tgw:v1:verify:{vf}:outcome-shards'
}

// KEYS: record, due, outcome slots, outcome rows, outcome shards, pending, history. ARGV: expected ('' = none), next,
// case id, next check time ('' = none), outcome shard ('' = none), outcome row, pending since ('' = nothing owed),
// retention ms ('' = the case is not ended: record and history kept). An ended case keeps the expiry it got when it
// ended (a later write, a link or an on-demand probe, does not push it back); one that starts again loses it.
const PUT = `local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[8] == '' then
  redis.call('PERSIST', KEYS[7])
else
  if ttl < 0 then ttl = tonumber(ARGV[8]) end
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[7], ttl)
end
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[3]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3]) end
if ARGV[7] == '' then redis.call('ZREM', KEYS[6], ARGV[3]) else redis.call('ZADD', KEYS[6], 'NX', ARGV[7], ARGV[3]) end
if ARGV[5] ~= '' then
  local slot = redis.call('HGET', KEYS[3], ARGV[3])
  if not slot then
    slot = redis.call('HLEN', KEYS[3])
    redis.call('HSET', KEYS[3], ARGV[3], slot)
    redis.call('SADD', KEYS[5], ARGV[5])
  end
  redis.call('SETRANGE', KEYS[4], tonumber(slot) * ${OUTCOME_ROW_BYTES}, ARGV[6])
end
return 1`

// KEYS: history, record. ARGV: packed check, checks kept. A check of an ended case expires with its record.
const ADD_CHECK = `redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`

export class RedisVerificationStore implements VerificationStore {
  readonly #client: Redis | Cluster
  readonly #limit: number
  readonly #retentionMs: number
  constructor (client: Redis | Cluster, o: RetentionOptions = {}) {
    this.#client = client
    this.#limit = o.historyLimit ?? HISTORY_LIMIT
    this.#retentionMs = o.retentionMs ?? RETENTION_MS
    client.defineCommand('verifyPut', { numberOfKeys: 7, lua: PUT })
    client.defineCommand('verifyAddCheck', { numberOfKeys: 2, lua: ADD_CHECK })
  }

  async get (caseId: string): Promise<Verification | null> {
    const raw = await this.#client.get(K.record(caseId))
    return raw === null ? null : JSON.parse(raw) as Verification
  }

  async getMany (caseIds: readonly string[]): Promise<Array<Verification | null>> {
    if (caseIds.length === 0) return []
    const raws = await this.#client.mget(caseIds.map(K.record))
    return raws.map(r => r === null ? null : JSON.parse(r) as Verification)
  }

  async put (expected: Verification | null, next: Verification): Promise<boolean> {
    const put = (this.#client as unknown as { verifyPut: (...a: Array<string | Buffer>) => Promise<number> }).verifyPut
    const shard = outcomeShard(next) ?? ''
    const done = await put.call(this.#client, K.record(next.caseId), K.due, K.outcomeSlots(shard), K.outcomeRows(shard), K.outcomeShards, K.pending, K.history(next.caseId),
      expected === null ? '' : JSON.stringify(expected), JSON.stringify(next), next.caseId, next.nextCheckAt === null ? '' : String(next.nextCheckAt),
      shard, shard === '' ? '' : encodeOutcome(next), (next.pendingReappear ?? null) === null ? '' : String(next.lastCheckedAt ?? 0),
      ended(next) ? String(this.#retentionMs) : '')
    return done === 1
  }

  async due (now: number, limit: number): Promise<string[]> {
    return await this.#client.zrangebyscore(K.due, '-inf', now, 'LIMIT', 0, limit)
  }

  async claim (caseId: string, ms: number): Promise<boolean> {
    return (await this.#client.set(K.claim(caseId), '1', 'PX', Math.max(1, Math.round(ms)), 'NX')) === 'OK'
  }

  async pending (limit: number): Promise<string[]> {
    return await this.#client.zrange(K.pending, '0', String(limit - 1))
  }

  async addCheck (check: Check): Promise<void> {
    const add = (this.#client as unknown as { verifyAddCheck: (...a: string[]) => Promise<number> }).verifyAddCheck
    await add.call(this.#client, K.history(check.caseId), K.record(check.caseId), packCheck(check), String(this.#limit))
  }

  async checks (caseId: string, offset: number, limit: number): Promise<{ items: Check[], total: number }> {
    const [items, total] = await Promise.all([
      this.#client.lrange(K.history(caseId), offset, offset + limit - 1),
      this.#client.llen(K.history(caseId))
    ])
    return { items: items.map(raw => unpackCheck(caseId, raw)), total }
  }

  async retired (caseId: string, shard: string): Promise<boolean> {
    const [record, row] = await Promise.all([this.#client.exists(K.record(caseId)), this.#client.hexists(K.outcomeSlots(shard), caseId)])
    return record === 0 && row === 1
  }

  async outcomeShards (): Promise<string[]> {
    return await this.#client.smembers(K.outcomeShards)
  }

  async outcomeRows (shards: readonly string[]): Promise<Buffer[]> {
    const all = await Promise.all(shards.map(async s => await this.#client.getBuffer(K.outcomeRows(s))))
    return all.map(b => b ?? Buffer.alloc(0))
  }
}

/** Redis when the gateway has one (replicas share it), else memory */
export function openVerificationStore (kv: KvStore, clock: Clock, o: RetentionOptions = {}): VerificationStore {
  return kv.kind === 'redis' && kv.client !== undefined ? new RedisVerificationStore(kv.client, o) : new MemoryVerificationStore(() => clock.now(), o)
}
