import { Type } from 'typebox'

/**
 * Provider ids, in listing order. Vocabulary, so it sits here with nothing of the app below it (ADR 0036); each id is
 * a provider module in providers/registry.ts, and the compiler holds that registry to this list both ways.
 */
export const PROVIDER_IDS = ['bforeai', 'phishfort', 'cloudflare', 'netcraft', 'webrisk'] as const
export type ProviderId = (typeof PROVIDER_IDS)[number]

export const ProviderIdSchema = Type.Enum(PROVIDER_IDS as unknown as ProviderId[], { description: 'Provider (vendor) id' })

export function isProviderId (value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value)
}
