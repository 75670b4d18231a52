/**
 * Circuit breaker and bulkhead around a connector (connectors/resilience.ts), with a port double whose answers the
 * test scripts, and the circuit state as GET /v1/providers reports it against the real simulators.
 */
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectorError, type ConnectorErrorKind, type ProviderConnector } from '../../src/connectors/connector.js'
import { ProviderResilience, resilientConnector } from '../../src/connectors/resilience.js'
import type { CaseDetail } from '../../src/schemas/case.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { testCtx } from '../support/connectors.js'
import { NO_CAPABILITIES } from '../support/fake-connector.js'
import { eventually } from '../support/receiver.js'

type Script = () => Promise<CaseDetail>

function scripted (): { connector: ProviderConnector, next: { fn: Script }, calls: () => number } {
  const next = { fn: async (): Promise<CaseDetail> => ({ id: 'phishfort:1' }) as unknown as CaseDetail }
  let calls = 0
  const connector: ProviderConnector = {
    id: 'phishfort',
    capabilities: NO_CAPABILITIES,
    listCases: async () => ({ items: [], next: null }),
    getCase: async () => { calls++; return await next.fn() },
    listReference: async () => null
  }
  return { connector, next, calls: () => calls }
}

const failing = (kind: ConnectorErrorKind): Script => async () => { throw new ConnectorError('phishfort', kind, `scripted ${kind}`) }

async function kindOf (p: Promise<unknown>): Promise<{ kind: string, retryAfter: number | null, message: string }> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConnectorError)
  const e = err as ConnectorError
  return { kind: e.kind, retryAfter: e.retryAfter, message: e.message }
}

