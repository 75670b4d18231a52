import { afterEach, beforeEach, describe, it, expect } from 'vitest'
import type { Case } from '../../../src/schemas/case.js'
import { ConnectorError, type CreateCaseInput } from '../../../src/connectors/connector.js'
import { connectorHarness, testCtx, type ConnectorHarness } from '../../support/connectors.js'

const MIN = 60_000
const HOUR = 60 * MIN

let h: ConnectorHarness
beforeEach(async () => { h = await connectorHarness('phishfort', { seed: 7 }) })
afterEach(async () => { await h.close() })

async function walk (pageSize: number, filters = {}): Promise<Case[]> {
  const out: Case[] = []
  let token: string | null = null
  for (let i = 0; i < 200; i++) {
    const page = await h.connector.listCases({ pageToken: token, pageSize, filters }, testCtx())
    expect(page.items.length).toBeLessThanOrEqual(pageSize)
    out.push(...page.items)
    token = page.next
    if (token === null) return out
  }
  throw new Error('the walk did not end')
}

function input (over: Partial<CreateCaseInput> = {}): CreateCaseInput {
  return {
    action: 'takedown',
    target: { type: 'url', value: 'https://login-acme.example.io/secure' },
    brand: { id: null, name: null },
    comment: 'credential phishing',
    reportedBy: 'soc@acme.example',
    clientId: null,
    social: null,
    providerOptions: {},
    attachments: [],
    ...over
  }
}

async function create (over: Partial<CreateCaseInput> = {}): Promise<Case> {
  const req = input(over)
  const outcome = await h.connector.submitCreate!(await h.connector.prepareCreate!(req, testCtx()), req, testCtx())
  if (outcome.kind !== 'created') throw new Error('expected created')
  return outcome.case
}

describe('phishfort connector against the simulator: reads', () => {
  it('walking every page returns each seeded case once, newest first, for several page sizes', async () => {
    const reference = await walk(5000)
    expect(reference).toHaveLength(36)
    for (const size of [1, 7, 10, 36, 50]) {
      const cases = await walk(size)
      expect(cases.map(c => c.id)).toEqual(reference.map(c => c.id))
      expect(new Set(cases.map(c => c.id)).size).toBe(36)
      for (let i = 1; i < cases.length; i++) {
        expect(Date.parse(cases[i]!.createdAt)).toBeLessThanOrEqual(Date.parse(cases[i - 1]!.createdAt))
      }
    }
  })

  it('covers every documented status (some only through statusVerbose, written as status values) and every target type, with no unknowns', async () => {
    const cases = await walk(100)
    expect(new Set(cases.map(c => c.status))).toEqual(new Set(['received', 'in_review', 'awaiting_customer', 'in_progress', 'monitoring', 'mitigated', 'taken_down', 'failed', 'closed']))
    expect(new Set(cases.map(c => c.target.type))).toEqual(new Set(['url', 'domain', 'email', 'phone', 'ipv4', 'social']))
    expect(cases.some(c => c.providerStatus === 'takedown_failed' && c.status === 'failed')).toBe(true)
    expect(cases.some(c => c.providerStatus === 'takedown_pending' && c.status === 'in_progress')).toBe(true)
    expect(h.unknown).toEqual([])
    expect(h.sim.stats.get('GET', '/v1/incidents')).toBeGreaterThan(0)
  })

  it('translates a single-status filter and widened dates into vendor filters (a superset of what the gateway wants)', async () => {
    const all = await walk(100)
    const taken = await walk(4, { statuses: ['taken_down'] })
    expect(taken.length).toBeGreaterThan(0)
    expect(taken.map(c => c.id)).toEqual(all.filter(c => c.status === 'taken_down').map(c => c.id))
    const mid = all[10]!.createdAt
    const since = await walk(100, { since: mid })
    expect(since.map(c => c.id)).toEqual(expect.arrayContaining(all.filter(c => c.createdAt >= mid).map(c => c.id)))
    const until = await walk(100, { until: mid })
    expect(until.map(c => c.id)).toEqual(expect.arrayContaining(all.filter(c => c.createdAt < mid).map(c => c.id)))
  })

  it('getCase gives the detail fields and raw on request', async () => {
    const cases = await walk(100)
    const done = cases.find(c => c.providerStatus === 'takedown_success' && c.target.type === 'url') ??
      cases.find(c => c.providerStatus === 'takedown_success')!
    const detail = await h.connector.getCase(done.providerCaseId, { raw: true }, testCtx())
    expect(detail).toMatchObject({ id: done.id, status: 'taken_down', terminal: true })
    expect(detail.history.length).toBeGreaterThanOrEqual(4)
    expect(detail.history.map(e => e.at)).toEqual([...detail.history.map(e => e.at)].sort())
    expect(detail.state).toMatchObject({ contentRemoved: true })
    expect(detail.takedownStartedAt).not.toBeNull()
    expect(detail.resolvedAt).not.toBeNull()
    expect(detail.raw).toMatchObject({ id: done.providerCaseId, status: 'takedown_success' })
    expect((await h.connector.getCase(done.providerCaseId, { raw: false }, testCtx())).raw).toBeUndefined()
  })

  it('an unknown id → not_found', async () => {
    await expect(h.connector.getCase('doesNotExist', { raw: false }, testCtx())).rejects.toMatchObject({ kind: 'not_found' })
  })
})

