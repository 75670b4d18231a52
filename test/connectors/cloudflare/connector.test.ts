import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest'
import { connectorHarness, testCtx, type ConnectorHarness } from '../../support/connectors.js'
import { ConnectorError, type CreateCaseInput } from '../../../src/connectors/connector.js'
import { GatewayError } from '../../../src/domain/problems.js'
import type { Case } from '../../../src/schemas/case.js'
import type { UnifiedStatus } from '../../../src/schemas/unified-status.js'
import { seedReports, type SeedSituation } from '../../../src/simulators/cloudflare/seed.js'
import { SUBMIT_ROUTE } from '../../../src/simulators/cloudflare/index.js'

const HOUR = 3_600_000
const EXPECTED: Record<SeedSituation, UnifiedStatus> = {
  in_review: 'in_review',
  removal_active: 'taken_down',
  interstitial_active: 'mitigated',
  pending: 'in_progress',
  mitigation_in_review: 'in_review',
  nothing: 'closed'
}

async function walk (h: ConnectorHarness, pageSize: number, filters = {}): Promise<Case[]> {
  const out: Case[] = []
  let token: string | null = null
  for (let i = 0; i < 200; i++) {
    const page = await h.connector.listCases({ pageToken: token, pageSize, filters }, testCtx())
    expect(page.items.length).toBeLessThanOrEqual(pageSize)
    out.push(...page.items)
    token = page.next
    if (token === null) return out
  }
  throw new Error('listing did not end')
}

function createInput (over: Partial<CreateCaseInput> = {}, options: Record<string, unknown> = {}): CreateCaseInput {
  return {
    action: 'takedown',
    target: { type: 'url', value: 'https://login-acme.example.io/secure' },
    brand: { id: 501, name: 'Acme Bank' },
    comment: 'Credential phishing page cloning our login form',
    reportedBy: 'soc@acme.example',
    clientId: null,
    social: null,
    attachments: [],
    ...over,
    providerOptions: {
      reporter: { name: 'Acme SOC', email: 'soc@acme.example', company: 'Acme', phone: null },
      justification: 'Credential phishing page cloning the Acme Bank login form',
      ...options
    }
  }
}

