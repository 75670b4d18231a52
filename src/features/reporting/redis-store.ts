/**
 * Milestone rows in Redis (ADR 0020): per shard a hash `case id → slot` and one string holding every row at
 * `slot × ROW_BYTES`. A write is one Lua script (compare the stored row, then SETRANGE), so replicas never
 * overwrite each other's milestones; a query is one GET per shard (a few MB for 100k cases) instead of 100k reads.
 */
import type { Cluster, Redis } from 'ioredis'
import { keys } from '../../store/keys.js'
import { turnBatch, type TurnBatch } from '../../store/turn-batch.js'
import { ROW_BYTES } from './row.js'
import type { MilestoneStore } from './store.js'

const READ = `local slot = redis.call('HGET', KEYS[1], ARGV[1])
if not slot then return false end
local at = tonumber(slot) * ${ROW_BYTES}
return redis.call('GETRANGE', KEYS[2], at, at + ${ROW_BYTES - 1})`

// ARGV: case id, expected row ('' = none stored yet), new row
const WRITE = `local slot = redis.call('HGET', KEYS[1], ARGV[1])
if not slot then
  if ARGV[2] ~= '' then return 0 end
  slot = redis.call('HLEN', KEYS[1])
  redis.call('HSET', KEYS[1], ARGV[1], slot)
else
  local at = tonumber(slot) * ${ROW_BYTES}
  if redis.call('GETRANGE', KEYS[2], at, at + ${ROW_BYTES - 1}) ~= ARGV[2] then return 0 end
end
redis.call('SETRANGE', KEYS[2], tonumber(slot) * ${ROW_BYTES}, ARGV[3])
return 1`

interface Scripts {
  milestoneReadBuffer: (slots: string, rows: string, caseId: string) => Promise<Buffer | null>
}

export class RedisMilestoneStore implements MilestoneStore {
  readonly #client: Redis | Cluster
  readonly #known = new Set<string>()
  readonly #batch: TurnBatch

  constructor (client: Redis | Cluster) {
    this.#client = client
    this.#batch = turnBatch(client)
    client.defineCommand('milestoneRead', { numberOfKeys: 2, lua: READ })
    client.defineCommand('milestoneWrite', { numberOfKeys: 2, lua: WRITE })
  }

  get #scripts (): Scripts { return this.#client as unknown as Scripts }

  async read (shard: string, caseId: string): Promise<Buffer | null> {
    return await this.#scripts.milestoneReadBuffer(keys.milestoneSlots(shard), keys.milestoneRows(shard), caseId)
  }

  async write (shard: string, caseId: string, expected: Buffer | null, row: Buffer): Promise<boolean> {
    // each recorded event writes its row: the rows of the events recorded in one turn leave in one socket write
    const done = await this.#batch.send<number>('milestoneWrite', keys.milestoneSlots(shard), keys.milestoneRows(shard), caseId, expected ?? '', row)
    if (done === 1 && !this.#known.has(shard)) {
      await this.#client.sadd(keys.milestoneShards(), shard)
      this.#known.add(shard)
    }
    return done === 1
  }

  async shards (): Promise<string[]> {
    return await this.#client.smembers(keys.milestoneShards())
  }

  async nameTld (id: number, suffix: string): Promise<void> {
    await this.#client.hset(keys.milestoneTlds(), String(id), suffix)
  }

  async tlds (): Promise<Map<number, string>> {
    return new Map(Object.entries(await this.#client.hgetall(keys.milestoneTlds())).map(([id, s]) => [Number(id), s]))
  }

  async caseIds (shards: readonly string[]): Promise<string[][]> {
    const all = await Promise.all(shards.map(async s => await this.#client.hgetall(keys.milestoneSlots(s))))
    return all.map(slots => {
      const ids: string[] = []
      for (const [id, slot] of Object.entries(slots)) ids[Number(slot)] = id
      return ids
    })
  }

  async rows (shards: readonly string[]): Promise<Buffer[]> {
    const all = await Promise.all(shards.map(async s => await this.#client.getBuffer(keys.milestoneRows(s))))
    return all.map(b => b ?? Buffer.alloc(0))
  }
}
