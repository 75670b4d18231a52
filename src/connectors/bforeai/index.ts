import type { ProviderModule } from '../connector.js'

// PLACEHOLDER: replaced by the bforeai connector work
export const bforeaiModule: ProviderModule = {
  id: 'bforeai',
  create () { throw new Error('bforeai connector not implemented yet') }
}
