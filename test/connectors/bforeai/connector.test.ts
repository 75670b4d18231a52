import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import type { Case } from '../../../src/schemas/case.js'
import type { CaseFilters, CreateCaseInput } from '../../../src/connectors/connector.js'
import { GatewayError } from '../../../src/domain/problems.js'
import { PROVIDER_MODULES } from '../../../src/providers/registry.js'
import { connectorHarness, testCtx, type ConnectorHarness } from '../../support/connectors.js'

const HOUR = 3_600_000

function input (over: Partial<CreateCaseInput> = {}): CreateCaseInput {
  return {
    action: 'takedown',
    target: { type: 'url', value: 'https://login-acme-bank.example.io/secure/login' },
    brand: { id: 501, name: 'Acme Bank' },
    comment: 'Credential phishing page cloning our login form',
    reportedBy: null,
    clientId: null,
    social: null,
    providerOptions: {},
    attachments: [],
    ...over
  }
}

async function walk (h: ConnectorHarness, pageSize: number, filters: CaseFilters = {}): Promise<Case[]> {
  const out: Case[] = []
  let token: string | null = null
  for (let i = 0; i < 1000; i++) {
    const page = await h.connector.listCases({ pageToken: token, pageSize, filters }, testCtx())
    expect(page.items.length).toBeLessThanOrEqual(Math.min(pageSize, 100))
    out.push(...page.items)
    token = page.next
    if (token === null) return out
  }
  throw new Error('pagination did not end')
}

function newestFirst (items: Case[]): boolean {
  return items.every((c, i) => i === 0 || Date.parse(items[i - 1]!.createdAt) >= Date.parse(c.createdAt))
}

let h: ConnectorHarness
beforeEach(async () => { h = await connectorHarness('bforeai', { seed: 7 }) })
afterEach(async () => { await h.close() })

