/**
 * Web Risk end to end: the real gateway in live mode against the Web Risk and Netcraft simulators on loopback, Web
 * Risk listed from the gateway's own record (WEBRISK_LIST_OPERATIONS=false, the default). Create a URL with its
 * justification, the duplicate check and Idempotency-Key before the vendor call, the operation followed by the
 * watcher to `mitigated` or `closed` with events, the merged listing under one cursor, the case read, analytics,
 * the capabilities it lacks, and no private key or token in a log line or an answer.
 */
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { ManualClock } from '../../../src/clock.js'
import { SIMULATOR_TEST_PRIVATE_KEY } from '../../../src/connectors/webrisk/sandbox-key.js'
import { providerEnv } from '../../../src/providers/env.js'
import { CaseDetailSchema, CaseSchema, type Case } from '../../../src/schemas/case.js'
import type { CaseEvent } from '../../../src/schemas/event.js'
import { startSandbox, type Sandbox } from '../../../src/simulators/sandbox.js'
import { testGateway, type TestGateway } from '../../support/app.js'

const MIN = 60_000
const KEY = 'webrisk-e2e-ops-key-0123456789abcdef'
const SUBMIT = ['POST', '/v1/projects/:project/uris::submit'] as const
const lines: string[] = []
const answers: string[] = []
let gw: TestGateway
let sandbox: Sandbox

beforeAll(async () => {
  const clock = new ManualClock()
  sandbox = await startSandbox(clock, { seed: 4 })
  const webrisk = sandbox.endpoints.webrisk
  gw = await testGateway({
    clock,
    sandbox,
    logger: { level: 'trace', stream: new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } }) },
    env: {
      SANDBOX: 'false',
      GATEWAY_API_KEYS: `ops:${KEY}:read+write+admin`,
      ...providerEnv('webrisk', { ...webrisk, options: { ...webrisk.options, listOperations: 'false' } }),
      ...providerEnv('netcraft', sandbox.endpoints.netcraft)
    }
  })
})
afterAll(async () => {
  await gw?.close()
  await sandbox?.close()
})

const headers = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${KEY}`, ...extra })
async function call (method: 'GET' | 'POST', url: string, payload?: unknown, extra: Record<string, string> = {}): Promise<{ status: number, json: any }> {
  const res = await gw.app.inject({ method, url, headers: headers(extra), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
  answers.push(res.body, JSON.stringify(res.headers))
  return { status: res.statusCode, json: res.body === '' ? null : res.json() }
}
const submits = (): number => sandbox.running.webrisk.sim.stats.get(...SUBMIT)
const sync = async (): Promise<number> => (await gw.app.events.watcher.sync('webrisk')).events
let unique = 0
const url = (word: string): string => `https://login-acme-${unique++}-${word}.example.net/secure`
const create = (value: string) => ({ provider: 'webrisk', target: { type: 'url', value }, comment: 'clone of our login page, reported by a customer', providerOptions: { abuseType: 'SOCIAL_ENGINEERING', justificationLabels: ['USER_REPORT'] } })

async function feed (): Promise<CaseEvent[]> {
  const out: CaseEvent[] = []
  let after: string | null = null
  for (;;) {
    const res = await call('GET', `/v1/events?limit=100${after === null ? '' : `&after=${after}`}`)
    expect(res.status).toBe(200)
    out.push(...res.json.items as CaseEvent[])
    if (res.json.items.length === 0 || res.json.next === after) return out
    after = res.json.next
  }
}

const created: Record<string, Case> = {}

