/**
 * Several replicas: two real gateway processes in live mode on one Redis (the suite's, under a key prefix
 * of their own) against one set of simulators in this process. Shows that inbound rate limits, Idempotency-Key
 * records and reference loads are shared, and that a replica stopped with SIGTERM turns unready, finishes its
 * in-flight request and exits 0 while a load-balancer-like client loses no request.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import type { RunningSimulator } from '../../src/simulators/harness.js'
import { httpRequest, killAll, listening, replicaEnv, spawnGateway, startVendors, type GatewayProcess, type HttpAnswer } from '../support/gateway-process.js'
import { waitFor } from '../support/wait.js'

const RATE_LIMIT_MAX = 12
const LB_KEYS = 40
const SHUTDOWN_DELAY_MS = 800
const SLOW_MS = 2500
const keyOf = (name: string): string => `${name}-secret-${name.length}-key-0123456789`

let sims: Record<ProviderId, RunningSimulator>
let a: GatewayProcess
let b: GatewayProcess

const bearer = (name: string): Record<string, string> => ({ authorization: `Bearer ${keyOf(name)}` })

beforeAll(async () => {
  sims = await startVendors(systemClock, 3)
  const names = ['ops', 'rl', 'idem', ...Array.from({ length: LB_KEYS }, (_, i) => `lb${i}`)]
  const env: Record<string, string> = replicaEnv(sims, 'replicas', {
    GATEWAY_API_KEYS: names.map(n => `${n}:${keyOf(n)}:read+write`).join(','),
    RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
    RATE_LIMIT_WINDOW_MS: '60000',
    SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS)
  })
  ;[a, b] = await Promise.all([listening(spawnGateway(env)), listening(spawnGateway(env))])
}, 40_000)

afterAll(async () => {
  await killAll()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

describe('two gateway processes on one Redis', () => {
  it('both are ready and in live mode', async () => {
    for (const gw of [a, b]) {
      expect((await httpRequest(gw.origin, '/readyz')).status).toBe(200)
      const providers = JSON.parse((await httpRequest(gw.origin, '/v1/providers', { headers: bearer('ops') })).body)
      expect(providers.items.map((p: { mode: string }) => p.mode)).toEqual(PROVIDER_IDS.map(() => 'live'))
    }
  })

  it('loads a cold reference key from the vendor once for both replicas', async () => {
    const vendor = sims.bforeai.sim
    vendor.faults.add({ method: 'GET', latencyMs: 300 }) // both replicas ask while the first load is under way
    const before = vendor.stats.total()
    const path = '/v1/reference/takedown-types?provider=bforeai'
    const [ra, rb] = await Promise.all([a, b].map(async gw => await httpRequest(gw.origin, path, { headers: bearer('ops') })))
    vendor.faults.clear()
    expect([ra!.status, rb!.status]).toEqual([200, 200])
    expect(vendor.stats.total() - before).toBe(1)
    const cacheStatus = [ra!.headers['cache-status'], rb!.headers['cache-status']].map(String).sort()
    expect(cacheStatus[0]).toMatch(/collapsed/)
    expect(cacheStatus[1]).not.toMatch(/collapsed/)
    expect(JSON.parse(ra!.body).items).toEqual(JSON.parse(rb!.body).items)
  })

  it('shares the inbound rate limit of a key across replicas', async () => {
    const statuses: number[] = []
    for (let i = 0; i < RATE_LIMIT_MAX + 6; i++) {
      statuses.push((await httpRequest(i % 2 === 0 ? a.origin : b.origin, '/v1/providers', { headers: bearer('rl') })).status)
    }
    expect(statuses.slice(0, RATE_LIMIT_MAX)).toEqual(Array(RATE_LIMIT_MAX).fill(200))
    expect(statuses.slice(RATE_LIMIT_MAX)).toEqual(Array(6).fill(429)) // each replica alone would still allow 6 more
    const other = await httpRequest(b.origin, '/v1/providers', { headers: bearer('ops') })
    expect(other.status).toBe(200) // per key, not global
  })

  it('replays an Idempotency-Key on the other replica without a second vendor create', async () => {
    const creates = (): number => [...sims.phishfort.sim.stats.counts].filter(([k]) => k.startsWith('POST ') && /incident\/tkd$/.test(k)).reduce((n, [, v]) => n + v, 0)
    const before = creates()
    const body = { provider: 'phishfort', target: { type: 'url', value: `https://replica-${Date.now().toString(36)}.example.net/login` }, comment: 'clone' }
    const headers = { ...bearer('idem'), 'idempotency-key': `replica-${randomUUID()}` }
    const first = await httpRequest(a.origin, '/v1/cases', { method: 'POST', headers, body })
    expect(first.status, first.body).toBe(201)
    const second = await httpRequest(b.origin, '/v1/cases', { method: 'POST', headers, body })
    expect(second.status).toBe(201)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(JSON.parse(second.body).id).toBe(JSON.parse(first.body).id)
    expect(creates() - before).toBe(1)
  })

  it('stops one replica with SIGTERM: unready first, in-flight request finished, exit 0, no failed client request', async () => {
    const list = JSON.parse((await httpRequest(b.origin, '/v1/cases?provider=phishfort&limit=1', { headers: bearer('ops') })).body)
    const caseId = list.items[0].id as string
    // warm the cache the load loop reads, so the loop does not depend on vendor latency
    await httpRequest(b.origin, '/v1/reference/takedown-types?provider=bforeai', { headers: bearer('ops') })

    // a load balancer: alternate, and on a connection error (refused, reset) retry once on the other replica
    const flags = { stop: false, polling: true }
    const result = { ok: 0, failed: [] as string[], fellBack: 0, servedBy: { a: 0, b: 0 } }
    const loop = (async () => {
      for (let i = 0; !flags.stop; i++) {
        const path = i % 3 === 0 ? '/v1/reference/takedown-types?provider=bforeai' : '/v1/providers'
        const headers = bearer(`lb${i % LB_KEYS}`)
        const order = i % 2 === 0 ? [a, b] : [b, a]
        let answer: HttpAnswer | null = null
        let by = ''
        for (const [n, gw] of order.entries()) {
          try {
            answer = await httpRequest(gw.origin, path, { headers })
            by = gw === a ? 'a' : 'b'
            if (n > 0) result.fellBack++
            break
          } catch (err) {
            if (n === order.length - 1) result.failed.push(`${path}: ${(err as Error).message}`)
          }
        }
        if (answer !== null) {
          if (answer.status === 200) { result.ok++; result.servedBy[by as 'a' | 'b']++ } else result.failed.push(`${path} on ${by}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`)
        }
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    })()

    // readiness of the stopping replica, sampled every 50 ms
    const readiness: string[] = []
    const poller = (async () => {
      while (flags.polling) {
        try {
          const r = await httpRequest(a.origin, '/readyz', { timeoutMs: 1000 })
          readiness.push(`${r.status}${r.status === 503 ? ` ${JSON.parse(r.body).reason as string}` : ''}`)
        } catch (err) {
          readiness.push(`error ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
        }
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    })()

    await waitFor('replica A serving and its readiness sampled', () => result.servedBy.a > 0 && readiness.length > 0)
    const matched = sims.phishfort.sim.faults.matched
    sims.phishfort.sim.faults.add({ method: 'GET', latencyMs: SLOW_MS, times: 1 })
    const t0 = Date.now()
    const slow = httpRequest(a.origin, `/v1/cases/${encodeURIComponent(caseId)}`, { headers: bearer('ops'), timeoutMs: 15_000 })
      .then(r => ({ ...r, at: Date.now() }), (err: Error) => ({ status: -1, headers: {}, body: err.message, at: Date.now() }))
    await waitFor('the slow request at the vendor', () => sims.phishfort.sim.faults.matched > matched)
    a.child.kill('SIGTERM')
    const code = await a.exited
    const exitedAt = Date.now()
    const slowAnswer = await slow
    const okAtExit = result.ok
    await waitFor('a few more requests with only B left', () => result.ok >= okAtExit + 3)
    flags.stop = true
    flags.polling = false
    await Promise.all([loop, poller])
    sims.phishfort.sim.faults.clear()

    expect(code).toBe(0)
    expect(slowAnswer.status, slowAnswer.body).toBe(200)
    expect(JSON.parse(slowAnswer.body).id).toBe(caseId)
    expect(slowAnswer.at - t0).toBeGreaterThanOrEqual(SLOW_MS - 50)
    expect(slowAnswer.at).toBeLessThanOrEqual(exitedAt + 50) // answered before the process ended
    expect(readiness[0]).toBe('200')
    expect(readiness).toContain('503 shutting down')
    expect(readiness.at(-1)).toMatch(/^error ECONNREFUSED/)
    expect(result.failed).toEqual([])
    expect(result.fellBack).toBeGreaterThan(0)
    expect(result.servedBy.a).toBeGreaterThan(0)
    expect(result.ok).toBeGreaterThan(20)
    expect(a.stdout.some(l => l.includes('shutting down: readiness is 503'))).toBe(true)
    console.log(`[replicas] SIGTERM drill: ${result.ok} requests ok (a ${result.servedBy.a}, b ${result.servedBy.b}), ${result.fellBack} fell back to b, ` +
      `0 failed; slow request answered after ${slowAnswer.at - t0} ms, exit ${String(code)} ${exitedAt - slowAnswer.at} ms later; readiness ${[...new Set(readiness)].join(' → ')}`)
    // the other replica still serves
    expect((await httpRequest(b.origin, '/readyz')).status).toBe(200)
  }, 30_000)
})