describe('bforeai connector against the simulator: read path', () => {
  it.each([1, 7, 10, 36, 250])('walks every seeded takedown exactly once, newest first (page size %i)', async (size) => {
    const items = await walk(h, size)
    expect(items).toHaveLength(36)
    expect(new Set(items.map(c => c.id)).size).toBe(36)
    expect(newestFirst(items)).toBe(true)
  })

  it('covers url, domain and social targets, every status, and surfaces the unmapped one as unknown', async () => {
    const items = await walk(h, 100)
    expect(new Set(items.map(c => c.target.type))).toEqual(new Set(['url', 'domain', 'social']))
    expect(new Set(items.map(c => c.status))).toEqual(new Set([
      'received', 'in_progress', 'taken_down', 'failed', 'cancelled', 'closed', 'monitoring', 'awaiting_customer', 'unknown'
    ]))
    // takedowns seeded without status_name are named through GET /v2/takedown/statuses
    expect(items.every(c => c.providerStatus !== null)).toBe(true)
    expect(h.sim.stats.get('GET', '/api/v2/takedown/statuses')).toBe(1)
    expect(items.filter(c => c.status === 'unknown').map(c => c.providerStatus)).toEqual(expect.arrayContaining(['Escalated to Partner']))
    expect(h.unknown.every(u => u.providerStatus === 'Escalated to Partner')).toBe(true)
  })

  it('gives a takedown without status_name one status whichever read comes first: a listing and a detail read at once agree', async () => {
    const raw = await fetch(`${h.running.baseUrl}/v2/takedown/list?size=100`, { headers: { 'x-authorization': PROVIDER_MODULES.bforeai.sandbox.credential } })
    const nameless = ((await raw.json()) as { items: Array<{ id: string, status_name: string | null }> }).items.filter(t => t.status_name === null)
    expect(nameless.length).toBeGreaterThan(0)
    // a fresh connector knows no status names yet: both reads need the one status list read
    const [page, ...details] = await Promise.all([
      h.connector.listCases({ pageToken: null, pageSize: 100, filters: {} }, testCtx()),
      ...nameless.map(async t => await h.connector.getCase(t.id, { raw: false }, testCtx()))
    ])
    for (const d of details) {
      const listed = page.items.find(c => c.id === d.id)
      expect(d.providerStatus, d.id).not.toBeNull()
      expect(listed, d.id).toMatchObject({ status: d.status, providerStatus: d.providerStatus })
    }
    expect(h.sim.stats.get('GET', '/api/v2/takedown/statuses')).toBe(1)
  })

  it('brand and date filters give a superset of what the gateway wants', async () => {
    const all = await walk(h, 100)
    // a brand name is matched by words in the gateway, so the connector sends no brand_name and lists everything
    const acme = await walk(h, 10, { brand: 'acme bank' })
    expect(acme.map(c => c.id)).toEqual(expect.arrayContaining(all.filter(c => c.brand.name === 'Acme Bank').map(c => c.id)))
    const byId = await walk(h, 10, { brand: '502' })
    expect(byId.every(c => c.brand.id === 502)).toBe(true)
    const mid = all[10]!.createdAt
    const since = await walk(h, 100, { since: mid })
    expect(since.length).toBeGreaterThanOrEqual(all.filter(c => c.createdAt >= mid).length)
    const until = await walk(h, 100, { until: mid })
    expect(until.length).toBeGreaterThanOrEqual(all.filter(c => c.createdAt < mid).length)
  })

  it('getCase: detail with one history entry, raw on request, not_found for an unknown id', async () => {
    const [first] = await walk(h, 5)
    const detail = await h.connector.getCase(first!.providerCaseId, { raw: true }, testCtx())
    expect(detail).toMatchObject({ id: first!.id, status: first!.status, providerStatus: first!.providerStatus })
    expect(detail.history).toHaveLength(1)
    expect(detail.history[0]!.at).toBe(detail.updatedAt ?? detail.createdAt)
    expect((detail.raw as { id: string }).id).toBe(first!.providerCaseId)
    await expect(h.connector.getCase('does-not-exist', { raw: false }, testCtx())).rejects.toMatchObject({ kind: 'not_found', message: 'Takedown not found' })
  })

  it('reference kinds come from the simulator', async () => {
    const statuses = await h.connector.listReference('statuses', testCtx())
    expect(statuses?.find(s => s.name === 'Submitted to Registrar')).toMatchObject({ unifiedStatus: 'in_progress', terminal: false })
    expect(statuses?.find(s => s.name === 'Escalated to Partner')).toMatchObject({ unifiedStatus: 'unknown' })
    expect((await h.connector.listReference('takedown-types', testCtx()))?.map(i => i.name)).toEqual(['Infrastructure', 'Social Media'])
    expect((await h.connector.listReference('platforms', testCtx()))?.map(i => i.name)).toContain('Facebook')
    expect((await h.connector.listReference('threat-types', testCtx()))?.map(i => i.name)).toContain('Impersonation')
    expect((await h.connector.listReference('cancellation-reasons', testCtx()))?.some(i => i.active === false)).toBe(true)
  })
})

