/**
 * Analytics grouped by the target's public suffix (`groupBy=tld`): the suffix is kept in the milestone row as an id
 * named in the store's dictionary, so the counts below are a hand count of the fixture, with the memory store and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import { decodeRow, encodeRow, tldId } from '../../src/features/reporting/row.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const NOW = Date.parse('2026-11-01T00:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()

type Provider = CaseChangeEvent['case']['provider']

/** [provider, public suffix, cases, of them taken down] */
const FIXTURE: Array<[Provider, string | null, number, number]> = [
  ['phishfort', 'com', 5, 3],
  ['phishfort', 'co.uk', 3, 1],
  ['bforeai', 'com', 2, 2],
  ['bforeai', 'github.io', 4, 0],
  ['cloudflare', null, 1, 1]
]

function events (): CaseChangeEvent[] {
  const out: CaseChangeEvent[] = []
  let n = 0
  for (const [provider, suffix, cases, takenDown] of FIXTURE) {
    for (let i = 0; i < cases; i++) {
      const created = NOW - (10 + n) * 3_600_000
      const down = i < takenDown
      out.push({
        type: 'case.created',
        occurredAt: null,
        observedAt: iso(created + (down ? 1_800_000 : 0)),
        observedVia: 'poll',
        case: {
          id: `${provider}:tld-${n++}`,
          provider,
          status: down ? 'taken_down' : 'in_progress',
          createdAt: iso(created),
          updatedAt: null,
          target: suffix === null ? { type: 'ipv4', publicSuffix: null } : { type: 'url', publicSuffix: suffix }
        },
        previous: null,
        sequence: 1
      })
    }
  }
  return out
}

describe('the public suffix in a milestone row', () => {
  it('round-trips as an id, 0 without one; different suffixes get different ids', () => {
    const base = { createdAt: NOW, status: 'received', targetType: 'url', sequence: 1, reopened: 0, firstTerminal: null, milestones: {} } as const
    expect(decodeRow(encodeRow({ ...base, tld: tldId('co.uk') })).tld).toBe(tldId('co.uk'))
    expect(decodeRow(encodeRow(base)).tld).toBe(0)
    expect(new Set(['com', 'co.uk', 'uk', 'github.io', 'io'].map(tldId)).size).toBe(5)
  })
})

describe.each(['memory', 'redis'] as const)('takedown analytics by tld (%s store)', (store) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await testGateway({ store })
    gw.clock.set(NOW)
    for (const e of events()) expect(await gw.app.milestones.record(e)).toBe('recorded')
  })
  afterAll(async () => { await gw?.close() })

  const get = async (query: string): Promise<any> => {
    const res = await gw.app.inject({ method: 'GET', url: `/v1/analytics/takedowns${query}`, headers: auth('reader-secret-key') })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  it('groups by tld and by provider and tld, matching a hand count of the fixture', async () => {
    const byTld = await get('?groupBy=tld&from=2026-10-01T00:00:00Z')
    expect(byTld.groupBy).toEqual(['tld'])
    expect(byTld.groups.map((g: any) => [g.key.tld, g.cases, g.takenDown])).toEqual([
      ['co.uk', 3, 1],
      ['com', 7, 5],
      ['github.io', 4, 0],
      ['unknown', 1, 1]
    ])
    const both = await get('?groupBy=provider,tld&from=2026-10-01T00:00:00Z')
    expect(both.groups.map((g: any) => [g.key, g.cases])).toEqual([
      [{ provider: 'bforeai', tld: 'com' }, 2],
      [{ provider: 'bforeai', tld: 'github.io' }, 4],
      [{ provider: 'cloudflare', tld: 'unknown' }, 1],
      [{ provider: 'phishfort', tld: 'co.uk' }, 3],
      [{ provider: 'phishfort', tld: 'com' }, 5]
    ])
    // time to takedown: every taken-down case here was seen 30 minutes after creation
    expect(byTld.groups[1].timeToTakedown).toMatchObject({ count: 5, median: 1800 })
  })
})
