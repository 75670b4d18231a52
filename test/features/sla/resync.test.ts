/**
 * A changed policy file at start re-times the tracked cases: a replica started on the same Redis with new rules moves
 * the timers of a case set under the old ones (a rule that no longer matches drops them), without a change of the case.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'
import { eventually } from '../../support/receiver.js'

const H = 3_600_000
const dir = mkdtempSync(join(tmpdir(), 'sla-resync-'))
const policyFile = (name: string, rules: unknown[]): string => {
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify({ rules }))
  return path
}
const clock = new ManualClock(Date.now())
const prefix = `t-sla-resync-${process.pid}-${Date.now()}:`
const open: TestGateway[] = []
afterAll(async () => { for (const gw of open.reverse()) await gw.close() })

async function start (policy: string, sandbox?: TestGateway['sandbox']): Promise<TestGateway> {
  const gw = await testGateway({ clock, store: 'redis', redisPrefix: prefix, ...(sandbox === undefined ? {} : { sandbox }), env: { SLA_POLICY_FILE: policy } })
  open.push(gw)
  return gw
}

describe('a new policy at start', () => {
  it('re-times the tracked cases under the rules now in force', async () => {
    const first = await start(policyFile('v1.json', [{ id: 'urls', match: { targetType: 'url' }, downWithin: 'P1D', failoverAfter: 'P2D' }]))
    const res = await first.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: { provider: 'phishfort', target: { type: 'url', value: 'https://acme-bank-login.sla-resync.example/a' }, brand: { id: 501 }, comment: 'phishing clone' } })
    expect(res.statusCode, res.body).toBe(201)
    const id = res.json<{ id: string }>().id
    const timers = async (gw: TestGateway): Promise<string[]> => (await gw.app.sla.store.due(clock.now() + 30 * 24 * H, 1000)).filter(t => t.caseId === id).map(t => `${t.kind}@${(t.at - Date.parse(res.json<{ createdAt: string }>().createdAt)) / H}h`)
    expect(await eventually(async () => (await timers(first)).length > 0)).toBe(true)
    expect(await timers(first)).toEqual(['breach-down@24h', 'failover@48h'])

    // the next start has a shorter failover and a warning
    const second = await start(policyFile('v2.json', [{ id: 'urls', match: { targetType: 'url' }, downWithin: 'PT12H', warnBefore: 'PT2H', failoverAfter: 'PT18H' }]), first.sandbox)
    expect(await eventually(async () => (await timers(second)).join() === 'warn-down@10h,breach-down@12h,failover@18h')).toBe(true)
    expect((await second.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}`, headers: auth() })).json<{ sla: { downDueAt: string } }>().sla.downDueAt)
      .toBe(new Date(Date.parse(res.json<{ createdAt: string }>().createdAt) + 12 * H).toISOString())

    // and one whose rules no longer match the case drops its timers
    const third = await start(policyFile('v3.json', [{ id: 'domains', match: { targetType: 'domain' }, downWithin: 'P1D' }]), first.sandbox)
    expect(await eventually(async () => (await timers(third)).length === 0)).toBe(true)
    expect((await third.app.inject({ url: `/v1/cases/${encodeURIComponent(id)}`, headers: auth() })).json<{ sla: unknown }>().sla).toBeNull()
  })
})
