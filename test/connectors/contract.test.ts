/**
 * The connector contract: every registered provider, its real connector against its own simulator over loopback.
 * A provider added to providers/registry.ts runs this suite without any edit here.
 */
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectorError, type CreateCaseInput, type ProviderConnector } from '../../src/connectors/connector.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import type { Case } from '../../src/schemas/case.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import { StatusEngine } from '../../src/status/engine.js'
import { STATUS_TABLES } from '../../src/providers/registry.js'
import { connectorHarness, testCtx, type ConnectorHarness } from '../support/connectors.js'

/** The create body of the module's example as the connector receives it (services/writes.ts does the same). */
function exampleInput (id: (typeof PROVIDER_IDS)[number], value: string): CreateCaseInput {
  const body = PROVIDER_MODULES[id].exampleCreate({ type: 'url', value }) as {
    brand?: { id?: string | number, name?: string }, comment?: string, reportedBy?: string, providerOptions?: Record<string, unknown>
  }
  return {
    action: 'takedown',
    target: { type: 'url', value },
    brand: { id: body.brand?.id ?? null, name: body.brand?.name ?? null },
    comment: body.comment ?? null,
    reportedBy: body.reportedBy ?? null,
    clientId: null,
    social: null,
    providerOptions: body.providerOptions ?? {},
    attachments: []
  }
}

async function walk (connector: ProviderConnector, pageSize: number): Promise<Case[]> {
  const out: Case[] = []
  let token: string | null = null
  for (let i = 0; i < 500; i++) {
    const page = await connector.listCases({ pageToken: token, pageSize, filters: {} }, testCtx())
    expect(page.items.length).toBeLessThanOrEqual(pageSize)
    out.push(...page.items)
    token = page.next
    if (token === null) return out
  }
  throw new Error('the walk did not end')
}

async function failure (p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConnectorError)
  return err as ConnectorError
}

describe.each(PROVIDER_IDS)('connector contract: %s against its simulator', (id) => {
  let h: ConnectorHarness
  beforeAll(async () => { h = await connectorHarness(id, { seed: 11 }) })
  afterAll(async () => { await h.close() })

  it('lists every case once, newest first, paging to the end with any page size', async () => {
    const all = await walk(h.connector, 1000)
    expect(all.length).toBeGreaterThanOrEqual(20)
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i]!.createdAt)).toBeLessThanOrEqual(Date.parse(all[i - 1]!.createdAt))
    for (const size of [1, 7]) {
      const paged = await walk(h.connector, size)
      expect(new Set(paged.map(c => c.id)).size).toBe(all.length)
      expect([...paged.map(c => c.id)].sort()).toEqual([...all.map(c => c.id)].sort())
    }
    for (const c of all) {
      expect(c.provider).toBe(id)
      expect(c.id).toBe(`${id}:${c.providerCaseId}`)
      expect(c.providerCaseId).toMatch(PROVIDER_MODULES[id].ids.case)
    }
  })

  it('maps each vendor status through its table; a word the table lacks is unknown, kept and reported', async () => {
    const all = await walk(h.connector, 1000)
    expect(new Set(all.filter(c => c.status !== 'unknown').map(c => c.status)).size).toBeGreaterThanOrEqual(4)
    const unknown = all.filter(c => c.status === 'unknown')
    for (const c of unknown) expect(c.providerStatus).not.toBeNull()
    expect(new Set(h.unknown.map(u => u.providerStatus))).toEqual(new Set(unknown.map(c => c.providerStatus)))
    // the same answer as the status table alone gives for each vendor word (lookup tables; rule tables need facts)
    if (STATUS_TABLES[id].kind === 'lookup') {
      const engine = new StatusEngine(STATUS_TABLES)
      for (const c of all) expect(engine.map(id, c.providerStatus).status).toBe(c.status)
    }
  })

  it('gets one case in the detail view, and a case it does not know is not_found', async () => {
    const [first] = await walk(h.connector, 5)
    const detail = await h.connector.getCase(first!.providerCaseId, { raw: true }, testCtx())
    expect(detail.id).toBe(first!.id)
    expect(detail.status).toBe(first!.status)
    expect(Array.isArray(detail.history)).toBe(true)
    expect(detail.raw).toBeDefined()
    const err = await failure(h.connector.getCase('99999998', { raw: false }, testCtx()))
    expect(err.kind).toBe('not_found')
  })

  it('creates a case from the module\'s example body, then reads it back and lists it first', async () => {
    const value = `https://contract-${id}-${Date.now().toString(36)}.example.net/login`
    const input = exampleInput(id, value)
    const prepared = await h.connector.prepareCreate!(input, testCtx())
    const outcome = await h.connector.submitCreate!(prepared, input, testCtx())
    expect(outcome.kind).toBe('created')
    if (outcome.kind !== 'created') return
    expect(outcome.case.provider).toBe(id)
    expect(outcome.case.target.value).toContain(new URL(value).hostname)
    const back = await h.connector.getCase(outcome.case.providerCaseId, { raw: false }, testCtx())
    expect(back.id).toBe(outcome.case.id)
    const page = await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())
    expect(page.items.map(c => c.id)).toContain(outcome.case.id)
  })

  it('a wrong credential is an auth failure, never retried into something else', async () => {
    const m = PROVIDER_MODULES[id]
    const dispatcher = new Agent()
    try {
      const wrong = (await m.connector()).create({ baseUrl: h.running.baseUrl, credential: 'not-the-key', timeoutMs: 2000, options: m.sandbox.options },
        { dispatcher, status: h.status, clock: h.clock })
      expect((await failure(wrong.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx()))).kind).toBe('auth')
    } finally {
      await dispatcher.close()
    }
  })

  it('vendor faults become the documented kinds: 5xx unavailable, 429 rate_limited with Retry-After, garbage protocol', async () => {
    const list = async (): Promise<unknown> => await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())
    try {
      h.sim.faults.add({ method: 'GET', status: 503 })
      const unavailable = await failure(list())
      expect(unavailable.kind).toBe('unavailable')
      expect(unavailable.upstreamStatus).toBe(503)
      h.sim.faults.clear()
      h.sim.faults.add({ method: 'GET', status: 429, retryAfter: 30 })
      const limited = await failure(list())
      expect(limited.kind).toBe('rate_limited')
      expect(limited.retryAfter).toBe(30)
      h.sim.faults.clear()
      h.sim.faults.add({ method: 'GET', malformed: true })
      expect((await failure(list())).kind).toBe('protocol')
    } finally {
      h.sim.faults.clear()
    }
    expect((await walk(h.connector, 1000)).length).toBeGreaterThan(0)
  })
})
