/** The `/__sim` controls for what only a vendor's own people decide: plans of future statuses, an appeal's outcome. */
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import type { ProviderId } from '../../src/schemas/provider.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'
import { createSimulator, SANDBOX_CREDENTIALS } from '../../src/simulators/index.js'

const MIN = 60_000
const HOURS = 60 * MIN
const clock = new ManualClock(Date.parse('2026-03-02T10:00:00Z'))
let running: RunningSimulator | undefined
afterEach(async () => { await running?.close() })

async function start (id: ProviderId): Promise<RunningSimulator> {
  running = await startSimulator(await createSimulator(id, { clock, seed: 2, count: 5 }))
  return running
}

async function call (sim: RunningSimulator, method: string, path: string, body?: unknown, auth: Record<string, string> = {}): Promise<{ status: number, text: string }> {
  const control = path.startsWith('/__sim')
  const res = await fetch((control ? sim.origin : sim.baseUrl) + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: res.status, text: await res.text() }
}

describe('simulator plan controls', () => {
  it('PhishFort: the incident keeps its status, then reaches each planned status on the clock, without a client note', async () => {
    const sim = await start('phishfort')
    const auth = { 'x-api-key': SANDBOX_CREDENTIALS.phishfort }
    const { id } = JSON.parse((await call(sim, 'POST', '/v1/incident/tkd', { url: 'https://plan.example/login' }, auth)).text) as { id: string }
    const plan = { steps: [{ afterMs: 10 * MIN, status: 'approval_required' }, { afterMs: 20 * MIN, status: 'takedown_attempt_failed' }] }
    expect((await call(sim, 'POST', `/__sim/incidents/${id}/plan`, plan)).status).toBe(204)
    const read = async (): Promise<{ status: string, history: unknown[] }> => (JSON.parse((await call(sim, 'GET', `/v1/incident/${id}`, undefined, auth)).text) as { data: { status: string, history: unknown[] } }).data
    expect((await read()).status).toBe('pending_review')
    expect((await read()).history).toHaveLength(1)
    clock.advance(10 * MIN)
    expect((await read()).status).toBe('approval_required')
    // the takedown lifecycle's case_building (+15 min) is gone: the plan replaced it
    clock.advance(10 * MIN)
    expect((await read()).status).toBe('takedown_attempt_failed')
    expect((await call(sim, 'POST', `/__sim/incidents/${id}/plan`, { steps: [{ afterMs: 0, status: 'gone' }] })).status).toBe(400)
    expect((await call(sim, 'POST', '/__sim/incidents/nope/plan', plan)).status).toBe(404)
  })

  it('BforeAI: a plan replaces the clock lifecycle; names come from its status list', async () => {
    const sim = await start('bforeai')
    const auth = { 'x-authorization': SANDBOX_CREDENTIALS.bforeai }
    const { id } = JSON.parse((await call(sim, 'POST', '/v2/takedown/request', { url: 'https://plan.example/login', brand_id: 501, comment: 'plan' }, auth)).text) as { id: string }
    expect((await call(sim, 'POST', `/__sim/takedowns/${id}/plan`, { steps: [{ afterMs: MIN, status: 'Monitoring' }, { afterMs: 2 * HOURS, status: 'Closed' }] })).status).toBe(204)
    const read = async (): Promise<string> => (JSON.parse((await call(sim, 'GET', `/v2/takedown/${id}`, undefined, auth)).text) as { status_name: string }).status_name
    expect(await read()).toBe('Pending')
    clock.advance(MIN)
    expect(await read()).toBe('Monitoring')
    clock.advance(2 * HOURS)
    expect(await read()).toBe('Closed')
    const unordered = { steps: [{ afterMs: 2 * MIN, status: 'Failed' }, { afterMs: MIN, status: 'Closed' }] }
    expect((await call(sim, 'POST', `/__sim/takedowns/${id}/plan`, unordered)).status).toBe(400)
    expect((await call(sim, 'POST', `/__sim/takedowns/${id}/plan`, { steps: [{ afterMs: 0, status: 'closed' }] })).status).toBe(400)
  })

  it('Netcraft: contacted_upstream, contacted_police and invalid on a plan', async () => {
    const sim = await start('netcraft')
    const auth = { authorization: `Bearer ${SANDBOX_CREDENTIALS.netcraft}` }
    const answer = (await call(sim, 'POST', '/report/', { attack: 'https://plan.example/login', comment: 'plan', force_auth: 'true' }, auth)).text
    const id = answer.split('\n')[1] ?? ''
    const steps = [{ afterMs: MIN, status: 'contacted_upstream' }, { afterMs: 2 * MIN, status: 'contacted_police' }, { afterMs: 3 * MIN, status: 'invalid' }]
    expect((await call(sim, 'POST', `/__sim/takedowns/${id}/plan`, { steps })).status).toBe(204)
    const read = async (): Promise<string> => {
      const list = JSON.parse((await call(sim, 'GET', '/attacks/?page_size=100', undefined, auth)).text) as Array<{ id: string, status: string }>
      return list.find(t => t.id === id)?.status ?? ''
    }
    const seen: string[] = []
    for (let i = 0; i < 3; i++) {
      clock.advance(MIN)
      seen.push(await read())
    }
    expect(seen).toEqual(['Contacted Upstream', 'Contacted Police', 'Invalid'])
    expect((await call(sim, 'POST', '/__sim/takedowns/1/plan', { steps })).status).toBe(404)
  })

  it('Cloudflare: an appeal\'s outcome removes the appealed mitigations or makes them active again', async () => {
    const sim = await start('cloudflare')
    const auth = { authorization: `Bearer ${SANDBOX_CREDENTIALS.cloudflare}` }
    const account = PROVIDER_MODULES.cloudflare.sandbox.options.accountId ?? ''
    const submit = { act: 'abuse_general', name: 'Acme SOC', email: 'soc@acme.example', email2: 'soc@acme.example', urls: 'https://plan.example/login', justification: 'clone', host_notification: 'send', owner_notification: 'send' }
    const { abuse_rand: id } = JSON.parse((await call(sim, 'POST', `/accounts/${account}/abuse-reports/abuse_general`, submit, auth)).text) as { abuse_rand: string }
    // nothing appealed yet
    expect((await call(sim, 'POST', `/__sim/abuse-reports/${id}/review`, { outcome: 'removed' })).status).toBe(400)
    clock.advance(5 * HOURS)
    expect((await call(sim, 'POST', `/accounts/${account}/abuse-reports/${id}/mitigations/appeal`, { type: 'content_removed' }, auth)).status).toBe(200)
    const statuses = async (): Promise<string[]> => (JSON.parse((await call(sim, 'GET', `/accounts/${account}/abuse-reports/${id}/mitigations`, undefined, auth)).text) as { result: { mitigations: Array<{ status: string }> } }).result.mitigations.map(m => m.status)
    expect(await statuses()).toEqual(['in_review'])
    expect((await call(sim, 'POST', `/__sim/abuse-reports/${id}/review`, { outcome: 'removed', afterMs: MIN })).status).toBe(204)
    expect(await statuses()).toEqual(['in_review'])
    clock.advance(MIN)
    expect(await statuses()).toEqual(['removed'])
    expect((await call(sim, 'POST', `/__sim/abuse-reports/${id}/review`, { outcome: 'maybe' })).status).toBe(400)
    expect((await call(sim, 'POST', '/__sim/abuse-reports/nope/review', { outcome: 'removed' })).status).toBe(404)
  })
})
