/**
 * VERIFY_ON_REAPPEAR=resubmit across two real gateway processes on one Redis, one of them SIGKILLed while it acts on
 * the re-emergence: exactly one new case is filed (at the same provider, or the next of the routing order), linked
 * both ways by `relatedCaseIds`. The processes run in live mode against simulators in this process; their probes ask
 * a loopback DNS server (VERIFY_DNS_SERVERS) and leave through a loopback proxy (VERIFY_PROXY_URL) that serves the
 * fixture site, so no probe leaves the machine. Every wait is on a condition.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { PROVIDER_IDS, type ProviderId } from '../../../src/schemas/provider.js'
import type { RunningSimulator } from '../../../src/simulators/harness.js'
import { startFixtureInternet, type FixtureInternet } from '../../support/fixture-internet.js'
import { httpRequest, killAll, listening, replicaEnv, spawnGateway, startVendors, type GatewayProcess } from '../../support/gateway-process.js'

const KEY = 'vresubmit-secret-key-0123456789'
const headers = { authorization: `Bearer ${KEY}` }
const HOST = `kit-${randomUUID().slice(0, 8)}.example`
const TARGET = `http://${HOST}/login`
const RESUBMITTING = 'verification: resubmitting a re-emerged target'

/** what the fixture site answers: the kit, or (once, then the kit again) a 404 */
const site = { downOnce: false, requests: 0 }
let sims: Record<ProviderId, RunningSimulator>
let net: FixtureInternet
let replicas: GatewayProcess[] = []
// the simulators' own clock: the test moves the vendor's case to taken_down
const vendorClock = new ManualClock(Date.now())

beforeAll(async () => {
  sims = await startVendors(vendorClock, 11)
  net = await startFixtureInternet((_req, res) => {
    site.requests++
    if (site.downOnce) {
      site.downOnce = false
      res.writeHead(404, { 'content-type': 'text/html' }).end('<title>Not Found</title>')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Acme login</title><form><p>Sign in to Acme online banking to continue</p></form>')
  })
  const env: Record<string, string> = replicaEnv(sims, 'vresubmit', {
    GATEWAY_API_KEYS: `ops:${KEY}:read+write`,
    // no vendor syncs: the only vendor reads are the test's and the resubmit's
    WATCH_ENABLED: 'false',
    VERIFY_ENABLED: 'true',
    VERIFY_DNS_SERVERS: net.dnsServer,
    VERIFY_PROXY_URL: net.proxyUrl,
    VERIFY_TICK_MS: '200',
    VERIFY_CONFIRM_PROBES: '3',
    VERIFY_CONFIRM_SPACING: '1s',
    VERIFY_ON_REAPPEAR: 'resubmit',
    VERIFY_TIMEOUT_MS: '3000',
    VERIFY_PROBES_PER_MINUTE: '1000',
    VERIFY_HOST_PROBES_PER_MINUTE: '1000'
  })
  replicas = await Promise.all([listening(spawnGateway(env)), listening(spawnGateway(env))])
}, 60_000)

afterAll(async () => {
  await killAll()
  await net?.close()
  await Promise.all(PROVIDER_IDS.map(async id => await sims?.[id]?.close()))
})

/** polls `read` until `ok` holds (a condition, not a duration); fails with the last value after `ms` */
async function until<T> (read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  let last: T | undefined
  while (Date.now() < end) {
    last = await read()
    if (ok(last)) return last
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`${what}: still ${JSON.stringify(last)}`)
}

interface Checks { verification: { state: string, relatedCaseIds: string[], checks: number }, items: Array<{ outcome: string }> }
const checks = async (gw: GatewayProcess, id: string): Promise<Checks> =>
  JSON.parse((await httpRequest(gw.origin, `/v1/cases/${encodeURIComponent(id)}/checks?limit=5`, { headers })).body) as Checks

/** creates the simulators received (POSTs other than comments and attachments), all providers */
const creates = (): number => PROVIDER_IDS.reduce((n, id) => n + [...sims[id].sim.stats.counts]
  .filter(([k]) => k.startsWith('POST ') && !/comment|attach|\/token/.test(k)).reduce((m, [, v]) => m + v, 0), 0)

describe('resubmit across two gateway processes, one SIGKILLed mid-run', () => {
  it('files exactly one new case for the re-emergence, linked both ways', async () => {
    const [a, b] = replicas as [GatewayProcess, GatewayProcess]
    const created = await httpRequest(a.origin, '/v1/cases', { method: 'POST', headers, body: { provider: 'phishfort', target: { type: 'url', value: TARGET }, comment: 'clone' } })
    expect(created.status, created.body).toBe(201)
    const id = (JSON.parse(created.body) as { id: string }).id
    const createsBefore = creates()

    // the baseline probe (either replica) sees the kit
    await until(async () => await checks(b, id), c => c.verification.state === 'live', 'baseline probe')

    // the vendor takes it down; a read through B records the change, which starts the confirmation run
    vendorClock.advance(25 * 3_600_000)
    const read = await httpRequest(b.origin, `/v1/cases/${encodeURIComponent(id)}`, { headers })
    expect(JSON.parse(read.body)).toMatchObject({ status: 'taken_down' })
    // the resubmit's first vendor call (a read of the original case) hangs: the replica acting is caught in it
    sims.phishfort.sim.faults.add({ method: 'GET', latencyMs: 20_000 })
    // the first confirmation probe sees a 404, the next one the kit again: a re-emergence
    site.downOnce = true

    const acting = await until(async () => replicas.find(r => r.stdout.some(l => l.includes(RESUBMITTING))) ?? null, r => r !== null, 'a replica acting on the re-emergence')
    if (acting === null) throw new Error('unreachable')
    acting.child.kill('SIGKILL')
    expect(await acting.exited).toBe('SIGKILL')
    sims.phishfort.sim.faults.clear()
    const survivor = acting === a ? b : a
    expect(creates()).toBe(createsBefore)

    // the survivor finds the re-emergence still owed once the dead replica's lease runs out, and completes it
    const original = await until(async () => await checks(survivor, id), c => c.verification.relatedCaseIds.length > 0, 'the link on the original case')
    expect(original.verification).toMatchObject({ state: 'reappeared' })
    const [again] = original.verification.relatedCaseIds
    if (again === undefined) throw new Error('unreachable')
    expect(again).not.toBe(id)
    // the new case is tracked and probed by the survivor, and links back
    const fresh = await until(async () => await checks(survivor, again), c => c.verification.checks > 0, 'the new case\'s baseline probe')
    expect(fresh.verification.relatedCaseIds).toEqual([id])
    // the survivor's own log of its attempt (its stdout reaches this process a little after the write)
    await until(async () => survivor.stdout.some(l => l.includes(RESUBMITTING)), ok => ok, 'the survivor\'s resubmit in its log')

    // the survivor's ticks since the link (the new case's baseline probe was one) filed nothing more
    expect(creates() - createsBefore).toBe(1)
    expect((await checks(survivor, id)).verification.relatedCaseIds).toEqual([again])
    const filed = JSON.parse((await httpRequest(survivor.origin, `/v1/cases/${encodeURIComponent(again)}`, { headers })).body) as { provider: string, target: { value: string } }
    expect(filed.target.value).toBe(TARGET)
    console.log(`[resubmit-replicas] killed ${acting === a ? 'a' : 'b'} while it resubmitted; the survivor filed ${again} at ${filed.provider}; ${site.requests} fixture requests, ${net.questions} DNS questions`)
  }, 120_000)
})