describe('cloudflare connector against the simulator: reads', () => {
  let h: ConnectorHarness
  let seeded: ReturnType<typeof seedReports>
  beforeAll(async () => {
    h = await connectorHarness('cloudflare')
    seeded = seedReports(1, 36, h.clock.now())
  })
  afterAll(async () => { await h.close() })

  for (const pageSize of [5, 7, 36, 100]) {
    it(`walks every seeded report exactly once, newest first, with pages of ${pageSize}`, async () => {
      const items = await walk(h, pageSize)
      expect(items.map(c => c.providerCaseId).sort()).toEqual(seeded.map(r => r.id).sort())
      expect(new Set(items.map(c => c.id)).size).toBe(seeded.length)
      for (let i = 1; i < items.length; i++) {
        expect(Date.parse(items[i - 1]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(items[i]!.createdAt))
      }
    })
  }

  it('computes the unified status of every seeded situation in the listing, and the detail view agrees', async () => {
    const items = await walk(h, 100)
    const byId = new Map(items.map(c => [c.providerCaseId, c]))
    for (const r of seeded) {
      const listed = byId.get(r.id)
      expect(listed?.status, `${r.id} (${r.situation})`).toBe(EXPECTED[r.situation])
      const detail = await h.connector.getCase(r.id, { raw: false }, testCtx())
      expect(detail.status).toBe(listed?.status)
      expect(detail.terminal).toBe(listed?.terminal)
    }
    expect(h.unknown).toEqual([])
  })

  it('maps targets, threat classes, brand and links', async () => {
    const items = await walk(h, 100)
    const domainOnly = seeded.find(r => r.urls.length === 0)!
    const multi = seeded.find(r => r.urls.length > 1)!
    const dc = items.find(c => c.providerCaseId === domainOnly.id)!
    expect(dc.target).toMatchObject({ type: 'domain', value: domainOnly.domain, domain: domainOnly.domain })
    const mc = items.find(c => c.providerCaseId === multi.id)!
    expect(mc.target).toMatchObject({ type: 'url', value: multi.urls[0], domain: multi.domain })
    expect(new Set(items.map(c => c.threat.class))).toEqual(new Set([
      'phishing', 'general', 'threat', 'copyright', 'emergency', 'trademark', 'registrar_whois', 'ncsei', 'network'
    ]))
    const phish = seeded.find(r => r.type === 'PHISH')!
    const pc = items.find(c => c.providerCaseId === phish.id)!
    expect(pc).toMatchObject({
      id: `cloudflare:${phish.id}`,
      provider: 'cloudflare',
      providerStatus: phish.acceptedAt === null ? 'in_review' : 'accepted',
      brand: { id: null, name: phish.originalWork },
      threat: { class: 'phishing', name: null, platform: null },
      reportedBy: phish.submitter.email,
      createdAt: new Date(phish.cdate).toISOString(),
      links: { self: `/v1/cases/cloudflare:${phish.id}`, provider: null }
    })
  })

  it('returns the detail view: mitigations, history oldest first, raw only on request', async () => {
    const r = seeded.find(x => x.situation === 'removal_active')!
    const detail = await h.connector.getCase(r.id, { raw: false }, testCtx())
    expect(detail.status).toBe('taken_down')
    expect(detail.raw).toBeUndefined()
    expect(detail.mitigations).toHaveLength(r.mitigations.length)
    for (const m of r.mitigations) {
      expect(detail.mitigations).toContainEqual({
        id: m.id, type: m.type, status: 'active', effectiveAt: new Date(m.effectiveAt).toISOString(), entityType: m.entityType, entityId: m.entityId
      })
    }
    expect(detail.history[0]).toEqual({ at: new Date(r.cdate).toISOString(), status: null, providerStatus: 'submitted', message: 'report submitted', source: 'provider' })
    expect(detail.history).toHaveLength(1 + r.mitigations.length)
    const ats = detail.history.map(e => e.at)
    expect([...ats].sort()).toEqual(ats)
    const latest = r.mitigations.map(m => m.effectiveAt).sort((a, b) => b - a)[0]!
    expect(detail.updatedAt).toBe(new Date(latest).toISOString())
    expect(detail.history[1]?.message).toMatch(/^[a-z0-9_]+ on (url_pattern|account|zone) \S+$/)

    const withRaw = await h.connector.getCase(r.id, { raw: true }, testCtx())
    expect(withRaw.raw).toMatchObject({ id: r.id, status: 'accepted', mitigation_summary: { active_count: 2 } })
  })

  it('answers not_found for an unknown report', async () => {
    await expect(h.connector.getCase('nope', { raw: false }, testCtx())).rejects.toMatchObject({ name: 'ConnectorError', kind: 'not_found', upstreamStatus: 404 })
  })

  it('sends since/until widened by a second; the result is a superset of the wanted range', async () => {
    const sorted = [...seeded].sort((a, b) => b.cdate - a.cdate)
    const since = new Date(sorted[20]!.cdate).toISOString()
    const until = new Date(sorted[5]!.cdate).toISOString()
    const items = await walk(h, 10, { since, until })
    const wanted = seeded.filter(r => r.cdate >= Date.parse(since) && r.cdate < Date.parse(until)).map(r => r.id)
    const got = items.map(c => c.providerCaseId)
    for (const id of wanted) expect(got).toContain(id)
    for (const c of items) {
      expect(Date.parse(c.createdAt)).toBeGreaterThanOrEqual(Date.parse(since) - 2000)
      expect(Date.parse(c.createdAt)).toBeLessThanOrEqual(Date.parse(until) + 2000)
    }
    expect(items.length).toBeLessThan(seeded.length)
  })

  it('lists the reference kinds Cloudflare has and null for the others', async () => {
    const statuses = await h.connector.listReference('statuses', testCtx())
    expect(statuses).toEqual([
      expect.objectContaining({ provider: 'cloudflare', kind: 'statuses', id: 'in_review', unifiedStatus: 'in_review', terminal: false }),
      expect.objectContaining({ provider: 'cloudflare', kind: 'statuses', id: 'accepted', unifiedStatus: 'closed', terminal: true })
    ])
    const types = await h.connector.listReference('report-types', testCtx())
    expect(types?.map(t => t.id)).toEqual([
      'abuse_dmca', 'abuse_trademark', 'abuse_general', 'abuse_phishing', 'abuse_children', 'abuse_threat', 'abuse_registrar_whois', 'abuse_ncsei'
    ])
    expect(types?.find(t => t.id === 'abuse_phishing')?.description).toContain('PHISH')
    const mitigations = await h.connector.listReference('mitigation-types', testCtx())
    expect(mitigations).toHaveLength(20)
    expect(mitigations?.find(m => m.id === 'account_suspend')?.description).toMatch(/^Removal/)
    expect(mitigations?.find(m => m.id === 'phishing_interstitial')?.description).toMatch(/^Restriction/)
    for (const kind of ['takedown-types', 'platforms', 'threat-types', 'cancellation-reasons'] as const) {
      expect(await h.connector.listReference(kind, testCtx())).toBeNull()
    }
  })

  it('declares its capabilities', () => {
    expect(h.connector.capabilities).toEqual({
      create: { takedown: ['url', 'domain'], monitor: [] },
      cancel: false,
      attachments: false,
      comments: false,
      appeal: true,
      actions: [],
      detections: true,
      reference: ['statuses', 'report-types', 'mitigation-types']
    })
  })
})

describe('cloudflare connector against the simulator: faults', () => {
  let h: ConnectorHarness
  beforeEach(async () => { h = await connectorHarness('cloudflare', { timeoutMs: 300 }) })
  afterEach(async () => { await h.close() })

  it('retries a 503 on a read and succeeds', async () => {
    h.sim.faults.add({ status: 503, times: 1 })
    const page = await h.connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())
    expect(page.items).toHaveLength(10)
    expect(h.sim.stats.get('GET', '/client/v4/accounts/:accountId/abuse-reports')).toBe(2)
  })

  it('gives kind timeout when the vendor hangs', async () => {
    h.sim.faults.add({ hang: true })
    await expect(h.connector.getCase('whatever', { raw: false }, testCtx())).rejects.toMatchObject({ kind: 'timeout' })
  })

  it('gives kind protocol on a malformed 200', async () => {
    h.sim.faults.add({ malformed: true, times: 1 })
    await expect(h.connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx())).rejects.toMatchObject({ kind: 'protocol' })
  })

  it('gives kind rate_limited with retryAfter when the vendor says 429 past the deadline', async () => {
    h.sim.faults.add({ status: 429, retryAfter: 30 })
    const err = await h.connector.listCases({ pageToken: null, pageSize: 10, filters: {} }, testCtx()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectorError)
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfter: 30 })
  })
})

