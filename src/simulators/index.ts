/**
 * The simulator of each registered provider, found on the simulators' side by the provider's id, so a connector never
 * imports a simulator and a new provider adds no line here.
 */
import type { Clock } from '../clock.js'
import { PROVIDER_MODULES, PROVIDERS } from '../providers/registry.js'
import type { ProviderId } from '../schemas/provider.js'
import type { Simulator, SimulatorFactory } from './harness.js'

/**
 * A provider's simulator, found by convention from its registry id: `./<id>/index.ts` exports `simulator`, imported
 * when first started (the gateway process loads none in live mode). A registered provider without one fails
 * test/simulators/registry.test.ts.
 */
async function factoryOf (id: ProviderId): Promise<SimulatorFactory> {
  // a specifier held in a variable: loaded as written, by Node and by the test runner alike
  const path = `./${id}/index.js`
  const mod: { simulator?: SimulatorFactory } = await import(/* @vite-ignore */ path)
  if (typeof mod.simulator !== 'function') throw new Error(`src/simulators/${id}/index.ts exports no simulator factory`)
  return mod.simulator
}

/** Credentials the simulators accept in sandbox mode (not secrets: they only open loopback fakes). */
export const SANDBOX_CREDENTIALS = Object.fromEntries(PROVIDERS.map(m => [m.id, m.sandbox.credential])) as Record<ProviderId, string>

/** A provider's simulator with its sandbox options; `apiKey` replaces the sandbox credential (live-mode tests). */
export async function createSimulator (id: ProviderId, opts: { clock: Clock, apiKey?: string, seed?: number, count?: number, spanDays?: number, flags?: Record<string, string> }): Promise<Simulator> {
  const factory = await factoryOf(id)
  const m = PROVIDER_MODULES[id]
  return factory({ ...opts, apiKey: opts.apiKey ?? m.sandbox.credential, options: m.sandbox.options })
}
