import type { ProviderModule } from '../connector.js'

// PLACEHOLDER: replaced by the phishfort connector work
export const phishfortModule: ProviderModule = {
  id: 'phishfort',
  create () { throw new Error('phishfort connector not implemented yet') }
}
