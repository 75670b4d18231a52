/** Sandbox mode: one simulator per provider on a loopback port, as stand-ins for the vendors (README 'Configuration'). */
import type { Clock } from '../clock.js'
import type { SandboxEndpoint } from '../providers/build.js'
import { PROVIDER_MODULES } from '../providers/registry.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { startSimulator, type RunningSimulator } from './harness.js'
import { createSimulator } from './index.js'
import { createRdapSimulator, simBootstrap, simResolve } from './rdap/index.js'
import { startSmallInternet, type SmallInternet } from './targets/index.js'

/** the RDAP simulator the sandbox's target enrichment asks: its bootstrap files and its stand-in for DNS */
export interface SandboxRdap {
  running: RunningSimulator
  bootstrap: ReturnType<typeof simBootstrap>
  resolve: (host: string) => Promise<string[]>
}

export interface Sandbox {
  running: Record<ProviderId, RunningSimulator>
  endpoints: Record<ProviderId, SandboxEndpoint>
  /** absent in sandboxes built by hand (tests that need no RDAP) */
  rdap?: SandboxRdap
  /** the reported sites themselves, for the gateway's verification probes (absent in sandboxes built by hand) */
  internet?: SmallInternet
  close (): Promise<void>
}

export async function startRdapSandbox (clock: Clock): Promise<SandboxRdap> {
  const running = await startSimulator(await createRdapSimulator({ clock }))
  return { running, bootstrap: simBootstrap(running.origin), resolve: simResolve }
}

export function sandboxEndpoints (running: Record<ProviderId, RunningSimulator>): Record<ProviderId, SandboxEndpoint> {
  return Object.fromEntries(PROVIDER_IDS.map(id => [id, {
    baseUrl: running[id].baseUrl,
    credential: PROVIDER_MODULES[id].sandbox.credential,
    options: PROVIDER_MODULES[id].sandbox.options
  }])) as Record<ProviderId, SandboxEndpoint>
}

export async function startSandbox (clock: Clock, opts: { seed?: number, count?: number, spanDays?: number, flags?: Record<string, string> } = {}): Promise<Sandbox> {
  const running = {} as Record<ProviderId, RunningSimulator>
  for (const id of PROVIDER_IDS) running[id] = await startSimulator(await createSimulator(id, { clock, ...opts }))
  const rdap = await startRdapSandbox(clock)
  // every vendor's targets, as each vendor holds them now: the small internet follows their cases
  const internet = await startSmallInternet({ clock, targets: () => PROVIDER_IDS.flatMap(id => running[id].sim.targets?.() ?? []) })
  return {
    running,
    endpoints: sandboxEndpoints(running),
    rdap,
    internet,
    close: async () => { await Promise.all([...PROVIDER_IDS.map(async id => { await running[id].close() }), rdap.running.close(), internet.close()]) }
  }
}
