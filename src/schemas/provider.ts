import { Type } from 'typebox'

import { PROVIDER_IDS } from './provider-ids.js'

/**
 * Provider ids, in listing order. The registry (providers/registry.ts) is the one list; provider-ids.ts is generated
 * from it (`npm run derive`) so that schemas and the domain know the ids without loading any vendor (ADR 0036, 0039),
 * and the compiler holds the registry to it both ways.
 */
export { PROVIDER_IDS }
export type ProviderId = (typeof PROVIDER_IDS)[number]

export const ProviderIdSchema = Type.Enum(PROVIDER_IDS as unknown as ProviderId[], { description: 'Provider (vendor) id' })

export function isProviderId (value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value)
}