describe('phishfort connector against the simulator: writes', () => {
  it('create → listed first → moves through the takedown lifecycle as the clock advances', async () => {
    const created = await create()
    expect(created).toMatchObject({ status: 'received', providerStatus: 'pending_review', reportedBy: 'soc@acme.example' })
    expect(created.target).toEqual({ type: 'url', value: 'https://login-acme.example.io/secure', domain: 'login-acme.example.io', host: 'login-acme.example.io', hostUnicode: 'login-acme.example.io', registrableDomain: 'example.io', publicSuffix: 'io', canonicalUrl: 'https://login-acme.example.io/secure' })
    expect(created.links.provider).toBeNull() // no PHISHFORT_DASHBOARD_URL: null on every route, the create's too
    expect(h.sim.stats.get('POST', '/v1/incident/tkd')).toBe(1)
    const first = await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())
    expect(first.items[0]?.id).toBe(created.id)

    const statusAt = async (): Promise<string> => (await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())).status
    h.clock.advance(16 * MIN)
    expect(await statusAt()).toBe('in_review')
    h.clock.advance(2 * HOUR)
    expect(await statusAt()).toBe('in_progress')
    h.clock.advance(24 * HOUR)
    const done = await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())
    expect(done).toMatchObject({ status: 'taken_down', terminal: true })
    expect(done.history.map(e => e.message)).toHaveLength(4)
    expect(done.takedownStartedAt).not.toBeNull()
  })

  it('monitor of a phone number → monitoring after 30 minutes; the comment shows in the history', async () => {
    const created = await create({ action: 'monitor', target: { type: 'phone', value: '+14155550123' }, comment: 'smishing sender' })
    expect(created.target).toMatchObject({ type: 'phone', value: '+14155550123', domain: null })
    expect(h.sim.stats.get('POST', '/v1/incident/monitor')).toBe(1)
    h.clock.advance(31 * MIN)
    const detail = await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())
    expect(detail.status).toBe('monitoring')
    expect(detail.history.some(e => e.message?.includes('smishing sender'))).toBe(true)
  })

  it('creates social, domain, email and ipv4 cases with the right target type', async () => {
    for (const target of [
      { type: 'social', value: 'https://www.facebook.com/acme.support.fake' },
      { type: 'domain', value: 'acme-login.example' },
      { type: 'email', value: 'billing@acme-login.example' },
      { type: 'ipv4', value: '203.0.113.9' }
    ] as const) {
      expect((await create({ target })).target).toMatchObject(target)
    }
  })

  it('multipart create with attachments reaches the vendor', async () => {
    const created = await create({ attachments: [{ filename: 'shot.png', contentType: 'image/png', data: Buffer.alloc(2048, 7) }] })
    const detail = await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())
    expect(detail.history.some(e => e.message?.includes('1 attachment'))).toBe(true)
  })

  it('findOpenCase finds an open incident for the same target, not a closed one, and null when nothing matches', async () => {
    expect(await h.connector.findOpenCase!({ type: 'url', value: 'https://login-acme.example.io/secure' }, testCtx())).toBeNull()
    const created = await create()
    const found = await h.connector.findOpenCase!({ type: 'url', value: 'https://login-acme.example.io/secure' }, testCtx())
    expect(found?.id).toBe(created.id)
    h.clock.advance(30 * HOUR)
    expect(await h.connector.findOpenCase!({ type: 'url', value: 'https://login-acme.example.io/secure' }, testCtx())).toBeNull()
    expect(h.sim.stats.get('GET', '/v1/incident/subject/:subject')).toBe(3)
  })

  it('a duplicate report makes a second incident at the vendor (the gateway must use findOpenCase)', async () => {
    const a = await create()
    const b = await create()
    expect(a.id).not.toBe(b.id)
    expect(h.sim.stats.get('POST', '/v1/incident/tkd')).toBe(2)
  })

  it('actions move the lifecycle: monitor → takedown → case building; mark-safe → closed after review', async () => {
    const created = await create({ action: 'monitor', target: { type: 'domain', value: 'watch-me.example' } })
    h.clock.advance(31 * MIN)
    expect((await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())).status).toBe('monitoring')
    await h.connector.performAction!(created.providerCaseId, 'takedown', testCtx())
    expect((await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())).providerStatus).toBe('case_building')
    await h.connector.performAction!(created.providerCaseId, 'mark-safe', testCtx())
    h.clock.advance(61 * MIN)
    const closed = await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())
    expect(closed).toMatchObject({ status: 'closed', terminal: true })
    // the takedown plan was superseded by the mark-safe request
    h.clock.advance(48 * HOUR)
    expect((await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())).status).toBe('closed')
    await h.connector.performAction!(created.providerCaseId, 'monitor', testCtx())
    expect((await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())).status).toBe('monitoring')
  })

  it('comments and attachments are added to an existing incident', async () => {
    const created = await create()
    await h.connector.addComment!(created.providerCaseId, 'the page now asks for 2FA codes', testCtx())
    await h.connector.addAttachments!(created.providerCaseId, [
      { filename: 'a.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4') },
      { filename: 'b.txt', contentType: 'text/plain', data: Buffer.from('headers') }
    ], testCtx())
    const messages = (await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())).history.map(e => e.message)
    expect(messages).toEqual(expect.arrayContaining(['Client comment: the page now asks for 2FA codes', '2 attachment(s) added']))
    await expect(h.connector.addComment!('nope', 'x', testCtx())).rejects.toMatchObject({ kind: 'not_found' })
  })
})

