import { Type } from 'typebox'

/** Provider ids of CONTRACT §1. Adding one here makes the compiler list every registry that lacks it. */
export const PROVIDER_IDS = ['bforeai', 'phishfort', 'cloudflare'] as const
export type ProviderId = (typeof PROVIDER_IDS)[number]

export const ProviderIdSchema = Type.Enum(PROVIDER_IDS, { description: 'Provider (vendor) id' })

export function isProviderId (value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value)
}
