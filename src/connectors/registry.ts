/** Every provider, once. `satisfies Record<ProviderId, …>` makes a missing provider a compile error. */
import type { ProviderId } from '../schemas/provider.js'
import type { StatusTable } from '../status/table.js'
import type { ProviderModule } from './connector.js'
import { bforeaiModule } from './bforeai/index.js'
import { bforeaiStatusTable } from './bforeai/status-map.js'
import { cloudflareModule } from './cloudflare/index.js'
import { cloudflareStatusTable } from './cloudflare/status-map.js'
import { phishfortModule } from './phishfort/index.js'
import { phishfortStatusTable } from './phishfort/status-map.js'

export const PROVIDER_MODULES = {
  bforeai: bforeaiModule,
  phishfort: phishfortModule,
  cloudflare: cloudflareModule
} as const satisfies Record<ProviderId, ProviderModule>

export const STATUS_TABLES = {
  bforeai: bforeaiStatusTable,
  phishfort: phishfortStatusTable,
  cloudflare: cloudflareStatusTable
} as const satisfies Record<ProviderId, StatusTable>