describe('phishfort connector against the simulator: faults', () => {
  it('a 503 once is retried and the read succeeds', async () => {
    h.sim.faults.add({ status: 503, times: 1 })
    const page = await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())
    expect(page.items).toHaveLength(5)
    expect(h.sim.stats.get('GET', '/v1/incidents')).toBe(2)
  })

  it('a hanging vendor → timeout', async () => {
    await h.close()
    h = await connectorHarness('phishfort', { timeoutMs: 300 })
    h.sim.faults.add({ hang: true })
    const err = await h.connector.getCase('any', { raw: false }, testCtx()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectorError)
    expect((err as ConnectorError).kind).toBe('timeout')
  })

  it('a 429 with Retry-After past the deadline → rate_limited with retryAfter; a malformed body → protocol', async () => {
    h.sim.faults.add({ status: 429, retryAfter: 60, times: 1 })
    await expect(h.connector.getCase('x', { raw: false }, testCtx())).rejects.toMatchObject({ kind: 'rate_limited', retryAfter: 60 })
    h.sim.faults.add({ malformed: true, times: 1 })
    await expect(h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())).rejects.toMatchObject({ kind: 'protocol' })
  })

  it('a create is not retried after a 503', async () => {
    h.sim.faults.add({ status: 503, times: 1, method: 'POST' })
    await expect(create()).rejects.toMatchObject({ kind: 'unavailable' })
    expect(h.sim.stats.get('POST', '/v1/incident/tkd')).toBe(1)
  })
})
