/**
 * Netcraft end to end: the real gateway in sandbox mode against the Netcraft simulator (and the other three), over
 * the public API: merged listing, detail with notes as history, create and its TD_* outcomes, comments, escalation,
 * reference data and /v1/providers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { CaseDetailSchema, CaseSchema, type Case } from '../../../src/schemas/case.js'
import { PROVIDER_IDS } from '../../../src/schemas/provider.js'
import { auth, testGateway, type TestGateway } from '../../support/app.js'

const MIN = 60_000
let gw: TestGateway
beforeAll(async () => { gw = await testGateway({ seed: 5 }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.sandbox.running.netcraft.sim.faults.clear() })

const get = async (url: string) => await gw.app.inject({ method: 'GET', url, headers: auth() })
const post = async (url: string, payload?: unknown) =>
  await gw.app.inject({ method: 'POST', url, headers: auth(), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
const reports = (): number => gw.sandbox.running.netcraft.sim.stats.get('POST', '/api/v1/report/')

let unique = 0
const attack = (host = 'login-acme'): string => `https://${host}-${Date.now().toString(36)}-${unique++}.example.net/secure`
const body = (value: string, extra: Record<string, unknown> = {}) => ({
  provider: 'netcraft', target: { type: 'url', value }, brand: { name: 'Acme Bank' }, comment: 'clone of our login page', ...extra
})

describe('Netcraft through the gateway', () => {
  it('lists Netcraft takedowns merged with the other three providers under one cursor, each once, newest first', async () => {
    const seen: Case[] = []
    let cursor: string | null = null
    do {
      const res = await get(`/v1/cases?limit=25${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json() as { items: Case[], nextCursor: string | null, partial: boolean }
      expect(page.partial).toBe(false)
      seen.push(...page.items)
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(new Set(seen.map(c => c.provider))).toEqual(new Set(PROVIDER_IDS))
    expect(new Set(seen.map(c => c.id)).size).toBe(seen.length)
    for (let i = 1; i < seen.length; i++) expect(Date.parse(seen[i]!.createdAt)).toBeLessThanOrEqual(Date.parse(seen[i - 1]!.createdAt))
    const netcraft = seen.filter(c => c.provider === 'netcraft')
    // 36 seeded takedowns plus the wildcard one; every one of the ten statuses mapped, none unknown
    expect(netcraft).toHaveLength(37)
    expect(new Set(netcraft.map(c => c.providerStatus))).toEqual(new Set([
      'unverified', 'verified', 'inactive_monitoring', 'contacted_hosting', 'contacted_upstream', 'contacted_police',
      'resolved_monitoring', 'resolved', 'stale', 'invalid'
    ]))
    expect(netcraft.filter(c => c.status === 'unknown')).toEqual([])
    for (const c of netcraft) expect(Value.Check(CaseSchema, c)).toBe(true)

    const filtered = (await get('/v1/cases?provider=netcraft&status=taken_down,closed&limit=100')).json() as { items: Case[] }
    expect(filtered.items.length).toBeGreaterThan(0)
    expect(new Set(filtered.items.map(c => c.providerStatus))).toEqual(new Set(['resolved', 'stale']))
    // the unified filter went to Netcraft as its own slugs
    const sim = gw.sandbox.running.netcraft.sim
    expect(sim.stats.get('GET', '/api/v1/attacks/')).toBeGreaterThan(0)
  })

  it('reads one takedown with its milestones and notes as history, oldest first', async () => {
    const list = (await get('/v1/cases?provider=netcraft&limit=100')).json() as { items: Case[] }
    const resolved = list.items.find(c => c.providerStatus === 'resolved')!
    const res = await get(`/v1/cases/${encodeURIComponent(resolved.id)}?include=raw`)
    expect(res.statusCode, res.body).toBe(200)
    const detail = res.json()
    expect(Value.Check(CaseDetailSchema, detail)).toBe(true)
    expect(detail.status).toBe('taken_down')
    expect(detail.terminal).toBe(true)
    expect(detail.history[0]).toMatchObject({ at: resolved.createdAt, status: 'received', providerStatus: 'unverified' })
    const times = (detail.history as Array<{ at: string }>).map(h => Date.parse(h.at))
    expect([...times].sort((a, b) => a - b)).toEqual(times)
    expect(detail.takedownStartedAt).not.toBeNull()
    expect(detail.resolvedAt).not.toBeNull()
    expect(detail.raw.takedown.status).toBe('Resolved')

    expect((await get('/v1/cases/netcraft:99999999')).statusCode).toBe(404)
    expect((await get('/v1/cases/netcraft:not-a-takedown')).statusCode).toBe(404)
  })

  it('creates a takedown (form-encoded report, TD_OK) that moves through its lifecycle as time passes', async () => {
    const value = attack()
    const res = await post('/v1/cases', body(value, { providerOptions: { attackType: 'phishing_url', tags: ['acme', 'login'] } }))
    expect(res.statusCode, res.body).toBe(201)
    const created = res.json() as Case
    expect(created).toMatchObject({ provider: 'netcraft', status: 'received', providerStatus: 'unverified', target: { type: 'url', value } })
    expect(res.headers.location).toBe(`/v1/cases/${created.id}`)
    gw.clock.advance(11 * MIN)
    const verified = (await get(`/v1/cases/${created.id}`)).json()
    // force_auth is on by default: verified and authorised, notices about to go out
    expect([verified.providerStatus, verified.status]).toEqual(['verified', 'in_progress'])
    gw.clock.advance(61 * MIN)
    expect((await get(`/v1/cases/${created.id}`)).json()).toMatchObject({ providerStatus: 'contacted_hosting', status: 'in_progress' })
  })

  it('a report of an attack Netcraft already has is a 409 naming the existing case (TD_EXISTS)', async () => {
    const value = attack()
    const first = (await post('/v1/cases', body(value))).json() as Case
    // the gateway's own duplicate check finds the open case first...
    const again = await post('/v1/cases', body(value))
    expect(again.statusCode).toBe(409)
    expect(again.json()).toMatchObject({ code: 'GW_ERR_DUPLICATE_CASE', existing: first.id })
    // ...and with allowDuplicate the report reaches Netcraft, which answers TD_EXISTS with the same takedown
    const before = reports()
    const forced = await post('/v1/cases', body(value.replace('https://', 'HTTPS://') + '/', { allowDuplicate: true }))
    expect(forced.statusCode, forced.body).toBe(409)
    expect(forced.json()).toMatchObject({ code: 'GW_ERR_DUPLICATE_CASE', provider: 'netcraft', existing: first.id })
    expect(forced.json().detail).toContain('TD_EXISTS')
    expect(reports()).toBe(before + 1)
  })

  it('a wildcard sub-domain variant is refused with 409 (TD_WILDCARD); a report held for verification says so (TD_VERIFY)', async () => {
    const list = (await get('/v1/cases?provider=netcraft&limit=100')).json() as { items: Case[] }
    const wildcard = list.items.find(c => c.target.value.includes('*.'))!
    const host = new URL(wildcard.target.value.replace('*.', 'x.')).hostname
    const wild = await post('/v1/cases', body(`https://login.${host.slice(2)}/x`))
    expect(wild.statusCode, wild.body).toBe(409)
    expect(wild.json().detail).toContain('TD_WILDCARD')
    const held = await post('/v1/cases', body(attack('verify-hold.x')))
    expect(held.statusCode, held.body).toBe(422)
    expect(held.json().detail).toContain('TD_VERIFY')
  })

  it('bad input is a 400 naming the field, and nothing reaches Netcraft', async () => {
    const before = reports()
    const noComment = await post('/v1/cases', { provider: 'netcraft', target: { type: 'url', value: attack() } })
    expect(noComment.statusCode).toBe(400)
    expect(noComment.json().errors).toEqual([{ path: '/comment', message: expect.stringContaining('comment') }])
    const unknownOption = await post('/v1/cases', body(attack(), { providerOptions: { priority: 'high' } }))
    expect(unknownOption.statusCode).toBe(400)
    expect(unknownOption.json().errors[0].path).toBe('/providerOptions/priority')
    const email = await post('/v1/cases', { ...body(''), target: { type: 'email', value: 'prince@fraud.example' } })
    expect(email.statusCode).toBe(400)
    expect(email.json().errors[0].path).toBe('/providerOptions/attackType')
    expect(reports()).toBe(before)
    // a dry run shows the form-encoded request without sending it
    const plan = await post('/v1/cases?dryRun=true', body('https://plan.example.net/x'))
    expect(plan.statusCode, plan.body).toBe(200)
    expect(plan.json().request).toMatchObject({
      path: '/report/',
      contentType: 'application/x-www-form-urlencoded',
      body: { attack: 'https://plan.example.net/x', type: 'phishing_url', force_auth: 'true', region: 'sandbox-region', brand: 'Acme Bank' }
    })
    expect(reports()).toBe(before)
  })

  it('comments become notes in the history; escalation needs an authorised takedown, then shows in the record', async () => {
    const created = (await post('/v1/cases', body(attack()))).json() as Case
    expect((await post(`/v1/cases/${created.id}/comments`, { comment: 'Also targets our mobile users' })).statusCode).toBe(202)
    // not authorised yet (verification takes ten minutes): Netcraft refuses, the gateway says the provider rejected it
    const early = await post(`/v1/cases/${created.id}/actions/escalate`)
    expect(early.statusCode, early.body).toBe(422)
    expect(early.json()).toMatchObject({ code: 'GW_ERR_PROVIDER_REJECTED', provider: 'netcraft' })
    gw.clock.advance(11 * MIN)
    const escalated = await post(`/v1/cases/${created.id}/actions/escalate`)
    expect(escalated.statusCode, escalated.body).toBe(202)
    const detail = (await get(`/v1/cases/${created.id}?include=raw`)).json()
    const messages = (detail.history as Array<{ message: string }>).map(h => h.message)
    expect(messages).toContain('api@acme.example: Also targets our mobile users')
    expect(messages).toContain('Takedown escalated from automated to managed')
    expect(detail.raw.takedown).toMatchObject({ escalated: '1', escalation_source: 'customer' })
    expect((await post(`/v1/cases/${created.id}/actions/monitor`)).statusCode).toBe(422)
    expect((await post(`/v1/cases/${created.id}/cancel`, { reasonId: 1 })).statusCode).toBe(422)
  })

  it('serves its statuses and attack types as reference data, and /v1/providers shows it with its capabilities', async () => {
    const statuses = (await get('/v1/reference/statuses?provider=netcraft')).json()
    expect(statuses.items.map((s: { id: string }) => s.id)).toHaveLength(10)
    expect(statuses.items.find((s: { id: string }) => s.id === 'resolved')).toMatchObject({ name: 'Resolved', unifiedStatus: 'taken_down', terminal: true })
    const types = (await get('/v1/reference/threat-types?provider=netcraft')).json()
    expect(types.items.map((t: { id: string }) => t.id)).toContain('phishing_url')
    const providers = (await get('/v1/providers')).json().items as Array<{ id: string, mode: string, capabilities: Record<string, unknown> }>
    expect(providers.map(p => p.id)).toEqual([...PROVIDER_IDS])
    expect(providers.find(p => p.id === 'netcraft')).toMatchObject({
      mode: 'sandbox',
      capabilities: { create: { takedown: ['url', 'domain', 'email', 'ipv4'], monitor: ['url', 'domain'] }, comments: true, cancel: false, actions: ['escalate'] }
    })
  })
})
