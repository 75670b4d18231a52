/**
 * The simulator of each registered provider. Simulators register here, on their own side, so a connector never
 * imports a simulator; a provider id without a line here (or a line for an id that is not one) fails the typecheck.
 */
import type { Clock } from '../clock.js'
import { PROVIDER_MODULES, PROVIDERS } from '../providers/registry.js'
import type { ProviderId } from '../schemas/provider.js'
import type { Simulator, SimulatorFactory } from './harness.js'

/** Each provider's simulator factory, imported when first started (the gateway process loads none in live mode). */
const FACTORIES = {
  bforeai: async () => (await import('./bforeai/index.js')).createBforeaiSimulator,
  phishfort: async () => (await import('./phishfort/index.js')).createPhishfortSimulator,
  cloudflare: async () => (await import('./cloudflare/index.js')).cloudflareSimulator,
  netcraft: async () => (await import('./netcraft/index.js')).createNetcraftSimulator,
  webrisk: async () => (await import('./webrisk/index.js')).createWebriskSimulator
} as const satisfies { [K in ProviderId]: () => Promise<SimulatorFactory> }

/** Credentials the simulators accept in sandbox mode (not secrets: they only open loopback fakes). */
export const SANDBOX_CREDENTIALS = Object.fromEntries(PROVIDERS.map(m => [m.id, m.sandbox.credential])) as Record<ProviderId, string>

/** A provider's simulator with its sandbox options; `apiKey` replaces the sandbox credential (live-mode tests). */
export async function createSimulator (id: ProviderId, opts: { clock: Clock, apiKey?: string, seed?: number, count?: number, spanDays?: number, flags?: Record<string, string> }): Promise<Simulator> {
  const m = PROVIDER_MODULES[id]
  const factory = await FACTORIES[id]()
  return factory({ ...opts, apiKey: opts.apiKey ?? m.sandbox.credential, options: m.sandbox.options })
}
