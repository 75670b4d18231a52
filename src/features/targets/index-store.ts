/**
 * The target index: which cases (any vendor, open or closed) have a host or a registrable domain. Fed by every
 * recorded case event and every create; read by case detail (`relatedCases`) and the target lookup. Redis sets when
 * the gateway has Redis (shared by replicas), process memory otherwise. A lookup is one script (both sets and the
 * summaries they name, one round trip) on a single Redis; one key per command on a Cluster, where the keys' slots differ.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../clock.js'
import type { Case } from '../../schemas/case.js'
import { identifyTarget, targetKey } from '../../domain/target-identity.js'
import type { TargetType } from '../../schemas/common.js'
import type { OpenCaseIndex } from '../../services/writes.js'
import { keys } from '../../store/keys.js'
import { turnBatch, type TurnBatch } from '../../store/turn-batch.js'

/** what the index keeps of a case: enough to list it without asking its vendor */
export interface IndexedCase {
  id: string
  provider: string
  status: string
  terminal: boolean
  value: string
  /** the target key (`targetKey`): the same for two cases of the same target */
  key: string
  host: string | null
  registrableDomain: string | null
  createdAt: string
}

export interface TargetIndex {
  /**
   * listing pages feed it too (Redis: shared by replicas, bounded by Redis memory); the in-process index learns only from
   * events, creates and case reads, so a bulk walk (an export of every case) does not grow the process by its size
   */
  readonly fedByListings: boolean
  add: (c: Case) => Promise<void>
  /** `add` for a listing page: the cases written recently and unchanged cost no promise each */
  addMany: (cases: readonly Case[]) => Promise<void>
  /** the cases with this host or this registrable domain, newest first (at most `limit`) */
  find: (by: { host?: string | null, registrableDomain?: string | null }, limit: number) => Promise<IndexedCase[]>
}

/** a case whose target has neither host nor registrable domain (email, phone) is not indexed */
export function summaryOf (c: Case): IndexedCase | null {
  const host = c.target.host ?? null
  const registrableDomain = c.target.registrableDomain ?? null
  if (host === null && registrableDomain === null) return null
  const key = c.target.submitted === undefined ? targetKey(c.target.type, c.target.value) : targetKey('url', c.target.submitted)
  return { id: c.id, provider: c.provider, status: c.status, terminal: c.terminal, value: c.target.value, key, host, registrableDomain, createdAt: c.createdAt }
}

function newestFirst (a: IndexedCase, b: IndexedCase): number {
  return b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id)
}

/** no more ids than this are read per host or domain (a shared hosting domain can have thousands) */
const MAX_IDS = 500

/**
 * How long this process takes a summary it wrote to still be in Redis: the same case seen again within it (every
 * listing page and case read feeds the index) costs no command; after it, the summary is written again, so an index
 * emptied behind the gateway's back refills.
 */
export const WRITTEN_TRUST_MS = 60_000
/** summaries remembered at most (the oldest written is forgotten first) */
const WRITTEN_MAX = 20_000

/** what a summary depends on, as last written for a case */
interface Written { at: number, provider: string, status: string, terminal: boolean, type: string, value: string, submitted: string | undefined, host: string | null, domain: string | null, createdAt: string }

function unchanged (w: Written, c: Case): boolean {
  const t = c.target
  return w.status === c.status && w.terminal === c.terminal && w.value === t.value && w.type === t.type && w.submitted === t.submitted &&
    w.host === (t.host ?? null) && w.domain === (t.registrableDomain ?? null) && w.createdAt === c.createdAt && w.provider === c.provider
}

/**
 * KEYS: the host set, the domain set. ARGV: 1 ids per set at most, 2 the full key prefix of a summary (the client's
 * `keyPrefix` is applied to KEYS only), 3 and 4 whether to read each set ('1'). Returns the summaries found.
 * The summary keys are not in KEYS: fine on a single Redis (the script is not used on a Cluster).
 */
