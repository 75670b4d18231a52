/**
 * THE list of providers: one line per vendor, keyed by the ids of schemas/provider.ts. Everything that differs between
 * vendors is in the vendor's `connectors/<id>/provider.ts`; every per-provider table derives from this list.
 */
import type { ProviderModule } from '../connectors/provider-module.js'
import type { StatusTable } from '../status/table.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { bforeaiProvider } from '../connectors/bforeai/provider.js'
import { cloudflareProvider } from '../connectors/cloudflare/provider.js'
import { netcraftProvider } from '../connectors/netcraft/provider.js'
import { phishfortProvider } from '../connectors/phishfort/provider.js'
import { webriskProvider } from '../connectors/webrisk/provider.js'

/** One line per provider; a missing, extra or misnamed one fails the typecheck (PROVIDER_IDS is the id list). */
const BY_ID = {
  bforeai: bforeaiProvider,
  phishfort: phishfortProvider,
  cloudflare: cloudflareProvider,
  netcraft: netcraftProvider,
  webrisk: webriskProvider
} as const satisfies { [K in ProviderId]: ProviderModule & { id: K } }

/** The provider modules in PROVIDER_IDS order (the listing order). */
export const PROVIDERS = PROVIDER_IDS.map(id => BY_ID[id])

type Registered = (typeof BY_ID)[ProviderId]

/** Every provider's declaration by id. */
export const PROVIDER_MODULES = Object.fromEntries(PROVIDERS.map(m => [m.id, m])) as unknown as { [M in Registered as M['id']]: ProviderModule }

/** Every provider's status table by id (status/engine.ts). */
export const STATUS_TABLES = Object.fromEntries(PROVIDERS.map(m => [m.id, m.statusTable])) as { [M in Registered as M['id']]: StatusTable }
