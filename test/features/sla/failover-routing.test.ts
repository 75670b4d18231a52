/**
 * A failover goes where a create of the target would be routed: under a `measured` routing rule, to the provider the
 * measurements rank first among those the case has not been through, whatever the rule's list order, and never by an
 * exploration draw (the injected draw would explore on every create). The measurements are seeded through the
 * milestone store's write path in Redis on the manual clock; the vendors are the sandbox's simulators over loopback.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseChangeEvent } from '../../../src/features/reporting/milestones.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'
import { eventually } from '../../support/receiver.js'

const H = 3_600_000
const iso = (ms: number): string => new Date(ms).toISOString()
let gw: TestGateway

/** `cases` cases of `provider` created in the last days, each taken down `hours` after it was created */
async function seed (provider: CaseChangeEvent['case']['provider'], cases: number, hours: number): Promise<void> {
  const now = gw.clock.now()
  for (let i = 0; i < cases; i++) {
    const created = now - (2 * 24 + i) * H
    await gw.app.milestones.record({
      type: 'case.created',
      occurredAt: null,
      observedAt: iso(created + hours * H),
      observedVia: 'poll',
      case: { id: `${provider}:failover-routing-${i}`, provider, status: 'taken_down', createdAt: iso(created), updatedAt: null, resolvedAt: iso(created + hours * H), target: { type: 'url', publicSuffix: 'com' } },
      previous: null,
      sequence: 1
    })
  }
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sla-failover-routing-'))
  const policy = join(dir, 'policy.json')
  writeFileSync(policy, JSON.stringify({ rules: [{ id: 'phishfort-failover', match: { provider: 'phishfort', targetType: 'url' }, downWithin: 'PT24H', failoverAfter: 'PT1H' }] }))
  gw = await testGateway({
    store: 'redis',
    env: {
      SLA_POLICY_FILE: policy,
      // listed bforeai before netcraft; phishfort (the case's own provider) first
      ROUTING_RULES: JSON.stringify({ url: { strategy: 'measured', providers: ['phishfort', 'bforeai', 'netcraft'] } }),
      ROUTING_MIN_SAMPLE: '5',
      ROUTING_EXPLORE_PERCENT: '50'
    },
    // every routed create would explore (a draw of 0 is below any explore share)
    appOptions: { routingRandom: () => 0 }
  })
  // netcraft takes url targets down in 2 h, phishfort in 24 h, bforeai in 48 h
  await seed('bforeai', 6, 48)
  await seed('netcraft', 6, 2)
  await seed('phishfort', 6, 24)
})
afterAll(async () => { await gw?.close() })

describe('failover under a measured routing rule', () => {
  it('files the case at the best-ranked provider the case has not been through, not the next of the list', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth(),
      payload: { provider: 'phishfort', target: { type: 'url', value: 'https://acme-bank-login.failover-routing.example.com/verify' }, brand: { id: 501 }, comment: 'phishing clone of the login page' }
    })
    expect(res.statusCode, res.body).toBe(201)
    const id = res.json<{ id: string }>().id
    expect(await eventually(async () => await gw.app.sla.store.get(id) !== null)).toBe(true)
    // a routed create now explores: the dry run goes away from the best-ranked netcraft
    const plan = await gw.app.inject({ method: 'POST', url: '/v1/cases?dryRun=true', headers: auth(), payload: { target: { type: 'url', value: 'https://other.failover-routing.example.com/' }, allowDuplicate: true } })
    const routed = plan.json<{ provider: string, routing: { decision: string, providers: Array<{ provider: string }> } }>()
    expect(routed.routing.decision).toBe('explore')
    expect(routed.routing.providers[0]?.provider).toBe('netcraft')
    expect(routed.provider).not.toBe('netcraft')

    gw.clock.advance(H + 1000)
    expect(await gw.app.sla.engine.tick()).toBe(1)
    const events = await gw.app.inject({ url: `/v1/events?caseId=${encodeURIComponent(id)}&types=case.failed_over`, headers: auth() })
    const [event] = events.json<{ items: Array<{ data: { failover: { caseId: string, provider: string } } }> }>().items
    expect(event?.data.failover.provider).toBe('netcraft')
    expect(event?.data.failover.caseId.startsWith('netcraft:')).toBe(true)
    expect(Object.keys((await gw.app.sla.store.get(id))?.related ?? {})).toEqual([event?.data.failover.caseId])
  })
})