const FIND = `
local seen, ids = {}, {}
for i = 1, 2 do
  if ARGV[2 + i] == '1' then
    for _, id in ipairs(redis.call('SRANDMEMBER', KEYS[i], ARGV[1])) do
      if not seen[id] then seen[id] = true; ids[#ids + 1] = id end
    end
  end
end
if #ids == 0 then return {} end
local names = {}
for i, id in ipairs(ids) do names[i] = ARGV[2] .. id end
local out = {}
for _, r in ipairs(redis.call('MGET', unpack(names))) do
  if r then out[#out + 1] = r end
end
return out
`

type FindScript = (hostKey: string, domainKey: string, max: number, prefix: string, host: string, domain: string) => Promise<string[]>

/**
 * The writes of many cases in one command. ARGV: 1-3 the full key prefixes of a summary, a host set and a domain set
 * (the client's `keyPrefix` is applied to KEYS only), then four values per case: its id, its summary, its host and its
 * registrable domain ('' for none). Returns the number of cases written. Like FIND, not used on a Cluster (the keys
 * are not in KEYS and their slots differ).
 */
const WRITE = `
for i = 4, #ARGV, 4 do
  local id = ARGV[i]
  redis.call('SET', ARGV[1] .. id, ARGV[i + 1])
  if ARGV[i + 2] ~= '' then redis.call('SADD', ARGV[2] .. ARGV[i + 2], id) end
  if ARGV[i + 3] ~= '' then redis.call('SADD', ARGV[3] .. ARGV[i + 3], id) end
end
return (#ARGV - 3) / 4
`

export class RedisTargetIndex implements TargetIndex {
  readonly fedByListings = true
  readonly #client: Redis | Cluster
  readonly #clock: Clock
  readonly #written = new Map<string, Written>()
  /** the lookup in one round trip; null on a Cluster */
  readonly #find: FindScript | null
  /** the full key prefixes WRITE takes (summary, host set, domain set); null on a Cluster */
  readonly #writePrefixes: [string, string, string] | null
  readonly #summaryPrefix: string
  readonly #batch: TurnBatch
  constructor (client: Redis | Cluster, clock: Clock) {
    this.#client = client
    this.#batch = turnBatch(client)
    this.#clock = clock
    if (client.isCluster) {
      this.#find = null
      this.#writePrefixes = null
      this.#summaryPrefix = ''
    } else {
      const redis = client as Redis
      if (!('targetIndexFind' in redis)) redis.defineCommand('targetIndexFind', { numberOfKeys: 2, lua: FIND })
      if (!('targetIndexWrite' in redis)) redis.defineCommand('targetIndexWrite', { numberOfKeys: 0, lua: WRITE })
      const script = (redis as unknown as { targetIndexFind: FindScript }).targetIndexFind
      this.#find = script.bind(redis)
      const prefix = redis.options.keyPrefix ?? ''
      this.#summaryPrefix = prefix + keys.targetCase('')
      this.#writePrefixes = [this.#summaryPrefix, prefix + keys.targetsByHost(''), prefix + keys.targetsByDomain('')]
    }
  }

