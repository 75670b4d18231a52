/**
 * Sandbox activity: other people's cases arriving at the simulated vendors, so a sandbox gateway's event stream has
 * something to show. Every `everyMs` a takedown is reported straight at the PhishFort or the BforeAI simulator
 * (their own APIs, as another analyst would); the simulators then move it through its lifecycle on their clock.
 */
import { request } from 'undici'
import type { Sandbox } from './sandbox.js'

export function startSandboxActivity (sandbox: Sandbox, everyMs: number, onError: (err: Error) => void): () => void {
  let n = 0
  const report = async (): Promise<void> => {
    n++
    const url = `https://login-acme-${Date.now().toString(36)}-${n}.sandbox.example/secure`
    const pf = n % 2 === 1
    const target = pf ? sandbox.endpoints.phishfort : sandbox.endpoints.bforeai
    const res = await request(pf ? `${target.baseUrl}/v1/incident/tkd` : `${target.baseUrl}/v2/takedown/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(pf ? { 'x-api-key': target.credential } : { 'x-authorization': target.credential }) },
      body: JSON.stringify(pf ? { url, reportedBy: 'analyst@acme.example' } : { url, brand_id: 501, comment: 'Look-alike login page (sandbox activity)' })
    })
    await res.body.dump()
  }
  const timer = setInterval(() => { report().catch(onError) }, everyMs)
  timer.unref()
  report().catch(onError)
  return () => { clearInterval(timer) }
}
