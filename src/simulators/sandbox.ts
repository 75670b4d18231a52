/** Sandbox mode: one simulator per provider on a loopback port, as stand-ins for the vendors (CONTRACT §2). */
import type { Clock } from '../clock.js'
import type { SandboxEndpoint } from '../connectors/build.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { startSimulator, type RunningSimulator } from './harness.js'
import { SANDBOX_CLOUDFLARE_ACCOUNT, SANDBOX_CREDENTIALS, SIMULATORS } from './index.js'

export interface Sandbox {
  running: Record<ProviderId, RunningSimulator>
  endpoints: Record<ProviderId, SandboxEndpoint>
  close (): Promise<void>
}

export function sandboxEndpoints (running: Record<ProviderId, RunningSimulator>): Record<ProviderId, SandboxEndpoint> {
  return Object.fromEntries(PROVIDER_IDS.map(id => [id, {
    baseUrl: running[id].baseUrl,
    credential: SANDBOX_CREDENTIALS[id],
    accountId: SANDBOX_CLOUDFLARE_ACCOUNT
  }])) as Record<ProviderId, SandboxEndpoint>
}

export async function startSandbox (clock: Clock, opts: { seed?: number, count?: number } = {}): Promise<Sandbox> {
  const running = {} as Record<ProviderId, RunningSimulator>
  for (const id of PROVIDER_IDS) {
    const sim = SIMULATORS[id]({ clock, apiKey: SANDBOX_CREDENTIALS[id], accountId: SANDBOX_CLOUDFLARE_ACCOUNT, ...opts })
    running[id] = await startSimulator(sim)
  }
  return {
    running,
    endpoints: sandboxEndpoints(running),
    close: async () => { await Promise.all(PROVIDER_IDS.map(id => running[id].close())) }
  }
}
