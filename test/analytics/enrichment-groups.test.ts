/**
 * Analytics grouped by registrar and hosting network (`groupBy=registrar`, `groupBy=hostingNetwork`): each case's
 * RDAP facts are a side record written once its enrichment is known; the report reads them over the rows' case ids.
 * The counts below are a hand count of the fixture, with the memory store and Redis; cases without a record are `unknown`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseChangeEvent } from '../../src/features/reporting/milestones.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'

const NOW = Date.parse('2026-11-01T00:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()

type Provider = CaseChangeEvent['case']['provider']

/** [provider, registrar (null: no record), hosting network, cases, of them taken down] */
const FIXTURE: Array<[Provider, string | null, string | null, number, number]> = [
  ['phishfort', 'NameCheap, Inc.', 'CLOUDFLARENET', 4, 2],
  ['phishfort', 'GoDaddy.com, LLC', 'AMAZON-02', 2, 1],
  ['bforeai', 'NameCheap, Inc.', 'AMAZON-02', 3, 3],
  ['bforeai', 'NameCheap, Inc.', null, 1, 0],
  ['cloudflare', null, null, 2, 1]
]

describe.each(['memory', 'redis'] as const)('takedown analytics by registrar and hosting network (%s store)', (store) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await testGateway({ store })
    gw.clock.set(NOW)
    let n = 0
    for (const [provider, registrar, hostingNetwork, cases, takenDown] of FIXTURE) {
      for (let i = 0; i < cases; i++) {
        const created = NOW - (10 + n) * 3_600_000
        const down = i < takenDown
        const id = `${provider}:enr-${store}-${n++}`
        const event: CaseChangeEvent = {
          type: 'case.created',
          occurredAt: null,
          observedAt: iso(created + (down ? 1_800_000 : 0)),
          observedVia: 'poll',
          case: { id, provider, status: down ? 'taken_down' : 'in_progress', createdAt: iso(created), updatedAt: null, target: { type: 'url', publicSuffix: 'com' } },
          previous: null,
          sequence: 1
        }
        expect(await gw.app.milestones.record(event)).toBe('recorded')
        if (registrar !== null) await gw.app.caseEnrichment.record(id, { registrar, hostingNetwork })
      }
    }
  })
  afterAll(async () => { await gw?.close() })

  const get = async (query: string): Promise<any> => {
    const res = await gw.app.inject({ method: 'GET', url: `/v1/analytics/takedowns${query}`, headers: auth('reader-secret-key') })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  it('groups by registrar, matching a hand count of the fixture; cases without a record are unknown', async () => {
    const r = await get('?groupBy=registrar&from=2026-10-01T00:00:00Z')
    expect(r.groupBy).toEqual(['registrar'])
    expect(r.groups.map((g: any) => [g.key.registrar, g.cases, g.takenDown])).toEqual([
      ['GoDaddy.com, LLC', 2, 1],
      ['NameCheap, Inc.', 8, 5],
      ['unknown', 2, 1]
    ])
  })

  it('groups by provider and hosting network', async () => {
    const r = await get('?groupBy=provider,hostingNetwork&from=2026-10-01T00:00:00Z')
    expect(r.groupBy).toEqual(['provider', 'hostingNetwork'])
    expect(r.groups.map((g: any) => [g.key.provider, g.key.hostingNetwork, g.cases])).toEqual([
      ['bforeai', 'AMAZON-02', 3],
      ['bforeai', 'unknown', 1],
      ['cloudflare', 'unknown', 2],
      ['phishfort', 'AMAZON-02', 2],
      ['phishfort', 'CLOUDFLARENET', 4]
    ])
  })

  it('groups by registrar and tld together; an unknown dimension is still a problem', async () => {
    const r = await get('?groupBy=tld,registrar&provider=bforeai')
    expect(r.groups.map((g: any) => [g.key.tld, g.key.registrar, g.cases])).toEqual([['com', 'NameCheap, Inc.', 4]])
    const bad = await gw.app.inject({ method: 'GET', url: '/v1/analytics/takedowns?groupBy=registrant', headers: auth('reader-secret-key') })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().allowed).toContain('hostingNetwork')
  })
})
