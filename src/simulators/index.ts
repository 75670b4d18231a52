import type { ProviderId } from '../schemas/provider.js'
import type { Simulator, SimulatorOptions } from './harness.js'
import { createBforeaiSimulator } from './bforeai/index.js'
import { createCloudflareSimulator } from './cloudflare/index.js'
import { createPhishfortSimulator } from './phishfort/index.js'

export const SIMULATORS = {
  bforeai: createBforeaiSimulator,
  phishfort: createPhishfortSimulator,
  cloudflare: createCloudflareSimulator
} as const satisfies Record<ProviderId, (opts: SimulatorOptions) => Simulator>

/** Credentials the simulators accept in sandbox mode (not secrets: they only open loopback fakes). */
export const SANDBOX_CREDENTIALS = {
  bforeai: 'sandbox-bforeai-key',
  phishfort: 'sandbox-phishfort-key',
  cloudflare: 'sandbox-cloudflare-token'
} as const satisfies Record<ProviderId, string>

export const SANDBOX_CLOUDFLARE_ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353'
