import { Type } from 'typebox'
import { PROVIDERS } from '../providers/registry.js'

/** Provider ids, in registry order: providers/registry.ts is the one list. */
export type ProviderId = (typeof PROVIDERS)[number]['id']
export const PROVIDER_IDS: readonly ProviderId[] = PROVIDERS.map(m => m.id)

export const ProviderIdSchema = Type.Enum(PROVIDER_IDS as ProviderId[], { description: 'Provider (vendor) id' })

export function isProviderId (value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value)
}