describe('Google Web Risk through the gateway', () => {
  it('creates a URL submission with its justification; a duplicate and an Idempotency-Key retry send nothing more', async () => {
    expect(await sync()).toBe(0)
    const before = submits()
    const phish = url('phish')
    const res = await call('POST', '/v1/cases', create(phish))
    expect(res.status, JSON.stringify(res.json)).toBe(201)
    expect(res.json).toMatchObject({ provider: 'webrisk', status: 'received', terminal: false, target: { type: 'url', value: phish } })
    expect(res.json.providerCaseId).toMatch(/^508138417679\.\d{20}$/)
    expect(Value.Check(CaseSchema, res.json)).toBe(true)
    created.phish = res.json
    expect(submits()).toBe(before + 1)

    const again = await call('POST', '/v1/cases', create(phish))
    expect(again.status).toBe(409)
    expect(again.json.existing?.id ?? again.json.existing).toBeDefined()
    expect(submits()).toBe(before + 1)

    const benign = url('benign')
    const first = await call('POST', '/v1/cases', create(benign), { 'idempotency-key': `wr-${benign}` })
    const retry = await call('POST', '/v1/cases', create(benign), { 'idempotency-key': `wr-${benign}` })
    expect([first.status, retry.status]).toEqual([201, 201])
    expect(retry.json.id).toBe(first.json.id)
    created.benign = first.json
    expect(submits()).toBe(before + 2)
  })

  it('the watcher follows the operations: RUNNING → SUCCEEDED is mitigated, RUNNING → CLOSED is closed, each change one event', async () => {
    // first poll a minute after the submission: both under review
    gw.clock.advance(MIN)
    expect(await sync()).toBe(2)
    // the simulator's review takes 5 minutes; the 2-minute poll, due since, reads the outcome
    gw.clock.advance(5 * MIN)
    expect(await sync()).toBe(2)
    const events = (await feed()).filter(e => e.case?.provider === 'webrisk')
    const trail = (id: string) => events.filter(e => e.case?.id === id).map(e => `${e.type}:${e.case?.status ?? ''}`)
    expect(trail(created.phish!.id)).toEqual(['case.created:received', 'case.status_changed:in_review', 'case.status_changed:mitigated'])
    expect(trail(created.benign!.id)).toEqual(['case.created:received', 'case.status_changed:in_review', 'case.status_changed:closed'])
    // a closed submission is no longer polled; a mitigated one stays open (still blocklisted) but done: no more reads
    const reads = sandbox.running.webrisk.sim.stats.get('GET', '/v1/projects/:project/operations/:id')
    gw.clock.advance(3 * 60 * MIN)
    expect(await sync()).toBe(0)
    expect(sandbox.running.webrisk.sim.stats.get('GET', '/v1/projects/:project/operations/:id')).toBe(reads)
  })

  it('reads a case: the operation now, history from the submission to the outcome, closedReason kept', async () => {
    const res = await call('GET', `/v1/cases/${encodeURIComponent(created.benign!.id)}?include=raw`)
    expect(res.status).toBe(200)
    expect(Value.Check(CaseDetailSchema, res.json)).toBe(true)
    expect(res.json).toMatchObject({ status: 'closed', terminal: true, providerStatus: 'CLOSED' })
    expect(res.json.history.map((h: { status: string | null }) => h.status)).toEqual(expect.arrayContaining(['received', 'closed']))
    expect(res.json.history.some((h: { message: string | null }) => h.message?.includes('NO_THREAT_DETECTED'))).toBe(true)
    expect(res.json.raw.name).toMatch(/^projects\/508138417679\/operations\/\d{20}$/)
    const phish = await call('GET', `/v1/cases/${encodeURIComponent(created.phish!.id)}`)
    expect(phish.json).toMatchObject({ status: 'mitigated', terminal: false, threat: { class: 'phishing', name: 'SOCIAL_ENGINEERING' } })
    expect((await call('GET', '/v1/cases/webrisk%3A508138417679.1')).status).toBe(404)
  })

  it('lists Web Risk cases from the record merged with Netcraft\'s under one cursor, each once, newest first', async () => {
    const seen: Case[] = []
    let cursor: string | null = null
    do {
      const res = await call('GET', `/v1/cases?limit=7${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      expect(res.status).toBe(200)
      expect(res.json.partial).toBe(false)
      seen.push(...res.json.items as Case[])
      cursor = res.json.nextCursor
    } while (cursor !== null)
    expect(new Set(seen.map(c => c.id)).size).toBe(seen.length)
    for (let i = 1; i < seen.length; i++) expect(Date.parse(seen[i]!.createdAt)).toBeLessThanOrEqual(Date.parse(seen[i - 1]!.createdAt))
    const webrisk = seen.filter(c => c.provider === 'webrisk')
    // both were submitted at the same instant (the manual clock did not move): the merge orders the tie by id
    expect(webrisk.map(c => [c.id, c.status]).sort()).toEqual([[created.phish!.id, 'mitigated'], [created.benign!.id, 'closed']].sort())
    expect(seen.filter(c => c.provider === 'netcraft').length).toBeGreaterThan(30)
    const open = await call('GET', '/v1/cases?provider=webrisk&terminal=false')
    expect(open.json.items.map((c: Case) => c.id)).toEqual([created.phish!.id])
  })

  it('analytics count Web Risk cases by their current status', async () => {
    const res = await call('GET', '/v1/analytics/takedowns?groupBy=provider')
    expect(res.status).toBe(200)
    const group = res.json.groups.find((g: { key: { provider?: string } }) => g.key.provider === 'webrisk')
    expect(group).toMatchObject({ cases: 2, statuses: { mitigated: 1, closed: 1 } })
  })

  it('what Web Risk cannot do is a 422 before any vendor call: cancel, comments, domains, monitoring', async () => {
    const before = sandbox.running.webrisk.sim.stats.total()
    const id = encodeURIComponent(created.phish!.id)
    for (const [path, body] of [[`/v1/cases/${id}/cancel`, { reasonId: 1 }], [`/v1/cases/${id}/comments`, { comment: 'still up' }]] as const) {
      const res = await call('POST', path, body)
      expect(res.status, path).toBe(422)
      expect(res.json.provider).toBe('webrisk')
    }
    expect((await call('POST', '/v1/cases', { provider: 'webrisk', target: { type: 'domain', value: 'acme-login.example' } })).status).toBe(422)
    expect((await call('POST', '/v1/cases', { provider: 'webrisk', action: 'monitor', target: { type: 'url', value: url('m') } })).status).toBe(422)
    expect(sandbox.running.webrisk.sim.stats.total()).toBe(before)
  })

  it('never logs or answers the service-account private key or an access token', () => {
    const keyLines = SIMULATOR_TEST_PRIVATE_KEY.split('\n').filter(l => l.length > 40)
    const token = /sim\.[A-Za-z0-9_-]{24}/
    expect(lines.length).toBeGreaterThan(10)
    for (const text of [...lines, ...answers]) {
      expect(text).not.toContain('PRIVATE KEY')
      for (const l of keyLines) expect(text).not.toContain(l)
      expect(text).not.toMatch(token)
    }
  })
})
