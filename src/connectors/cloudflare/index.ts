import type { ProviderModule } from '../connector.js'

// PLACEHOLDER: replaced by the cloudflare connector work
export const cloudflareModule: ProviderModule = {
  id: 'cloudflare',
  create () { throw new Error('cloudflare connector not implemented yet') }
}
