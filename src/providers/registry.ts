/**
 * THE list of providers: one line per vendor. Everything that differs between vendors is in the vendor's
 * `connectors/<id>/provider.ts`; every per-provider table derives from this list, and so does the id vocabulary
 * (schemas/provider-ids.ts, generated from it by `npm run derive`: the typecheck fails until it is regenerated).
 */
import type { ProviderModule } from '../connectors/provider-module.js'
import type { StatusTable } from '../status/table.js'
import type { ProviderId } from '../schemas/provider.js'
import { bforeaiProvider } from '../connectors/bforeai/provider.js'
import { cloudflareProvider } from '../connectors/cloudflare/provider.js'
import { netcraftProvider } from '../connectors/netcraft/provider.js'
import { phishfortProvider } from '../connectors/phishfort/provider.js'
import { webriskProvider } from '../connectors/webrisk/provider.js'

const REGISTERED = [
  bforeaiProvider,
  phishfortProvider,
  cloudflareProvider,
  netcraftProvider,
  webriskProvider
] as const satisfies readonly ProviderModule[]

type Registered = (typeof REGISTERED)[number]

/** The provider modules in listing order. */
export const PROVIDERS: ReadonlyArray<ProviderModule & { readonly id: ProviderId }> = REGISTERED

/** Every provider's declaration by id; an id the generated list lacks, or one it has that no module claims, fails the typecheck. */
export const PROVIDER_MODULES: { [K in ProviderId]: ProviderModule } & { [M in Registered as M['id']]: ProviderModule } =
  Object.fromEntries(REGISTERED.map(m => [m.id, m])) as { [M in Registered as M['id']]: M }

/** The registry's ids in listing order (what schemas/provider-ids.ts is generated from). */
export const REGISTERED_IDS: readonly ProviderId[] = REGISTERED.map(m => m.id)

/** Every provider's status table by id (status/engine.ts). */
export const STATUS_TABLES = Object.fromEntries(PROVIDERS.map(m => [m.id, m.statusTable])) as Record<ProviderId, StatusTable>

/** What an operator sets to turn a provider on (the words of the start-up warning, the 503 and the create 422). */
export function howToTurnOn (id: ProviderId): string {
  const m = PROVIDER_MODULES[id]
  return `set ${[m.credential.env, ...(m.options ?? []).filter(o => o.required === true).map(o => o.env)].join(' and ')}`
}
