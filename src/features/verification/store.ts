/**
 * Where verification lives, shared by replicas: per case one JSON record (written with compare-and-set), a sorted set
 * of cases by next check time, each case's probe history (newest first, capped), the cases owing a re-emergence policy
 * and expiring claims. Redis keeps them under one `{vf}` hash tag (a Cluster slot), so the compare-and-set, the due and
 * pending sets and the case's outcome row (the analytics' 32 bytes, outcome-row.ts; ADR 0045) move in one script.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../clock.js'
import type { KvStore } from '../../store/kv-store.js'
import type { Verification } from './lifecycle.js'
import { encodeOutcome, OUTCOME_ROW_BYTES, outcomeShard } from './outcome-row.js'

/** A probe as the API shows it: what was seen, never the page body. */
export interface Check {
  id: string
  caseId: string
  at: string
  outcome: 'live' | 'down' | 'blocked' | 'unknown' | 'unprobeable'
  reason: string
  url: string | null
  dns: { code: string, addresses: string[], cnames: string[] } | null
  redirects: Array<{ url: string, status: number | null }>
  finalStatus: number | null
  tls: { issuer: string | null, validTo: string | null, error: string | null } | null
  bodySha256: string | null
  fingerprint: string | null
  title: string | null
  bytes: number
  durationMs: number
}

export const HISTORY_LIMIT = 100

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
  /** the shards holding outcome rows (`<provider>:<YYYY-MM>`) */
  outcomeShards: () => Promise<string[]>
  /** per named shard (same order), its outcome rows concatenated (OUTCOME_ROW_BYTES each, in no order; empty when unknown) */
  outcomeRows: (shards: readonly string[]) => Promise<Buffer[]>
}

interface Shard { slots: Map<string, number>, buf: Buffer, n: number }

export class MemoryVerificationStore implements VerificationStore {
  readonly #records = new Map<string, string>()
  readonly #history = new Map<string, Check[]>()
  readonly #claims = new Map<string, number>()
  readonly #outcomes = new Map<string, Shard>()
  constructor (private readonly now: () => number) {}

  async get (caseId: string): Promise<Verification | null> {
    const raw = this.#records.get(caseId)
    return raw === undefined ? null : JSON.parse(raw) as Verification
  }

  async getMany (caseIds: readonly string[]): Promise<Array<Verification | null>> {
    return await Promise.all(caseIds.map(async id => await this.get(id)))
  }

  async put (expected: Verification | null, next: Verification): Promise<boolean> {
    const stored = this.#records.get(next.caseId) ?? null
    if (stored !== (expected === null ? null : JSON.stringify(expected))) return false
    this.#records.set(next.caseId, JSON.stringify(next))
    const name = outcomeShard(next)
    if (name !== null) this.#writeOutcome(name, next.caseId, encodeOutcome(next))
    return true
  }

  #writeOutcome (name: string, caseId: string, row: Buffer): void {
    let s = this.#outcomes.get(name)
    if (s === undefined) {
      s = { slots: new Map(), buf: Buffer.alloc(OUTCOME_ROW_BYTES * 64), n: 0 }
      this.#outcomes.set(name, s)
    }
    let slot = s.slots.get(caseId)
    if (slot === undefined) {
      slot = s.n++
      s.slots.set(caseId, slot)
      if (s.n * OUTCOME_ROW_BYTES > s.buf.length) {
        const grown = Buffer.alloc(s.buf.length * 2)
        s.buf.copy(grown)
        s.buf = grown
      }
    }
    row.copy(s.buf, slot * OUTCOME_ROW_BYTES)
  }

  async outcomeShards (): Promise<string[]> { return [...this.#outcomes.keys()] }

  async outcomeRows (shards: readonly string[]): Promise<Buffer[]> {
    return shards.map(name => {
      const s = this.#outcomes.get(name)
      return s === undefined ? Buffer.alloc(0) : Buffer.from(s.buf.subarray(0, s.n * OUTCOME_ROW_BYTES))
    })
  }

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
    const list = this.#history.get(check.caseId) ?? []
    list.unshift(check)
    this.#history.set(check.caseId, list.slice(0, HISTORY_LIMIT))
  }

  async checks (caseId: string, offset: number, limit: number): Promise<{ items: Check[], total: number }> {
    const list = this.#history.get(caseId) ?? []
    return { items: list.slice(offset, offset + limit), total: list.length }
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

// KEYS: record, due, outcome slots, outcome rows, outcome shards, pending. ARGV: expected ('' = none), next, case id,
// next check time ('' = none), outcome shard ('' = none), outcome row, pending since ('' = nothing owed)
const PUT = `local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
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

export class RedisVerificationStore implements VerificationStore {
  readonly #client: Redis | Cluster
  constructor (client: Redis | Cluster) {
    this.#client = client
    client.defineCommand('verifyPut', { numberOfKeys: 6, lua: PUT })
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
    const done = await put.call(this.#client, K.record(next.caseId), K.due, K.outcomeSlots(shard), K.outcomeRows(shard), K.outcomeShards, K.pending,
      expected === null ? '' : JSON.stringify(expected), JSON.stringify(next), next.caseId, next.nextCheckAt === null ? '' : String(next.nextCheckAt),
      shard, shard === '' ? '' : encodeOutcome(next), (next.pendingReappear ?? null) === null ? '' : String(next.lastCheckedAt ?? 0))
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
    await this.#client.multi().lpush(K.history(check.caseId), JSON.stringify(check)).ltrim(K.history(check.caseId), 0, HISTORY_LIMIT - 1).exec()
  }

  async checks (caseId: string, offset: number, limit: number): Promise<{ items: Check[], total: number }> {
    const [items, total] = await Promise.all([
      this.#client.lrange(K.history(caseId), offset, offset + limit - 1),
      this.#client.llen(K.history(caseId))
    ])
    return { items: items.map(i => JSON.parse(i) as Check), total }
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
export function openVerificationStore (kv: KvStore, clock: Clock): VerificationStore {
  return kv.kind === 'redis' && kv.client !== undefined ? new RedisVerificationStore(kv.client) : new MemoryVerificationStore(() => clock.now())
}
