/** Default routing, from the provider modules: per target type, the providers that rank it, lowest rank first. */
import type { ProviderModule } from '../connectors/provider-module.js'
import type { TargetType } from '../schemas/common.js'
import { TARGET_TYPES } from '../schemas/common.js'
import type { ProviderId } from '../schemas/provider.js'
import { PROVIDERS } from '../providers/registry.js'
import { noCompanions, orderedRouting, type RoutingRules } from './parsers.js'

const rank = (m: ProviderModule, type: TargetType): number | undefined => m.routing[type]

export const DEFAULT_ROUTING = Object.fromEntries(TARGET_TYPES.map(type => [type, PROVIDERS
  .filter(m => rank(m, type) !== undefined)
  .sort((a, b) => (rank(a, type) ?? 0) - (rank(b, type) ?? 0))
  .map(m => m.id)])) as Record<TargetType, ProviderId[]>

/** ROUTING_RULES unset: the modules' order for every target type */
export const DEFAULT_RULES: RoutingRules = { order: DEFAULT_ROUTING, also: noCompanions(), strategy: orderedRouting() }

/**
 * ROUTING_RULES unset in sandbox mode: url targets are routed by measured outcome (the seeded cases give the dry-run
 * plan its numbers), every other type by the modules' order
 */
export const SANDBOX_RULES: RoutingRules = { ...DEFAULT_RULES, strategy: { ...orderedRouting(), url: 'measured' } }
