/**
 * The Redis target index writes a case's summary once per trust window: every listing page and case read feeds it,
 * so a case seen again unchanged costs no command, a changed case is written at once, and after the window the
 * summary is written again (an index emptied behind the gateway's back refills).
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, inject, it } from 'vitest'
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
