/** Default routing, from the provider modules: per target type, the providers that rank it, lowest rank first. */
import type { ProviderModule } from '../connectors/provider-module.js'
import type { TargetType } from '../schemas/common.js'
import { TARGET_TYPES } from '../schemas/common.js'
import type { ProviderId } from '../schemas/provider.js'
import { PROVIDERS } from '../providers/registry.js'

const rank = (m: ProviderModule, type: TargetType): number | undefined => m.routing[type]

export const DEFAULT_ROUTING = Object.fromEntries(TARGET_TYPES.map(type => [type, PROVIDERS
  .filter(m => rank(m, type) !== undefined)
  .sort((a, b) => (rank(a, type) ?? 0) - (rank(b, type) ?? 0))
  .map(m => m.id)])) as Record<TargetType, ProviderId[]>