describe('circuit breaker per provider', () => {
  const opts = { failureThreshold: 3, halfOpenAfterMs: 200, maxConcurrency: 4, maxQueue: 2 }

  it('opens after consecutive unavailable/timeout/protocol failures, then fails fast with unavailable and a retryAfter', async () => {
    const { connector, next, calls } = scripted()
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector(connector, res)
    for (const kind of ['unavailable', 'timeout', 'protocol'] as const) {
      next.fn = failing(kind)
      expect((await kindOf(c.getCase('1', { raw: false }, testCtx()))).kind).toBe(kind)
    }
    expect(res.state).toBe('open')
    const before = calls()
    const open = await kindOf(c.getCase('1', { raw: false }, testCtx()))
    expect(open.kind).toBe('unavailable')
    expect(open.retryAfter).toBe(1)
    expect(open.message).toMatch(/circuit open/)
    expect(calls()).toBe(before) // the vendor was not called
  })

  it('guards the methods of a capability object like the port\'s own: an open circuit fails them fast', async () => {
    const { connector, next } = scripted()
    let scans = 0
    const withApi: ProviderConnector = {
      ...connector,
      brandProtection: {
        listMonitors: async () => [],
        createMonitor: async () => { throw new Error('not scripted') },
        deleteMonitor: async () => {},
        submitScans: async () => { scans++; throw new ConnectorError('phishfort', 'unavailable', 'scripted unavailable') },
        scanInfo: async () => []
      }
    }
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector(withApi, res)
    expect(c.brandProtection).toBe(c.brandProtection) // one guarded object, not one per read
    for (let i = 0; i < opts.failureThreshold; i++) expect((await kindOf(c.brandProtection!.submitScans(['https://x.example/'], testCtx()))).kind).toBe('unavailable')
    expect(res.state).toBe('open')
    next.fn = async () => ({ id: 'phishfort:1' }) as unknown as CaseDetail
    const open = await kindOf(c.brandProtection!.listMonitors(testCtx()))
    expect(open.message).toMatch(/circuit open/)
    expect(scans).toBe(opts.failureThreshold)
  })

  it('never opens when callers go away (client disconnects say nothing about the vendor)', async () => {
    const { connector, next } = scripted()
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector(connector, res)
    next.fn = async () => { throw new ConnectorError('phishfort', 'timeout', 'the caller cancelled the request', { cancelled: true }) }
    for (let i = 0; i < opts.failureThreshold * 2; i++) expect((await kindOf(c.getCase('1', { raw: false }, testCtx()))).kind).toBe('timeout')
    expect(res.state).toBe('closed')
  })

  it('never opens on not_found, rejected or auth (a healthy vendor\'s answers)', async () => {
    const { connector, next } = scripted()
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector(connector, res)
    for (const kind of ['not_found', 'rejected', 'auth', 'not_found', 'rejected', 'auth'] as const) {
      next.fn = failing(kind)
      expect((await kindOf(c.getCase('1', { raw: false }, testCtx()))).kind).toBe(kind)
    }
    expect(res.state).toBe('closed')
  })

  it('half-opens after the delay: a successful trial closes it, a failed one opens it again', async () => {
    const { connector, next } = scripted()
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector(connector, res)
    next.fn = failing('unavailable')
    for (let i = 0; i < 3; i++) await kindOf(c.getCase('1', { raw: false }, testCtx()))
    expect(res.state).toBe('open')
    expect(await eventually(() => res.state === 'half_open')).toBe(true)
    await kindOf(c.getCase('1', { raw: false }, testCtx())) // failed trial
    expect(res.state).toBe('open')
    expect(await eventually(() => res.state === 'half_open')).toBe(true)
    next.fn = async () => ({ id: 'phishfort:1' }) as unknown as CaseDetail
    await expect(c.getCase('1', { raw: false }, testCtx())).resolves.toEqual({ id: 'phishfort:1' })
    expect(res.state).toBe('closed')
  })

  it('while the trial call runs, other calls fail fast instead of waiting for it', async () => {
    const { connector, next } = scripted()
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector(connector, res)
    next.fn = failing('timeout')
    for (let i = 0; i < 3; i++) await kindOf(c.getCase('1', { raw: false }, testCtx()))
    expect(await eventually(() => res.state === 'half_open')).toBe(true)
    let release = (): void => {}
    next.fn = async () => await new Promise(resolve => { release = () => resolve({ id: 'phishfort:1' } as unknown as CaseDetail) })
    const trial = c.getCase('1', { raw: false }, testCtx())
    let trialEnded = false
    trial.then(() => { trialEnded = true }, () => { trialEnded = true })
    // the other call fails while the trial is still waiting for its vendor answer
    expect((await kindOf(c.getCase('1', { raw: false }, testCtx()))).kind).toBe('unavailable')
    expect(trialEnded).toBe(false)
    release()
    await expect(trial).resolves.toEqual({ id: 'phishfort:1' })
    expect(res.state).toBe('closed')
  })

  const prepared = { method: 'POST', path: '/v1/incident/tkd', contentType: 'application/json', body: {}, files: [] } as const
  const submitted = async (c: ProviderConnector): Promise<unknown> => await c.submitCreate!({ ...prepared, files: [] }, {} as never, testCtx()).catch((e: unknown) => e)

  it('opens on creates failing in a row although the duplicate-check reads between them succeed', async () => {
    const { connector } = scripted()
    let creates = 0
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector({
      ...connector,
      findOpenCase: async () => null,
      submitCreate: async () => { creates++; throw new ConnectorError('phishfort', 'unavailable', 'HTTP 503', { upstreamStatus: 503 }) }
    }, res)
    for (let i = 0; i < opts.failureThreshold; i++) {
      await expect(c.findOpenCase!({ type: 'url', value: 'https://acme-login.example/' }, testCtx())).resolves.toBeNull()
      expect(await submitted(c)).toMatchObject({ kind: 'unavailable', upstreamStatus: 503 })
    }
    expect(res.state).toBe('open')
    // the next create fails fast and never reaches the vendor
    expect(await submitted(c)).toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/circuit open/) })
    expect(creates).toBe(opts.failureThreshold)
  })

  it('starts the counts again when the circuit closes: a good trial read leaves earlier create failures behind', async () => {
    const { connector } = scripted()
    const res = new ProviderResilience('phishfort', opts)
    const c = resilientConnector({ ...connector, submitCreate: async () => { throw new ConnectorError('phishfort', 'timeout', 'no answer') } }, res)
    for (let i = 0; i < opts.failureThreshold; i++) await submitted(c)
    expect(res.state).toBe('open')
    expect(await eventually(() => res.state === 'half_open')).toBe(true)
    await expect(c.getCase('1', { raw: false }, testCtx())).resolves.toEqual({ id: 'phishfort:1' })
    expect(res.state).toBe('closed')
    expect(await submitted(c)).toMatchObject({ kind: 'timeout', message: 'no answer' })
    expect(res.state).toBe('closed')
  })

  it('keeps optional methods absent when the connector lacks them, and leaves prepareCreate unguarded', () => {
    const { connector } = scripted()
    const c = resilientConnector(connector, new ProviderResilience('phishfort', opts))
    expect(c.cancel).toBeUndefined()
    expect(c.submitCreate).toBeUndefined()
    expect(c.prepareCreate).toBeUndefined()
    expect(c.capabilities).toBe(NO_CAPABILITIES)
  })
})

