/**
 * SANDBOX_SPEED compresses waiting, never time: a gateway built as `npm start` builds it with SANDBOX_SPEED=600, with
 * a manual clock standing for the wall clock, walked through 10 minutes. Cases step through their lifecycles 600
 * times sooner, every time the simulators report is at or before now, and PhishFort's signed webhooks are accepted.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ManualClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import type { PhishfortWebhooks } from '../../src/simulators/phishfort/webhooks.js'
import { auth, KEYS, TEST_SECRET } from '../support/app.js'

const SPEED = 600
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/

let clock: ManualClock
let app: FastifyInstance
let sandbox: Sandbox

/**
 * Every string in a JSON answer that reads as a date-time, with the path it was found at. A pending Cloudflare
 * mitigation's effective date is when it "will become active" (Cloudflare API docs, List abuse report mitigations):
 * a date the vendor plans, not one it reports, so it is allowed to lie ahead, like the gateway's next probe of a target.
 */
function timesIn (value: unknown, path = ''): Array<{ path: string, at: number }> {
  if (typeof value === 'string') return ISO.test(value) ? [{ path, at: Date.parse(value.includes('T') ? value : value.replace(' ', 'T') + 'Z') }] : []
  if (Array.isArray(value)) return value.flatMap((v, i) => timesIn(v, `${path}[${i}]`))
  if (value !== null && typeof value === 'object') {
    // the gateway's own plan is ahead too: when its next probe of the target is due (verification.nextCheckAt) and
    // when a service level falls due (sla.firstActionDueAt, sla.downDueAt)
    const planned = [...(value as { status?: unknown }).status === 'pending' ? ['effectiveAt', 'effective_date'] : [], 'nextCheckAt', 'firstActionDueAt', 'downDueAt']
    return Object.entries(value).filter(([k]) => !planned.includes(k)).flatMap(([k, v]) => timesIn(v, `${path}.${k}`))
  }
  return []
}

async function allCases (): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = []
  let cursor: string | undefined
  do {
    const res = await app.inject({ url: `/v1/cases?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, headers: auth() })
    expect(res.statusCode, res.body).toBe(200)
    items.push(...res.json().items)
    cursor = res.json().nextCursor ?? undefined
  } while (cursor !== undefined)
  return items
}

/** the vendors' own answers (every simulator, its list route) and the gateway's views built from them */
async function futureTimes (created: string[]): Promise<string[]> {
  const now = clock.now()
  const answers: unknown[] = [await allCases()]
  for (const id of created) answers.push((await app.inject({ url: `/v1/cases/${id}`, headers: auth() })).json())
  for (const id of created) answers.push((await app.inject({ url: `/v1/cases/${id}/history`, headers: auth() })).json())
  const vendors: Record<string, { path: string, headers: Record<string, string> }> = {
    phishfort: { path: '/v1/incidents?limit=100', headers: { 'x-api-key': sandbox.endpoints.phishfort.credential } },
    bforeai: { path: '/v2/takedown/list?page_size=100', headers: { 'x-authorization': sandbox.endpoints.bforeai.credential } },
    netcraft: { path: '/attacks/?max_results=100', headers: { authorization: `Bearer ${sandbox.endpoints.netcraft.credential}` } },
    cloudflare: { path: `/accounts/${String(sandbox.endpoints.cloudflare.options.accountId)}/abuse-reports?per_page=100`, headers: { authorization: `Bearer ${sandbox.endpoints.cloudflare.credential}` } }
  }
  for (const [id, { path, headers }] of Object.entries(vendors)) {
    const res = await fetch(`${sandbox.endpoints[id as keyof typeof sandbox.endpoints].baseUrl}${path}`, { headers })
    answers.push({ [id]: { status: res.status, body: res.headers.get('content-type')?.includes('json') === true ? await res.json() : await res.text() } })
  }
  return answers.flatMap(a => timesIn(a)).filter(t => t.at > now).map(t => `${t.path} = ${new Date(t.at).toISOString()} (now ${new Date(now).toISOString()})`)
}

beforeAll(async () => {
  clock = new ManualClock('2026-11-01T09:00:00.000Z')
  const config = loadConfig({
    SANDBOX: 'true',
    SANDBOX_SPEED: String(SPEED),
    GATEWAY_SECRET: TEST_SECRET,
    GATEWAY_API_KEYS: KEYS,
    LOG_LEVEL: 'silent',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    WATCH_ENABLED: 'false'
  })
  // no sandbox given: the app starts its own simulators at SANDBOX_SPEED, as `npm start` does
  app = await buildApp({ config, clock, logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  sandbox = app.sandbox as Sandbox
})
afterAll(async () => { await app.close() })

describe('SANDBOX_SPEED=600', () => {
  it('over 10 minutes of wall time: lifecycles 600 times sooner, no vendor time after now, PhishFort webhooks accepted', async () => {
    const origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    const reg = await app.inject({ method: 'POST', url: '/v1/admin/inbound/phishfort/subscription', headers: auth(), payload: { url: `${origin}/v1/inbound/phishfort` } })
    expect(reg.statusCode, reg.body).toBe(201)
    const hooks = sandbox.running.phishfort.sim.webhooks as PhishfortWebhooks

    const created: string[] = []
    const createdAt = new Map<string, number>()
    const future: string[] = []
    for (let second = 0; second < 600; second += 5) {
      if (second % 60 === 0) {
        for (const [i, id] of PROVIDER_IDS.entries()) {
          const body = PROVIDER_MODULES[id].exampleCreate({ type: 'url', value: `https://login-${second}-${i}.speed.example/secure` })
          const res = await app.inject({ method: 'POST', url: '/v1/cases', payload: body, headers: auth() })
          expect(res.statusCode, res.body).toBe(201)
          created.push(res.json().id)
          createdAt.set(res.json().id, clock.now())
        }
      }
      if (second % 60 === 30) future.push(...await futureTimes(created))
      await hooks.deliverDue()
      clock.advance(5000)
    }
    future.push(...await futureTimes(created))
    expect(future).toEqual([])

    // PhishFort's 24 h takedown lifecycle took 144 s of wall time: the first incident is done, at its compressed time
    const pf = created.find(id => id.startsWith('phishfort:')) as string
    const detail = (await app.inject({ url: `/v1/cases/${pf}`, headers: auth() })).json()
    expect(detail.providerStatus).toBe('takedown_success')
    const start = createdAt.get(pf) as number
    expect(Date.parse(detail.createdAt)).toBe(start)
    expect(Date.parse(detail.updatedAt)).toBe(start + 24 * 3_600_000 / SPEED)
    // BforeAI's 55 h lifecycle took 330 s
    const bf = created.find(id => id.startsWith('bforeai:')) as string
    expect((await app.inject({ url: `/v1/cases/${bf}`, headers: auth() })).json()).toMatchObject({ providerStatus: 'Taken Down' })

    const sent = hooks.attempts.filter(a => a.event === 'incident.status_changed')
    expect(sent.length).toBeGreaterThan(0)
    expect(sent.map(a => a.status).filter(s => s !== 202)).toEqual([])
  })
})
