import type { Simulator, SimulatorOptions } from '../harness.js'

// PLACEHOLDER: replaced by the phishfort simulator work
export function createPhishfortSimulator (_opts: SimulatorOptions): Simulator {
  throw new Error('phishfort simulator not implemented yet')
}