describe('bulkhead per provider', () => {
  it('runs maxConcurrency calls, queues maxQueue more, refuses the rest fast with unavailable + retryAfter', async () => {
    const { connector, next, calls } = scripted()
    const res = new ProviderResilience('phishfort', { failureThreshold: 5, halfOpenAfterMs: 1000, maxConcurrency: 2, maxQueue: 1 })
    const c = resilientConnector(connector, res)
    const release: Array<() => void> = []
    next.fn = async () => await new Promise(resolve => { release.push(() => resolve({ id: 'phishfort:1' } as unknown as CaseDetail)) })
    const running = [c.getCase('1', { raw: false }, testCtx()), c.getCase('2', { raw: false }, testCtx()), c.getCase('3', { raw: false }, testCtx())]
    await new Promise(resolve => setImmediate(resolve))
    expect(res.load).toEqual({ running: 2, queued: 1 })
    const refused = await kindOf(c.getCase('4', { raw: false }, testCtx()))
    expect(refused).toMatchObject({ kind: 'unavailable', retryAfter: 1 })
    expect(refused.message).toMatch(/2 calls in flight, 1 queued/)
    while (release.length > 0 || calls() < 3) {
      release.shift()?.()
      await new Promise(resolve => setImmediate(resolve))
    }
    await expect(Promise.all(running)).resolves.toHaveLength(3)
    expect(res.state).toBe('closed') // refusals do not count against the vendor
  })

  it('a queued call ends with timeout at its deadline and never reaches the vendor', async () => {
    const { connector, next, calls } = scripted()
    const res = new ProviderResilience('phishfort', { failureThreshold: 5, halfOpenAfterMs: 1000, maxConcurrency: 1, maxQueue: 4 })
    const c = resilientConnector(connector, res)
    let release = (): void => {}
    next.fn = async () => await new Promise(resolve => { release = () => resolve({ id: 'phishfort:1' } as unknown as CaseDetail) })
    const first = c.getCase('1', { raw: false }, testCtx())
    // the slot stays taken until release(): only the queued call's own deadline can end it
    expect((await kindOf(c.getCase('2', { raw: false }, testCtx(150)))).kind).toBe('timeout')
    release()
    await first
    await new Promise(resolve => setImmediate(resolve)) // a queued call released with the slot would have started by now
    expect(calls()).toBe(1)
  })
})

describe('GET /v1/providers reports the circuit', () => {
  let gw: TestGateway | undefined
  afterEach(async () => { await gw?.close(); gw = undefined })

  it('closed, then open after failing vendor calls (503 + Retry-After for reads), then half_open, then closed after a good trial', async () => {
    gw = await testGateway({ env: { CIRCUIT_FAILURE_THRESHOLD: '2', CIRCUIT_HALF_OPEN_AFTER_MS: '300', PHISHFORT_TIMEOUT_MS: '300' } })
    const circuits = async (): Promise<Record<string, string>> => {
      const res = await gw!.app.inject({ method: 'GET', url: '/v1/providers', headers: auth() })
      expect(res.statusCode).toBe(200)
      return Object.fromEntries(res.json().items.map((p: { id: string, circuit: string }) => [p.id, p.circuit]))
    }
    const allClosed = Object.fromEntries(PROVIDER_IDS.map(id => [id, 'closed']))
    expect(await circuits()).toEqual(allClosed)
    gw.sandbox.running.phishfort.sim.faults.add({ hang: true })
    for (let i = 0; i < 2; i++) {
      const res = await gw.app.inject({ method: 'GET', url: '/v1/cases/phishfort:abc', headers: auth() })
      expect(res.statusCode).toBe(504)
    }
    expect(await circuits()).toEqual({ ...allClosed, phishfort: 'open' })
    const fast = await gw.app.inject({ method: 'GET', url: '/v1/cases/phishfort:abc', headers: auth() })
    expect(fast.statusCode).toBe(503)
    expect(fast.json()).toMatchObject({ code: 'GW_ERR_PROVIDER_UNAVAILABLE', provider: 'phishfort' })
    expect(fast.headers['retry-after']).toBe('1')
    expect(await eventually(async () => (await circuits()).phishfort === 'half_open')).toBe(true)
    gw.sandbox.running.phishfort.sim.faults.clear()
    const list = await gw.app.inject({ method: 'GET', url: '/v1/cases?provider=phishfort&limit=1', headers: auth() })
    expect(list.statusCode).toBe(200)
    expect((await circuits()).phishfort).toBe('closed')
  })
})
