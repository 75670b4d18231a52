/**
 * Service-level timers across processes: two real gateway processes in live mode on the suite's Redis (a key prefix
 * of their own) against one set of simulators in this process. A case created through replica A gets its failover
 * timer in Redis; A is SIGKILLed before the timer is due; replica B takes the step on its own tick and files exactly
 * one case at the next provider of the routing order, recorded once as case.failed_over.
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
import { httpRequest, killAll, listening, liveVendorEnv, spawnGateway, startVendors, type GatewayProcess } from '../../support/gateway-process.js'
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
  writeFileSync(policy, JSON.stringify({ rules: [{ id: 'fast-failover', match: { provider: 'phishfort', targetType: 'url' }, downWithin: 'PT1H', failoverAfter: 'PT6S' }] }))
  const env: Record<string, string> = {
    ...liveVendorEnv(sims),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: PREFIX,
    GATEWAY_SECRET: 'sla-replicas-test-secret-0123456789',
    GATEWAY_API_KEYS: `ops:${KEY}:read+write`,
    MAX_EVENT_LOOP_DELAY_MS: '0',
    WATCH_ENABLED: 'false',
    SLA_POLICY_FILE: policy
  }
  ;[a, b] = await Promise.all([listening(spawnGateway(env), 40_000), listening(spawnGateway(env), 40_000)])
  redis = new Redis(inject('redisUrl'), { keyPrefix: PREFIX, lazyConnect: false })
}, 60_000)

afterAll(async () => {
  await killAll()
  await redis?.quit()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

describe('service-level timers across replicas', () => {
  it('a replica SIGKILLed before the failover is due leaves it to the other, which files exactly one case', async () => {
    const created = await httpRequest(a.origin, '/v1/cases', {
      method: 'POST',
      headers,
      body: { provider: 'phishfort', target: { type: 'url', value: 'https://acme-bank-login.sla-replicas.example/verify' }, brand: { id: 501 }, comment: 'phishing clone of the login page' }
    })
    expect(created.status, created.body).toBe(201)
    const id = (JSON.parse(created.body) as { id: string }).id
    // the failover timer is in Redis (A recorded case.created and set it)
    expect(await eventually(async () => await redis.zcard('tgw:v1:sla:{sla}:due') > 0, 10_000)).toBe(true)
    a.child.kill('SIGKILL')
    expect(await a.exited).toBe('SIGKILL')

    const failedOver = async (): Promise<Array<{ data: { failover: { caseId: string | null, provider: string | null } } }>> =>
      (JSON.parse((await httpRequest(b.origin, `/v1/events?types=case.failed_over&caseId=${encodeURIComponent(id)}`, { headers })).body) as { items: never[] }).items
    expect(await eventually(async () => (await failedOver()).length > 0, 30_000, 250)).toBe(true)
    const [event] = await failedOver()
    const next = event?.data.failover.provider as string
    const newId = event?.data.failover.caseId as string
    expect(next).not.toBe('phishfort')
    expect(newId.startsWith(`${next}:`)).toBe(true)
    // one more tick of B finds nothing to do: still one event, one case at the next provider
    await new Promise(resolve => setTimeout(resolve, 6000))
    expect(await failedOver()).toHaveLength(1)
    const list = JSON.parse((await httpRequest(b.origin, `/v1/cases?provider=${next}&q=${encodeURIComponent('sla-replicas.example')}`, { headers })).body) as { items: Array<{ id: string }> }
    expect(list.items.map(c => c.id)).toEqual([newId])
    const detail = JSON.parse((await httpRequest(b.origin, `/v1/cases/${encodeURIComponent(id)}`, { headers })).body) as { sla: { relatedCaseIds: string[] } }
    expect(detail.sla.relatedCaseIds).toEqual([newId])
  }, 60_000)
})
