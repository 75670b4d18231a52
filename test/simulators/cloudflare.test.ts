import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'
import { createCloudflareSimulator, SUBMIT_ROUTE, type CloudflareSimulatorOptions } from '../../src/simulators/cloudflare/index.js'

const TOKEN = 'sim-token'
const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353'
const HOUR = 3_600_000

interface Answer { status: number, headers: Headers, body: Record<string, unknown> }

describe('cloudflare simulator over HTTP', () => {
  let clock: ManualClock
  let running: RunningSimulator

  async function start (extra: Partial<CloudflareSimulatorOptions> = {}): Promise<void> {
    clock = new ManualClock()
    running = await startSimulator(createCloudflareSimulator({ clock, apiKey: TOKEN, accountId: ACCOUNT, ...extra }))
  }

  async function call (method: string, path: string, opts: { body?: unknown, token?: string | null, account?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = {}
    const token = opts.token === undefined ? TOKEN : opts.token
    if (token !== null) headers.authorization = `Bearer ${token}`
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${running.baseUrl}/accounts/${opts.account ?? ACCOUNT}/abuse-reports${path}`, {
      method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) })
    })
    return { status: res.status, headers: res.headers, body: await res.json() as Record<string, unknown> }
  }

  const phishing = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    act: 'abuse_phishing',
    email: 'soc@example.com',
    email2: 'soc@example.com',
    name: 'Jane Doe',
    urls: 'https://evil.example.net/login\nhttps://evil.example.net/verify',
    justification: 'Credential-harvesting clone of our login page',
    original_work: 'Example Bank',
    host_notification: 'send',
    owner_notification: 'send-anon',
    ...over
  })

  afterEach(async () => { await running.close() })

  describe('with the default budget', () => {
    beforeEach(async () => { await start() })

    it('answers a missing or wrong Bearer token with the v4 401 envelope', async () => {
      for (const token of [null, 'wrong']) {
        const res = await call('GET', '', { token })
        expect(res.status).toBe(401)
        expect(res.body).toEqual({ success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null })
      }
    })

    it('answers another account with a 403 envelope and an unknown path with 404 code 7003', async () => {
      const res = await call('GET', '', { account: 'ffffffffffffffffffffffffffffffff' })
      expect(res.status).toBe(403)
      expect(res.body).toEqual({ success: false, errors: [{ code: 9109, message: 'Unauthorized to access requested resource' }], messages: [], result: null })
      const nope = await fetch(`${running.baseUrl}/accounts/${ACCOUNT}/nothing-here`, { headers: { authorization: `Bearer ${TOKEN}` } })
      expect(nope.status).toBe(404)
      expect(await nope.json()).toEqual({ success: false, errors: [{ code: 7003, message: 'No route for the URI' }], messages: [], result: null })
    })

    it('lists in the envelope with result {reports} and result_info, 20 per page by default, newest first', async () => {
      const res = await call('GET', '')
      expect(res.status).toBe(200)
      expect(Object.keys(res.body).sort()).toEqual(['errors', 'messages', 'result', 'result_info', 'success'])
      expect(res.body.success).toBe(true)
      const reports = (res.body.result as { reports: Array<Record<string, unknown>> }).reports
      expect(reports).toHaveLength(20)
      expect(res.body.result_info).toEqual({ page: 1, per_page: 20, count: 20, total_count: 36, total_pages: 2 })
      const cdates = reports.map(r => Date.parse(r.cdate as string))
      expect([...cdates].sort((a, b) => b - a)).toEqual(cdates)
      expect(Object.keys(reports[0]!)).toEqual(expect.arrayContaining(['id', 'cdate', 'domain', 'type', 'status', 'mitigation_summary']))
      expect(Object.keys(reports[0]!.mitigation_summary as object).sort())
        .toEqual(['accepted_url_count', 'active_count', 'external_host_notified', 'in_review_count', 'pending_count'])

      const all = await call('GET', '?per_page=100')
      const list = (all.body.result as { reports: Array<Record<string, unknown>> }).reports
      expect(new Set(list.map(r => r.type))).toEqual(new Set(['PHISH', 'GEN', 'THREAT', 'DMCA', 'EMER', 'TM', 'REG_WHO', 'NCSEI', 'NETWORK']))
      expect(new Set(list.map(r => r.status))).toEqual(new Set(['accepted', 'in_review']))
      expect(list.some(r => (r.urls as string[]).length > 1)).toBe(true)
      expect(list.some(r => (r.urls as string[]).length === 0)).toBe(true)

      const asc = await call('GET', '?per_page=100&sort=cdate,asc')
      expect((asc.body.result as { reports: Array<{ id: string }> }).reports.map(r => r.id)).toEqual(
        [...list].sort((a, b) => Date.parse(a.cdate as string) - Date.parse(b.cdate as string) || (String(a.id) < String(b.id) ? -1 : 1)).map(r => r.id))
      const beyond = await call('GET', '?page=3')
      expect(beyond.body.result).toEqual({ reports: [] })
      expect(beyond.body.result_info).toEqual({ page: 3, per_page: 20, count: 0, total_count: 36, total_pages: 2 })
    })

    it('filters by status, type, domain and creation bounds', async () => {
      const all = ((await call('GET', '?per_page=100')).body.result as { reports: Array<{ id: string, cdate: string, domain: string, type: string }> }).reports
      const inReview = ((await call('GET', '?per_page=100&status=in_review')).body.result as { reports: Array<Record<string, string>> }).reports
      expect(inReview.length).toBeGreaterThan(0)
      expect(inReview.every(r => r.status === 'in_review')).toBe(true)
      const tm = ((await call('GET', '?per_page=100&type=TM')).body.result as { reports: Array<Record<string, string>> }).reports
      expect(tm.map(r => r.id).sort()).toEqual(all.filter(r => r.type === 'TM').map(r => r.id).sort())
      const one = all[3]!
      const byDomain = ((await call('GET', `?domain=${one.domain.toUpperCase()}`)).body.result as { reports: Array<Record<string, string>> }).reports
      expect(byDomain.map(r => r.id)).toContain(one.id)
      expect(byDomain.every(r => r.domain === one.domain)).toBe(true)
      const bounded = ((await call('GET', `?per_page=100&created_after=${encodeURIComponent(all[10]!.cdate)}&created_before=${encodeURIComponent(all[2]!.cdate)}`))
        .body.result as { reports: Array<{ id: string, cdate: string }> }).reports
      expect(bounded.every(r => r.cdate >= all[10]!.cdate && r.cdate <= all[2]!.cdate)).toBe(true)
      expect(bounded.map(r => r.id)).toEqual(expect.arrayContaining([all[2]!.id, all[10]!.id]))
    })

    it('refuses bad paging and sorting with a 400 envelope', async () => {
      for (const q of ['?per_page=101', '?per_page=0', '?page=0', '?page=x', '?sort=cdate', '?sort=name,asc', '?created_after=yesterday']) {
        const res = await call('GET', q)
        expect(res.status, q).toBe(400)
        expect(res.body).toMatchObject({ success: false, errors: [{ code: 1001, message: expect.any(String) }], messages: [], result: null })
      }
    })

    it('serves a report, its mitigations, and a 404 envelope for an unknown report', async () => {
      const list = ((await call('GET', '?per_page=100')).body.result as { reports: Array<Record<string, unknown>> }).reports
      const withActive = list.find(r => (r.mitigation_summary as { active_count: number }).active_count > 1)!
      const detail = await call('GET', `/${withActive.id as string}`)
      expect(detail.body).toEqual({ success: true, errors: [], messages: [], result: withActive })
      const mits = await call('GET', `/${withActive.id as string}/mitigations`)
      expect(mits.body).toMatchObject({ success: true, errors: [], messages: [], result_info: { page: 1, per_page: 20, count: 2, total_count: 2, total_pages: 1 } })
      const items = (mits.body.result as { mitigations: Array<Record<string, string>> }).mitigations
      expect(Object.keys(items[0]!).sort()).toEqual(['effective_date', 'entity_id', 'entity_type', 'id', 'status', 'type'])
      const t = items[0]!.type
      const filtered = await call('GET', `/${withActive.id as string}/mitigations?type=${t}&type=geo_block&status=active`)
      expect((filtered.body.result as { mitigations: Array<{ type: string }> }).mitigations.every(m => m.type === t || m.type === 'geo_block')).toBe(true)
      const missing = await call('GET', '/does-not-exist')
      expect(missing.status).toBe(404)
      expect(missing.body).toEqual({ success: false, errors: [{ code: 1002, message: 'Abuse report not found' }], messages: [], result: null })
      expect((await call('GET', '/does-not-exist/mitigations')).status).toBe(404)
    })

    it('accepts a submit with the bare success body, counts it, and moves it along the clock', async () => {
      const res = await call('POST', '/abuse_phishing', { body: phishing() })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ abuse_rand: expect.any(String), request: { act: 'abuse_phishing' }, result: 'success' })
      expect(running.sim.stats.get('POST', SUBMIT_ROUTE)).toBe(1)
      const id = res.body.abuse_rand as string
      const at = async (): Promise<Record<string, unknown>> => (await call('GET', `/${id}`)).body.result as Record<string, unknown>
      expect(await at()).toMatchObject({
        id,
        type: 'PHISH',
        status: 'in_review',
        domain: 'evil.example.net',
        original_work: 'Example Bank',
        urls: ['https://evil.example.net/login', 'https://evil.example.net/verify'],
        submitter: { name: 'Jane Doe', email: 'soc@example.com' },
        mitigation_summary: { accepted_url_count: 0, active_count: 0, pending_count: 0, in_review_count: 0 }
      })
      clock.advance(HOUR)
      expect(await at()).toMatchObject({ status: 'accepted', mitigation_summary: { accepted_url_count: 2, active_count: 0, pending_count: 1 } })
      clock.advance(3 * HOUR)
      expect(await at()).toMatchObject({ mitigation_summary: { active_count: 1, pending_count: 1 } })
      clock.advance(20 * HOUR)
      expect(await at()).toMatchObject({ mitigation_summary: { active_count: 2, pending_count: 0 } })
      const mits = (await call('GET', `/${id}/mitigations`)).body.result as { mitigations: Array<Record<string, string>> }
      expect(mits.mitigations.map(m => [m.type, m.status])).toEqual([['phishing_interstitial', 'active'], ['account_suspend', 'active']])
    })

    it('validates submits per type with the bare error shape and the documented messages', async () => {
      const cases: Array<[string, string, Record<string, unknown>, string]> = [
        ['unknown type', '/abuse_spam', phishing({ act: 'abuse_spam' }), 'Report has invalid type'],
        ['act differs from the path', '/abuse_general', phishing(), 'Report has the wrong type'],
        ['no name', '/abuse_phishing', phishing({ name: undefined }), 'Missing a required field'],
        ['no owner notification', '/abuse_phishing', phishing({ owner_notification: undefined }), 'Missing a required field'],
        ['bad email', '/abuse_phishing', phishing({ email: 'nope', email2: 'nope' }), 'Provided email was invalid'],
        ['emails differ', '/abuse_phishing', phishing({ email2: 'other@example.com' }), 'Provided emails did not match'],
        ['short phishing justification', '/abuse_phishing', phishing({ justification: 'too short' }),
          'Please provide a more detailed description of the infringement between 1 and 5000 characters'],
        ['owner none on phishing', '/abuse_phishing', phishing({ owner_notification: 'none' }), 'Invalid value for notification preference'],
        ['long comment', '/abuse_phishing', phishing({ comments: 'x'.repeat(2001) }), 'Comment maximum length of 2000 characters exceeded'],
        ['two hostnames', '/abuse_phishing', phishing({ urls: 'https://a.example/x\nhttps://b.example/y' }), 'More than 1 unique hostname in the URLs'],
        ['dmca signature', '/abuse_dmca', {
          ...phishing({ act: 'abuse_dmca', justification: undefined, owner_notification: 'send' }),
          agent_name: 'A',
          address1: '1 Main',
          city: 'X',
          state: 'Y',
          country: 'US',
          agree: 1,
          signature: 'Someone Else'
        }, 'Signature must match your name'],
        ['bad ip', '/abuse_general', phishing({ act: 'abuse_general', destination_ips: '300.1.1.1' }), 'Invalid IP passed to api']
      ]
      for (const [name, path, body, msg] of cases) {
        const res = await call('POST', path, { body })
        expect(res.status, name).toBe(400)
        expect(res.body, name).toEqual({ result: 'error', msg, err_code: expect.any(String), error_code: expect.any(String), request: { act: path.slice(1) } })
      }
      expect(running.sim.stats.get('POST', SUBMIT_ROUTE)).toBe(cases.length)
    })

    it('refuses the same URL within 7 days of the clock', async () => {
      expect((await call('POST', '/abuse_phishing', { body: phishing() })).status).toBe(200)
      clock.advance(6 * 24 * HOUR)
      const dup = await call('POST', '/abuse_phishing', { body: phishing({ urls: 'https://evil.example.net/verify' }) })
      expect(dup.status).toBe(400)
      expect(dup.body).toMatchObject({ result: 'error', msg: 'You have already submitted this URL in the last 7 days' })
      clock.advance(2 * 24 * HOUR)
      expect((await call('POST', '/abuse_phishing', { body: phishing() })).status).toBe(200)
    })

    it('records an appeal and answers the envelope with an array result', async () => {
      const id = (await call('POST', '/abuse_phishing', { body: phishing() })).body.abuse_rand as string
      clock.advance(5 * HOUR)
      const res = await call('POST', `/${id}/mitigations/appeal`, { body: { appeals: [{ id: `${id}-m1`, reason: 'removed' }] } })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({
        success: true,
        errors: [],
        messages: [],
        result: [{ id: `${id}-m1`, type: 'phishing_interstitial', status: 'in_review' }],
        result_info: { page: 1, per_page: 1, count: 1, total_count: 1, total_pages: 1 }
      })
      expect(((await call('GET', `/${id}`)).body.result as { mitigation_summary: Record<string, number> }).mitigation_summary).toMatchObject({ in_review_count: 1, active_count: 0 })
      const both = await call('POST', `/${id}/mitigations/appeal`, { body: { appeals: [], type: 'content_removed' } })
      expect(both.status).toBe(400)
      expect(both.body).toMatchObject({ success: false, errors: [{ message: 'Provide either appeals or type' }] })
      const counter = await call('POST', `/${id}/mitigations/appeal`, { body: { type: 'counter_notice' } })
      expect(counter.status).toBe(400)
    })

    it('sends Ratelimit and Ratelimit-Policy headers', async () => {
      const res = await call('GET', '')
      expect(res.headers.get('ratelimit')).toBe('"default";r=1199;t=300')
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=1200;w=300')
      expect(res.headers.get('retry-after')).toBeNull()
    })
  })

  it('seeds deterministically from the seed, with the requested count, and answers injected faults with vendor bodies', async () => {
    await start({ seed: 7, count: 40 })
    const ids = async (): Promise<string[]> => ((await call('GET', '?per_page=100')).body.result as { reports: Array<{ id: string }> }).reports.map(r => r.id)
    const first = await ids()
    expect(first).toHaveLength(40)
    await running.close()
    await start({ seed: 7, count: 40 })
    expect(await ids()).toEqual(first)
    await running.close()
    await start({ seed: 8, count: 40 })
    expect(await ids()).not.toEqual(first)
    running.sim.faults.add({ status: 401, times: 1 })
    const faulted = await call('GET', '')
    expect(faulted.status).toBe(401)
    expect(faulted.body).toEqual({ success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null })
  })

  it('blocks a token for 5 minutes once its budget is spent', async () => {
    await start({ rateLimit: { limit: 3, windowMs: 60_000 } })
    for (let i = 0; i < 3; i++) expect((await call('GET', '')).status).toBe(200)
    const limited = await call('GET', '')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('300')
    expect(limited.headers.get('ratelimit')).toBe('"default";r=0;t=300')
    expect(limited.body).toEqual({ success: false, errors: [{ code: 971, message: 'Please wait and consider throttling your request speed' }], messages: [], result: null })
    clock.advance(120_000)
    const still = await call('GET', '')
    expect(still.status).toBe(429)
    expect(still.headers.get('retry-after')).toBe('180')
    clock.advance(180_000)
    expect((await call('GET', '')).status).toBe(200)
  })
})
