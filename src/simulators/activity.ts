/**
 * Sandbox activity: other people's cases arriving at the simulated vendors, so a sandbox gateway's event stream has
 * something to show. Every `everyMs` a takedown is reported straight at the PhishFort or the BforeAI simulator
 * (their own APIs, as another analyst would); the simulators then move it through its lifecycle on their clock, and
 * the small internet plays its site.
 */
import { request } from 'undici'
import type { Sandbox } from './sandbox.js'
import { fateOf, type Fate } from './targets/fates.js'

/**
 * The stories of the sites reported at PhishFort, in turn (the small internet picks a story by the host name, so the
 * name is chosen for it): a sped-up sandbox shows a re-emergence and a dispute within minutes, not by luck.
 */
const PHISHFORT_STORIES: readonly Fate[] = ['comes_back', 'stays_up', 'taken_down', 'dies_early']

/** the first of `base`, `base-1`, `base-2`... whose story is `fate` */
export function hostWithFate (base: string, fate: Fate): string {
  for (let i = 0; ; i++) {
    const host = `${base}${i === 0 ? '' : `-${i}`}.sandbox.example`
    if (fateOf(host) === fate) return host
  }
}

export function startSandboxActivity (sandbox: Sandbox, everyMs: number, onError: (err: Error) => void): () => void {
  let n = 0
  const report = async (): Promise<void> => {
    n++
    const pf = n % 2 === 1
    const base = `login-acme-${Date.now().toString(36)}-${n}`
    const url = `https://${pf ? hostWithFate(base, PHISHFORT_STORIES[((n - 1) / 2) % PHISHFORT_STORIES.length] as Fate) : `${base}.sandbox.example`}/secure`
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