describe('cloudflare connector against the simulator: writes', () => {
  let h: ConnectorHarness
  beforeEach(async () => { h = await connectorHarness('cloudflare') })
  afterEach(async () => { await h.close() })

  it('creates a report, reads it back, lists it and moves it through its lifecycle', async () => {
    const input = createInput()
    const prepared = await h.connector.prepareCreate!(input, testCtx())
    const outcome = await h.connector.submitCreate!(prepared, input, testCtx())
    expect(h.sim.stats.get('POST', SUBMIT_ROUTE)).toBe(1)
    expect(outcome.kind).toBe('created')
    if (outcome.kind !== 'created') return
    const created = outcome.case
    expect(created).toMatchObject({
      provider: 'cloudflare',
      target: { type: 'url', value: 'https://login-acme.example.io/secure', domain: 'login-acme.example.io' },
      status: 'in_review',
      providerStatus: 'in_review',
      brand: { id: null, name: 'Acme Bank' },
      threat: { class: 'phishing' },
      reportedBy: 'soc@acme.example',
      createdAt: new Date(h.clock.now()).toISOString()
    })
    expect(Object.keys(created).sort()).toEqual(['brand', 'createdAt', 'id', 'links', 'provider', 'providerCaseId', 'providerStatus',
      'reportedBy', 'status', 'target', 'terminal', 'threat', 'updatedAt'])

    const first = await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())
    expect(first.items[0]?.providerCaseId).toBe(created.providerCaseId)

    const statusAt = async (): Promise<UnifiedStatus> => (await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())).status
    const listedAt = async (): Promise<UnifiedStatus | undefined> =>
      (await h.connector.listCases({ pageToken: null, pageSize: 5, filters: {} }, testCtx())).items.find(c => c.id === created.id)?.status
    h.clock.advance(HOUR)
    expect(await statusAt()).toBe('in_progress')
    h.clock.advance(3 * HOUR)
    expect(await statusAt()).toBe('mitigated')
    expect(await listedAt()).toBe('mitigated')
    h.clock.advance(20 * HOUR)
    expect(await statusAt()).toBe('taken_down')
    expect(await listedAt()).toBe('taken_down')
    const detail = await h.connector.getCase(created.providerCaseId, { raw: false }, testCtx())
    expect(detail.mitigations?.map(m => [m.type, m.status])).toEqual([['phishing_interstitial', 'active'], ['account_suspend', 'active']])
    expect(detail.history.map(e => e.providerStatus)).toEqual(['submitted', 'active', 'active'])
  })

  it('builds the exact submit request from providerOptions', async () => {
    const prepared = await h.connector.prepareCreate!(createInput({ target: { type: 'domain', value: 'login-acme.example.io' } }, {
      ownerNotification: 'send-anon', reportedCountry: 'US', title: 'Phish'
    }), testCtx())
    expect(prepared).toEqual({
      method: 'POST',
      path: '/accounts/023e105f4ecef8ad9ca31a8372d0c353/abuse-reports/abuse_phishing',
      contentType: 'application/json',
      body: {
        act: 'abuse_phishing',
        name: 'Acme SOC',
        email: 'soc@acme.example',
        email2: 'soc@acme.example',
        company: 'Acme',
        urls: 'https://login-acme.example.io/',
        comments: 'Credential phishing page cloning our login form',
        reported_country: 'US',
        title: 'Phish',
        host_notification: 'send',
        owner_notification: 'send-anon',
        justification: 'Credential phishing page cloning the Acme Bank login form',
        original_work: 'Acme Bank'
      },
      files: []
    })
    expect(h.sim.stats.total()).toBe(0)
  })

  it('accepts every report type the simulator accepts', async () => {
    const perType: Array<[string, Record<string, unknown>]> = [
      ['abuse_dmca', { justification: undefined, agentName: 'Acme Legal', address1: '1 Main St', city: 'X', state: 'Y', country: 'US', originalWork: 'Our site', agree: 1, signature: 'Acme SOC' }],
      ['abuse_trademark', { trademarkNumber: '123', trademarkOffice: 'USPTO', trademarkSymbol: 'ACME' }],
      ['abuse_general', { destinationIps: ['192.0.2.1', '2001:db8::1'], sourceIps: '198.51.100.7', portsProtocols: ['80/TCP', '53/UDP'] }],
      ['abuse_phishing', {}],
      ['abuse_children', { ncmecNotification: 'send-anon', ownerNotification: 'none' }],
      ['abuse_threat', {}],
      ['abuse_registrar_whois', {
        justification: undefined,
        regWhoRequest: { requestType: 'disclosure', requestedDataElements: ['registrant_email'], legalBasis: 'Art. 6(1)(f)', goodFaithAffirmation: true, lawfulProcessingAgreement: true }
      }],
      ['abuse_ncsei', { justification: undefined, ncseiSubjectRepresentation: true }]
    ]
    let n = 0
    for (const [reportType, extra] of perType) {
      n++
      const input = createInput({ target: { type: 'url', value: `https://t${n}.example.net/x` } }, { reportType, ...extra })
      const prepared = await h.connector.prepareCreate!(input, testCtx())
      const outcome = await h.connector.submitCreate!(prepared, input, testCtx())
      expect(outcome.kind, reportType).toBe('created')
    }
    expect(h.sim.stats.get('POST', SUBMIT_ROUTE)).toBe(perType.length)
    // DMCA fields on a phishing report are refused, not dropped
    const dmca = await h.connector.prepareCreate!(createInput({}, perType[0]![1]), testCtx()).catch((e: unknown) => e) as GatewayError
    expect(dmca.code).toBe('GW_ERR_VALIDATION')
    expect(dmca.extras.errors).toContainEqual({ path: '/providerOptions/agentName', message: 'not used by abuse_phishing' })
    expect(dmca.extras.errors).toContainEqual({ path: '/providerOptions/justification', message: 'required for abuse_phishing' })
    expect(dmca.extras.errors?.map(e => e.path).sort()).toEqual(['address1', 'agentName', 'agree', 'city', 'country', 'justification', 'signature', 'state']
      .map(f => `/providerOptions/${f}`))
    const general = await h.connector.prepareCreate!(createInput({}, { reportType: 'abuse_general', ...perType[2]![1] }), testCtx())
    expect(general.body).toMatchObject({ destination_ips: '192.0.2.1\n2001:db8::1', source_ips: '198.51.100.7', ports_protocols: '80/TCP, 53/UDP' })
    const whois = await h.connector.prepareCreate!(createInput({}, { reportType: 'abuse_registrar_whois', ...perType[6]![1] }), testCtx())
    expect(whois.body).not.toHaveProperty('host_notification')
    expect(whois.body).toMatchObject({
      owner_notification: 'send',
      reg_who_request: {
        reg_who_request_type: 'disclosure',
        reg_who_requested_data_elements: ['registrant_email'],
        reg_who_legal_basis: 'Art. 6(1)(f)',
        reg_who_good_faith_affirmation: true,
        reg_who_lawful_processing_agreement: true
      }
    })
  })

  it('refuses bad providerOptions with field paths, and unsupported creates with 422', async () => {
    const err = await h.connector.prepareCreate!(createInput({ comment: 'x'.repeat(2001) }, {
      reporter: { name: 'A', email: 'not-an-email', extra: 1 },
      justification: 'too short',
      hostNotification: 'none',
      trademarkNumber: '1',
      colour: 'red'
    }), testCtx()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    const ge = err as GatewayError
    expect(ge.code).toBe('GW_ERR_VALIDATION')
    expect(ge.extras.errors?.map(e => e.path).sort()).toEqual([
      '/comment',
      '/providerOptions/colour',
      '/providerOptions/hostNotification',
      '/providerOptions/justification',
      '/providerOptions/reporter/email',
      '/providerOptions/reporter/extra',
      '/providerOptions/trademarkNumber'
    ])
    const badType = await h.connector.prepareCreate!(createInput({}, { reportType: 'abuse_spam' }), testCtx()).catch((e: unknown) => e)
    expect(badType).toMatchObject({ code: 'GW_ERR_VALIDATION', extras: { errors: [{ path: '/providerOptions/reportType' }] } })
    for (const over of [
      { action: 'monitor' as const },
      { target: { type: 'email' as const, value: 'a@b.example' } },
      { attachments: [{ filename: 'a.png', contentType: 'image/png', data: Buffer.from('x') }] }
    ]) {
      await expect(h.connector.prepareCreate!(createInput(over), testCtx())).rejects.toMatchObject({ code: 'GW_ERR_UNSUPPORTED', extras: { provider: 'cloudflare' } })
    }
  })

  it('surfaces the vendor duplicate rule and finds the open case for the target', async () => {
    const input = createInput()
    const prepared = await h.connector.prepareCreate!(input, testCtx())
    const outcome = await h.connector.submitCreate!(prepared, input, testCtx())
    if (outcome.kind !== 'created') throw new Error('not created')
    const again = await h.connector.submitCreate!(prepared, input, testCtx()).catch((e: unknown) => e)
    expect(again).toBeInstanceOf(ConnectorError)
    expect(again).toMatchObject({ kind: 'rejected', upstreamStatus: 400 })
    expect((again as Error).message).toContain('You have already submitted this URL in the last 7 days')
    expect(h.sim.stats.get('POST', SUBMIT_ROUTE)).toBe(2)

    const open = await h.connector.findOpenCase!({ type: 'url', value: 'https://LOGIN-acme.example.io/other' }, testCtx())
    expect(open?.id).toBe(outcome.case.id)
    expect(await h.connector.findOpenCase!({ type: 'domain', value: 'elsewhere.example' }, testCtx())).toBeNull()
    h.clock.advance(25 * HOUR)
    // taken down: terminal, so no longer open
    expect(await h.connector.findOpenCase!({ type: 'domain', value: 'login-acme.example.io' }, testCtx())).toBeNull()
    h.clock.advance(7 * 24 * HOUR)
    const later = await h.connector.submitCreate!(prepared, input, testCtx())
    expect(later.kind).toBe('created')
  })

  it('appeals a mitigation; the vendor error for an unknown mitigation is rejected', async () => {
    const input = createInput()
    const outcome = await h.connector.submitCreate!(await h.connector.prepareCreate!(input, testCtx()), input, testCtx())
    if (outcome.kind !== 'created') throw new Error('not created')
    const id = outcome.case.providerCaseId
    h.clock.advance(5 * HOUR)
    const before = await h.connector.getCase(id, { raw: false }, testCtx())
    expect(before.status).toBe('mitigated')
    const interstitial = before.mitigations!.find(m => m.type === 'phishing_interstitial')!
    await h.connector.appeal!(id, { appeals: [{ id: interstitial.id, reason: 'removed' }] }, testCtx())
    const after = await h.connector.getCase(id, { raw: false }, testCtx())
    expect(after.mitigations!.find(m => m.id === interstitial.id)?.status).toBe('in_review')
    expect(after.status).toBe('in_progress')
    await expect(h.connector.appeal!(id, { appeals: [{ id: 'nope', reason: 'misclassified' }] }, testCtx()))
      .rejects.toMatchObject({ kind: 'rejected', message: expect.stringContaining('Mitigation nope not found') })
    await expect(h.connector.appeal!('missing', { type: 'content_removed' }, testCtx())).rejects.toMatchObject({ kind: 'not_found' })
  })

  it('returns a case built from what is known when the read-back fails', async () => {
    const input = createInput()
    const prepared = await h.connector.prepareCreate!(input, testCtx())
    h.sim.faults.add({ method: 'GET', status: 404 })
    const outcome = await h.connector.submitCreate!(prepared, input, testCtx())
    expect(outcome).toMatchObject({
      kind: 'created',
      case: {
        provider: 'cloudflare',
        status: 'unknown',
        terminal: false,
        providerStatus: null,
        target: { type: 'url', value: 'https://login-acme.example.io/secure', domain: 'login-acme.example.io' },
        brand: { id: null, name: 'Acme Bank' },
        threat: { class: 'phishing', name: null, platform: null },
        reportedBy: 'soc@acme.example',
        createdAt: new Date(h.clock.now()).toISOString(),
        updatedAt: null
      }
    })
  })
})
