/**
 * THE list of providers: one line per vendor. Everything that differs between vendors is in the vendor's
 * `connectors/<id>/provider.ts`; the provider ids, their order in listings and every per-provider table derive
 * from this list.
 */
import type { ProviderModule } from '../connectors/provider-module.js'
import type { StatusTable } from '../status/table.js'
import { bforeaiProvider } from '../connectors/bforeai/provider.js'
import { cloudflareProvider } from '../connectors/cloudflare/provider.js'
import { netcraftProvider } from '../connectors/netcraft/provider.js'
import { phishfortProvider } from '../connectors/phishfort/provider.js'

export const PROVIDERS = [
  bforeaiProvider,
  phishfortProvider,
  cloudflareProvider,
  netcraftProvider
] as const satisfies readonly ProviderModule[]

type Registered = (typeof PROVIDERS)[number]

/** Every provider's declaration by id. */
export const PROVIDER_MODULES = Object.fromEntries(PROVIDERS.map(m => [m.id, m])) as unknown as { [M in Registered as M['id']]: ProviderModule }

/** Every provider's status table by id (status/engine.ts). */
export const STATUS_TABLES = Object.fromEntries(PROVIDERS.map(m => [m.id, m.statusTable])) as { [M in Registered as M['id']]: StatusTable }
