/** The simulator of each registered provider, built from its module (connectors/<id>/provider.ts). */
import type { Clock } from '../clock.js'
import { PROVIDER_MODULES, PROVIDERS } from '../providers/registry.js'
import type { ProviderId } from '../schemas/provider.js'
import type { Simulator } from './harness.js'

/** Credentials the simulators accept in sandbox mode (not secrets: they only open loopback fakes). */
export const SANDBOX_CREDENTIALS = Object.fromEntries(PROVIDERS.map(m => [m.id, m.sandbox.credential])) as Record<ProviderId, string>

/** A provider's simulator with its sandbox options; `apiKey` replaces the sandbox credential (live-mode tests). */
export async function createSimulator (id: ProviderId, opts: { clock: Clock, apiKey?: string, seed?: number, count?: number, spanDays?: number, flags?: Record<string, string> }): Promise<Simulator> {
  const m = PROVIDER_MODULES[id]
  const factory = await m.simulator()
  return factory({ ...opts, apiKey: opts.apiKey ?? m.sandbox.credential, options: m.sandbox.options })
}