describe('bforeai connector against the simulator: write path', () => {
  it('create → appears first in the list → moves through its lifecycle with the clock', async () => {
    const prepared = await h.connector.prepareCreate!(input(), testCtx())
    const out = await h.connector.submitCreate!(prepared, input(), testCtx())
    expect(h.sim.stats.get('POST', '/api/v2/takedown/request')).toBe(1)
    expect(out.kind).toBe('created')
    if (out.kind !== 'created') return
    expect(out.case).toMatchObject({ status: 'received', providerStatus: 'Pending', target: { type: 'url', domain: 'login-acme-bank.example.io' } })
    const page = await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())
    expect(page.items[0]?.id).toBe(out.case.id)
    const id = out.case.providerCaseId
    const at = async () => (await h.connector.getCase(id, { raw: false }, testCtx()))
    h.clock.advance(HOUR)
    expect(await at()).toMatchObject({ status: 'in_progress', providerStatus: 'In Progress' })
    h.clock.advance(6 * HOUR)
    expect(await at()).toMatchObject({ status: 'in_progress', providerStatus: 'Submitted to Registrar' })
    h.clock.advance(48 * HOUR)
    expect(await at()).toMatchObject({ status: 'taken_down', terminal: true, providerStatus: 'Taken Down' })
  })

  it('duplicates: findOpenCase finds the open takedown; a second request is a 202 "exists" with the existing case', async () => {
    const domain = input({ target: { type: 'domain', value: 'acme-bank-verify.example.net' } })
    const first = await h.connector.submitCreate!(await h.connector.prepareCreate!(domain, testCtx()), domain, testCtx())
    expect(first).toMatchObject({ kind: 'created', case: { target: { type: 'domain', value: 'acme-bank-verify.example.net' } } })
    const open = await h.connector.findOpenCase!(domain.target, testCtx())
    expect(open?.id).toBe(first.kind === 'created' ? first.case.id : '')
    const again = await h.connector.submitCreate!(await h.connector.prepareCreate!(domain, testCtx()), domain, testCtx())
    expect(again.kind).toBe('exists')
    expect(again.kind === 'exists' && again.existing?.id).toBe(open?.id)
    expect(h.sim.stats.get('POST', '/api/v2/takedown/request')).toBe(2)
    h.clock.advance(60 * HOUR)
    expect(await h.connector.findOpenCase!(domain.target, testCtx())).toBeNull()
  })

  it('social create starts pending and is validated against the live platform list', async () => {
    const social = input({ target: { type: 'social', value: 'https://www.instagram.com/acme.bank.support' }, social: { platform: 'instagram', threatType: 'Fake Account' } })
    const out = await h.connector.submitCreate!(await h.connector.prepareCreate!(social, testCtx()), social, testCtx())
    expect(out).toMatchObject({ kind: 'created', case: { status: 'received', providerStatus: 'Pending', threat: { platform: 'Instagram', name: 'Fake Account', class: 'Social Media' } } })
    await expect(h.connector.prepareCreate!({ ...social, social: { platform: 'MySpace', threatType: 'Fraud' } }, testCtx()))
      .rejects.toBeInstanceOf(GatewayError)
  })

  it('cancel moves an open takedown to cancelled; cancelling again is rejected by the vendor', async () => {
    const out = await h.connector.submitCreate!(await h.connector.prepareCreate!(input(), testCtx()), input(), testCtx())
    const id = out.kind === 'created' ? out.case.providerCaseId : ''
    const detail = await h.connector.cancel!(id, { reasonId: 1, description: 'authorised partner page' }, testCtx())
    expect(detail).toMatchObject({ status: 'cancelled', terminal: true, providerStatus: 'Cancelled' })
    expect(detail.history[0]?.message).toBe('False positive')
    await expect(h.connector.cancel!(id, { reasonId: 1, description: null }, testCtx()))
      .rejects.toMatchObject({ kind: 'rejected', message: 'Takedown cannot be cancelled in its current status' })
    await expect(h.connector.cancel!(id, { reasonId: 4, description: null }, testCtx())).rejects.toMatchObject({ code: 'GW_ERR_VALIDATION' })
  })
})

describe('bforeai connector against the simulator: faults', () => {
  it('a 503 once is retried and the read succeeds', async () => {
    h.sim.faults.add({ status: 503, times: 1 })
    const page = await h.connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())
    expect(page.items).toHaveLength(10)
    expect(h.sim.stats.get('GET', '/api/v2/takedown/list')).toBe(2)
  })

  it('a hanging vendor → timeout', async () => {
    await h.close()
    h = await connectorHarness('bforeai', { timeoutMs: 200 })
    h.sim.faults.add({ hang: true })
    await expect(h.connector.getCase('x', { raw: false }, testCtx())).rejects.toMatchObject({ kind: 'timeout' })
  })
})
