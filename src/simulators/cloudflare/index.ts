import type { Simulator, SimulatorOptions } from '../harness.js'

// PLACEHOLDER: replaced by the cloudflare simulator work
export function createCloudflareSimulator (_opts: SimulatorOptions): Simulator {
  throw new Error('cloudflare simulator not implemented yet')
}
