/**
 * The Redis target index writes a case's summary once per trust window: every listing page and case read feeds it,
 * so a case seen again unchanged costs no command, a changed case is written at once, and after the window the
 * summary is written again (an index emptied behind the gateway's back refills). A listing page's writes are one command,
 * and so is a lookup.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, inject, it } from 'vitest'
import type { Redis } from 'ioredis'
import { ManualClock } from '../../src/clock.js'
import { RedisTargetIndex, WRITTEN_TRUST_MS } from '../../src/features/targets/index-store.js'
import type { Case } from '../../src/schemas/case.js'
import { keys } from '../../src/store/keys.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'

let store: RedisKvStore | null = null
afterEach(async () => { await store?.close(); store = null })

const caseOf = (status: string): Case => ({
  id: 'phishfort:abc',
  provider: 'phishfort',
  status,
  terminal: false,
  createdAt: '2026-01-02T03:04:05.000Z',
  target: { type: 'url', value: 'https://login.example-bank.test/x', host: 'login.example-bank.test', registrableDomain: 'example-bank.test' }
}) as unknown as Case

describe('RedisTargetIndex writes', () => {
  it('an unchanged case inside the trust window is not written again; a changed one is; after the window it is', async () => {
    store = new RedisKvStore(inject('redisUrl'), { keyPrefix: `tidx-${randomUUID()}:` })
    expect(await store.waitReady(2000)).toBe(true)
    const redis = store.client
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'))
    const index = new RedisTargetIndex(redis, clock)
    const summary = async (): Promise<{ status: string } | null> => {
      const raw = await redis.get(keys.targetCase('phishfort:abc'))
      return raw === null ? null : JSON.parse(raw) as { status: string }
    }

    await index.add(caseOf('submitted'))
    expect((await summary())?.status).toBe('submitted')
    expect(await index.find({ host: 'login.example-bank.test' }, 10)).toHaveLength(1)

    // removed behind the index's back: the same case inside the window is taken as written
    await redis.del(keys.targetCase('phishfort:abc'))
    await index.add(caseOf('submitted'))
    expect(await summary()).toBeNull()

    // a change is written at once
    await index.add(caseOf('in_progress'))
    expect((await summary())?.status).toBe('in_progress')

    // after the window the unchanged case is written again
    await redis.del(keys.targetCase('phishfort:abc'))
    clock.advance(WRITTEN_TRUST_MS)
    await index.add(caseOf('in_progress'))
    expect((await summary())?.status).toBe('in_progress')
  })
})

describe('RedisTargetIndex listing pages', () => {
  it('addMany sends commands only for the cases not written recently or changed since', async () => {
    store = new RedisKvStore(inject('redisUrl'), { keyPrefix: `tidx-${randomUUID()}:` })
    expect(await store.waitReady(2000)).toBe(true)
    const redis = store.client as Redis
    const index = new RedisTargetIndex(redis, new ManualClock(Date.parse('2026-03-01T00:00:00Z')))
    const page = (status: string, n: number): Case[] => Array.from({ length: n }, (_, i) => ({ ...caseOf('submitted'), id: `phishfort:p${i}`, status }) as unknown as Case)
    const sent: string[] = []
    const send = redis.sendCommand.bind(redis)
    redis.sendCommand = (command, stream) => { sent.push(command.name); return send(command, stream) }

    // a page of new cases leaves in one socket write (a pipeline), not one per command
    const stream = (redis as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream
    const write = stream.write.bind(stream)
    let writes = 0
    stream.write = (...a: unknown[]) => { writes++; return write(...a) }
    await index.addMany(page('submitted', 3))
    stream.write = write
    expect(writes).toBe(1)
    // the whole page is one command (a script: its first use on the connection is sent as EVAL), not three per case
    expect(sent).toEqual(['evalsha'])
    // a summary and both sets per case, under the client's key prefix
    expect(JSON.parse((await redis.get(keys.targetCase('phishfort:p2')))!)).toMatchObject({ id: 'phishfort:p2', status: 'submitted', host: 'login.example-bank.test' })
    expect((await redis.smembers(keys.targetsByHost('login.example-bank.test'))).sort()).toEqual(['phishfort:p0', 'phishfort:p1', 'phishfort:p2'])
    expect((await redis.smembers(keys.targetsByDomain('example-bank.test'))).sort()).toEqual(['phishfort:p0', 'phishfort:p1', 'phishfort:p2'])
    sent.length = 0
    await index.addMany(page('submitted', 3))
    expect(sent).toEqual([])
    // one case changed: only it is written
    const changed = page('submitted', 3)
    changed[1] = { ...changed[1]!, status: 'in_progress' }
    await index.addMany(changed)
    expect(sent).toEqual(['evalsha'])
    expect(JSON.parse((await redis.get(keys.targetCase('phishfort:p1')))!)).toMatchObject({ status: 'in_progress' })
    expect(JSON.parse((await redis.get(keys.targetCase('phishfort:p0')))!)).toMatchObject({ status: 'submitted' })
    expect(await index.find({ host: 'login.example-bank.test' }, 10)).toHaveLength(3)
  })

  it('a page of a hundred cases is one command; a case without a registrable domain joins no domain set', async () => {
    store = new RedisKvStore(inject('redisUrl'), { keyPrefix: `tidx-${randomUUID()}:` })
    expect(await store.waitReady(2000)).toBe(true)
    const redis = store.client as Redis
    const index = new RedisTargetIndex(redis, new ManualClock(Date.parse('2026-03-01T00:00:00Z')))
    const page = Array.from({ length: 100 }, (_, i) => ({
      ...caseOf('submitted'), id: `netcraft:${i}`, target: { type: 'url', value: `https://h${i}.bank.test/x`, host: `h${i}.bank.test`, registrableDomain: 'bank.test' }
    }) as unknown as Case)
    page[7] = { ...page[7]!, target: { type: 'url', value: 'http://192.0.2.7/x', host: '192.0.2.7', registrableDomain: null } } as unknown as Case
    const sent: string[] = []
    const send = redis.sendCommand.bind(redis)
    redis.sendCommand = (command, s) => { sent.push(command.name); return send(command, s) }
    await index.addMany(page)
    expect(sent).toEqual(['evalsha'])
    expect(await redis.scard(keys.targetsByDomain('bank.test'))).toBe(99)
    expect(await redis.exists(keys.targetsByDomain(''))).toBe(0)
    expect((await index.find({ host: '192.0.2.7' }, 10)).map(c => c.id)).toEqual(['netcraft:7'])
    expect((await index.find({ host: 'h99.bank.test' }, 10)).map(c => c.id)).toEqual(['netcraft:99'])
    expect(await index.find({ registrableDomain: 'bank.test' }, 200)).toHaveLength(99)
  })
})

describe('RedisTargetIndex lookups', () => {
  const at = (id: string, host: string, domain: string, createdAt: string): Case => ({
    ...caseOf('submitted'), id, createdAt, target: { type: 'url', value: `https://${host}/x`, host, registrableDomain: domain }
  }) as unknown as Case

  it('finds the cases of a host or a domain, newest first, in one command under the client\'s key prefix', async () => {
    store = new RedisKvStore(inject('redisUrl'), { keyPrefix: `tidx-${randomUUID()}:` })
    expect(await store.waitReady(2000)).toBe(true)
    const redis = store.client as Redis
    const index = new RedisTargetIndex(redis, new ManualClock(Date.parse('2026-03-01T00:00:00Z')))
    await index.add(at('phishfort:1', 'login.bank.test', 'bank.test', '2026-01-01T00:00:00.000Z'))
    await index.add(at('bforeai:2', 'login.bank.test', 'bank.test', '2026-01-03T00:00:00.000Z'))
    await index.add(at('netcraft:3', 'pay.bank.test', 'bank.test', '2026-01-02T00:00:00.000Z'))
    await index.add(at('netcraft:4', 'other.test', 'other.test', '2026-01-04T00:00:00.000Z'))
    // an id whose summary is gone is left out
    await redis.sadd(keys.targetsByHost('login.bank.test'), 'phishfort:gone')

    const sent: string[] = []
    const send = redis.sendCommand.bind(redis)
    redis.sendCommand = (command, stream) => { sent.push(command.name); return send(command, stream) }
    const ids = async (by: { host?: string | null, registrableDomain?: string | null }, limit = 10): Promise<string[]> =>
      (await index.find(by, limit)).map(c => c.id)

    expect(await ids({ host: 'login.bank.test', registrableDomain: 'bank.test' })).toEqual(['bforeai:2', 'netcraft:3', 'phishfort:1'])
    expect(sent).toHaveLength(1)
    expect(await ids({ host: 'login.bank.test' })).toEqual(['bforeai:2', 'phishfort:1'])
    expect(await ids({ registrableDomain: 'bank.test' }, 2)).toEqual(['bforeai:2', 'netcraft:3'])
    expect(await ids({ host: 'nothing.test', registrableDomain: null })).toEqual([])
    expect(await ids({})).toEqual([])
    expect(sent).toHaveLength(5)
    // a second index on the same client shares the script
    expect((await new RedisTargetIndex(redis, new ManualClock(0)).find({ host: 'other.test' }, 10)).map(c => c.id)).toEqual(['netcraft:4'])
  })
})
