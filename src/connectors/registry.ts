/** Every provider, once. `satisfies Record<ProviderId, …>` makes a missing provider a compile error. */
import type { ProviderId } from '../schemas/provider.js'
import type { StatusTable } from '../status/table.js'
import type { ProviderModule } from './connector.js'
import { parseCaseId } from '../domain/case-id.js'
import { parseDetectionId } from '../domain/detection-id.js'
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

/** A case id whose native part has the shape its provider declares (`<provider>/ids.ts`); null → 404, no vendor call. */
export function resolveCaseId (id: string): ReturnType<typeof parseCaseId> {
  const parsed = parseCaseId(id)
  return parsed !== null && PROVIDER_MODULES[parsed.provider].ids.case.test(parsed.providerCaseId) ? parsed : null
}

/** A detection id whose native part has the shape its provider declares for that kind; null → 404, no vendor call. */
export function resolveDetectionId (id: string): ReturnType<typeof parseDetectionId> {
  const parsed = parseDetectionId(id)
  return parsed !== null && PROVIDER_MODULES[parsed.provider].ids.detections[parsed.kind]?.test(parsed.nativeId) === true ? parsed : null
}
