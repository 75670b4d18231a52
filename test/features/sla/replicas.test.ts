/**
 * Service-level timers across processes: two real gateway processes in live mode on the suite's Redis (a key prefix
 * of their own) against one set of simulators in this process, with a lease of 3 s and a tick of 200 ms
 * (SLA_LEASE_MS, SLA_TICK_MS). A case created through replica A gets its failover timer in Redis; whichever replica
 * claims the step is SIGKILLed while it performs the failover (Netcraft's simulator holds the create without an
 * answer, so nothing was filed); the other takes the step over once the lease runs out and files exactly one case at
 * the next provider of the routing order, recorded once as case.failed_over and linked both ways.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { systemClock } from '../../../src/clock.js'
import { PROVIDER_IDS, type ProviderId } from '../../../src/schemas/provider.js'
import type { RunningSimulator } from '../../../src/simulators/harness.js'
import { httpRequest, killAll, listening, replicaEnv, spawnGateway, startVendors, type GatewayProcess } from '../../support/gateway-process.js'
import { eventually } from '../../support/receiver.js'

const KEY = 'sla-ops-secret-key-0123456789'
const headers = { authorization: `Bearer ${KEY}` }
const PREFIX = `sla-replicas-${randomUUID()}:`
let sims: Record<ProviderId, RunningSimulator>
let a: GatewayProcess
let b: GatewayProcess
let redis: Redis

beforeAll(async () => {
  sims = await startVendors(systemClock, 5)
  const dir = mkdtempSync(join(tmpdir(), 'sla-replicas-'))
  const policy = join(dir, 'policy.json')
  writeFileSync(policy, JSON.stringify({
    rules: [
      { id: 'fast-failover', match: { provider: 'phishfort', targetType: 'url' }, downWithin: 'PT1H', failoverAfter: 'PT4S' },
      // the new case's own rule (its sla block shows the link back)
      { id: 'netcraft-urls', match: { provider: 'netcraft', targetType: 'url' }, downWithin: 'PT1H' }
    ]
  }))
  const env: Record<string, string> = replicaEnv(sims, 'sla-replicas', {
    REDIS_KEY_PREFIX: PREFIX,
    GATEWAY_API_KEYS: `ops:${KEY}:read+write`,
    WATCH_ENABLED: 'false',
    SLA_POLICY_FILE: policy,
    SLA_LEASE_MS: '3000',
    SLA_TICK_MS: '200',
    ROUTING_RULES: JSON.stringify({ url: ['phishfort', 'netcraft'] })
  })
  ;[a, b] = await Promise.all([listening(spawnGateway(env), 40_000), listening(spawnGateway(env), 40_000)])
  redis = new Redis(inject('redisUrl'), { keyPrefix: PREFIX, lazyConnect: false })
}, 60_000)

afterAll(async () => {
  await killAll()
  await redis?.quit()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

/** the replica's log lines that say it claimed the case's failover */
const claimed = (gw: GatewayProcess, caseId: string): boolean =>
  gw.stdout.some(l => l.includes('sla: step claimed') && l.includes(caseId) && l.includes('"failover"'))

describe('service-level timers across replicas', () => {
  it('the replica performing a failover is SIGKILLed mid-create; the other takes the step over after the lease and files exactly one case', async () => {
    // Netcraft receives the failover's create and never answers it (the vendor has filed nothing)
    const netcraft = sims.netcraft.sim.faults
    netcraft.add({ method: 'POST', path: '/report/$', hang: true, times: 1 })
    const created = await httpRequest(a.origin, '/v1/cases', {
      method: 'POST',
      headers,
      body: { provider: 'phishfort', target: { type: 'url', value: 'https://acme-bank-login.sla-replicas.example/verify' }, brand: { id: 501 }, comment: 'phishing clone of the login page' }
    })
    expect(created.status, created.body).toBe(201)
    const id = (JSON.parse(created.body) as { id: string }).id
    const member = `${id}\u001ffailover`
    // the failover timer is in Redis (A recorded case.created and set it)
    expect(await eventually(async () => await redis.zscore('tgw:v1:sla:{sla}:due', member) !== null, 10_000)).toBe(true)

    // the step is under way: Netcraft holds the create; the replica that claimed it dies
    expect(await eventually(() => netcraft.matched === 1, 30_000)).toBe(true)
    expect(await eventually(() => claimed(a, id) || claimed(b, id), 5000)).toBe(true)
    expect(claimed(a, id) && claimed(b, id)).toBe(false)
    const [holder, other] = claimed(a, id) ? [a, b] : [b, a]
    holder.child.kill('SIGKILL')
    expect(await holder.exited).toBe('SIGKILL')

    const failedOver = async (): Promise<Array<{ data: { failover: { caseId: string | null, provider: string | null } } }>> =>
      (JSON.parse((await httpRequest(other.origin, `/v1/events?types=case.failed_over&caseId=${encodeURIComponent(id)}`, { headers })).body) as { items: never[] }).items
    expect(await eventually(async () => (await failedOver()).length > 0, 30_000, 250)).toBe(true)
    // its log says it took the step (lines reach stdout within a second: the logger writes asynchronously)
    expect(await eventually(() => claimed(other, id), 5000)).toBe(true)
    const [event] = await failedOver()
    const newId = event?.data.failover.caseId as string
    expect(event?.data.failover.provider).toBe('netcraft')
    expect(newId.startsWith('netcraft:')).toBe(true)
    // the step is done: its timer and lease are gone, so no tick acts on it again
    expect(await eventually(async () => await redis.zscore('tgw:v1:sla:{sla}:due', member) === null && await redis.zscore('tgw:v1:sla:{sla}:leases', member) === null, 10_000)).toBe(true)
    expect(await failedOver()).toHaveLength(1)
    expect(netcraft.matched).toBe(1)
    const list = JSON.parse((await httpRequest(other.origin, `/v1/cases?provider=netcraft&q=${encodeURIComponent('sla-replicas.example')}`, { headers })).body) as { items: Array<{ id: string }> }
    expect(list.items.map(c => c.id)).toEqual([newId])
    // linked both ways (the new case falls under the netcraft-urls rule)
    const slaOf = async (caseId: string): Promise<{ relatedCaseIds: string[] }> =>
      (JSON.parse((await httpRequest(other.origin, `/v1/cases/${encodeURIComponent(caseId)}`, { headers })).body) as { sla: { relatedCaseIds: string[] } }).sla
    expect((await slaOf(id)).relatedCaseIds).toEqual([newId])
    expect((await slaOf(newId)).relatedCaseIds).toEqual([id])
  }, 90_000)
})