  async add (c: Case): Promise<void> {
    const now = this.#clock.now()
    if (this.#fresh(c, now)) return
    const s = summaryOf(c)
    if (s === null) return
    await this.#send(c, s)
    this.#remember(c, s, now)
  }

  /**
   * `add` for a listing page: the cases written recently and unchanged cost nothing, and the rest are one command (WRITE)
   * that leaves with the other writes of this turn in one socket write (the turn batch). One command per page, not three
   * per case: a bulk walk (the export) feeds every case it reads, and three commands per case were half of what such a
   * walk allocated that outlived the young generation. Key by key on a Cluster, where the keys' slots differ.
   */
  async addMany (cases: readonly Case[]): Promise<void> {
    const now = this.#clock.now()
    const stale: Array<{ c: Case, s: IndexedCase }> = []
    for (const c of cases) {
      if (this.#fresh(c, now)) continue
      const s = summaryOf(c)
      if (s !== null) stale.push({ c, s })
    }
    if (stale.length === 0) return
    const prefixes = this.#writePrefixes
    if (prefixes === null) {
      await Promise.all(stale.map(async ({ c, s }) => { await this.#send(c, s) }))
    } else {
      const args: string[] = [...prefixes]
      for (const { c, s } of stale) args.push(c.id, JSON.stringify(s), s.host ?? '', s.registrableDomain ?? '')
      await this.#batch.send('targetIndexWrite', ...args)
    }
    for (const { c, s } of stale) this.#remember(c, s, now)
  }

  /** written by this process within WRITTEN_TRUST_MS and unchanged since */
  #fresh (c: Case, now: number): boolean {
    const last = this.#written.get(c.id)
    return last !== undefined && now - last.at < WRITTEN_TRUST_MS && unchanged(last, c)
  }

  /**
   * The summary and the host and domain sets, with the other writes of this turn (every case of a listing page, every
   * event recorded at once) in one socket write; each stands on its own (no transaction).
   */
  async #send (c: Case, s: IndexedCase): Promise<void> {
    const b = this.#batch
    const writes: Array<Promise<unknown>> = [b.send('set', keys.targetCase(c.id), JSON.stringify(s))]
    if (s.host !== null) writes.push(b.send('sadd', keys.targetsByHost(s.host), c.id))
    if (s.registrableDomain !== null) writes.push(b.send('sadd', keys.targetsByDomain(s.registrableDomain), c.id))
    await Promise.all(writes)
  }

  #remember (c: Case, s: IndexedCase, now: number): void {
    const t = c.target
    this.#written.delete(c.id)
    this.#written.set(c.id, { at: now, provider: c.provider, status: c.status, terminal: c.terminal, type: t.type, value: t.value, submitted: t.submitted, host: s.host, domain: s.registrableDomain, createdAt: c.createdAt })
    if (this.#written.size > WRITTEN_MAX) this.#written.delete(this.#written.keys().next().value as string)
  }

  async find (by: { host?: string | null, registrableDomain?: string | null }, limit: number): Promise<IndexedCase[]> {
    if (this.#find !== null) {
      const rows = await this.#find(keys.targetsByHost(by.host ?? ''), keys.targetsByDomain(by.registrableDomain ?? ''), MAX_IDS,
        this.#summaryPrefix, by.host == null ? '0' : '1', by.registrableDomain == null ? '0' : '1')
      return rows.map(r => JSON.parse(r) as IndexedCase).sort(newestFirst).slice(0, limit)
    }
    const sets = await Promise.all([
      by.host == null ? [] : this.#client.srandmember(keys.targetsByHost(by.host), MAX_IDS),
      by.registrableDomain == null ? [] : this.#client.srandmember(keys.targetsByDomain(by.registrableDomain), MAX_IDS)
    ])
    const ids = [...new Set(sets.flat())]
    if (ids.length === 0) return []
    const rows = await Promise.all(ids.map(async id => await this.#client.get(keys.targetCase(id))))
    return rows.flatMap(r => r === null ? [] : [JSON.parse(r) as IndexedCase]).sort(newestFirst).slice(0, limit)
  }
}

export class MemoryTargetIndex implements TargetIndex {
  readonly fedByListings = false
  readonly #cases = new Map<string, IndexedCase>()

  async add (c: Case): Promise<void> {
    const s = summaryOf(c)
    if (s !== null) this.#cases.set(c.id, s)
  }

  async addMany (cases: readonly Case[]): Promise<void> {
    for (const c of cases) await this.add(c)
  }

  async find (by: { host?: string | null, registrableDomain?: string | null }, limit: number): Promise<IndexedCase[]> {
    return [...this.#cases.values()]
      .filter(s => (by.host != null && s.host === by.host) || (by.registrableDomain != null && s.registrableDomain === by.registrableDomain))
      .sort(newestFirst).slice(0, limit)
  }
}

/** the index as the create's duplicate check asks it: the open cases with the target's host (their keys compared by the check) */
export function openCaseIndex (index: TargetIndex): OpenCaseIndex {
  return {
    openCases: async (target: { type: TargetType, value: string }) => {
      const host = identifyTarget(target.type, target.value).host
      if (host === null) return []
      return (await index.find({ host }, 500)).filter(c => !c.terminal)
    },
    created: async c => { await index.add(c) }
  }
}
