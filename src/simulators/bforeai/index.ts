import type { Simulator, SimulatorOptions } from '../harness.js'

// PLACEHOLDER: replaced by the bforeai simulator work
export function createBforeaiSimulator (_opts: SimulatorOptions): Simulator {
  throw new Error('bforeai simulator not implemented yet')
}
