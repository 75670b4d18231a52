/**
 * The shared core every feature is handed as an option (ADR 0037): built once per app by build-core.ts. Features
 * never read each other's decorations; what they share is here.
 */
import type { Clock } from '../clock.js'
import type { CaseEnrichmentRecords } from './case-enrichment.js'
import type { OutboundBudget } from '../connectors/outbound-budget.js'
import type { EventsEngine } from '../events/build.js'
import type { GatewayMetrics } from '../metrics.js'
import type { ProviderId } from '../schemas/provider.js'
import type { CaseService } from '../services/cases.js'
import type { Idempotency } from '../services/idempotency.js'
import type { LookaheadOptions } from '../services/lookahead.js'
import type { ProviderSet } from '../services/provider-set.js'
import type { CaseWriteService } from '../services/writes.js'
import type { StatusEngine } from '../status/engine.js'
import type { SharedCache } from '../store/cached.js'
import type { StoreEpoch } from '../store/epoch.js'
import type { KvStore } from '../store/kv-store.js'
import type { LookupFunction } from 'node:net'

export interface Core {
  clock: Clock
  metrics: GatewayMetrics
  statusEngine: StatusEngine
  /** per (provider, vendor status) count of statuses the tables do not know */
  unknownStatuses: Map<string, number>
  /** true when the app started its own simulators (sandbox mode without simulators from the caller) */
  ownSandbox: boolean
  store: KvStore
  providers: ProviderSet
  budgets: Partial<Record<ProviderId, OutboundBudget>>
  referenceCache: SharedCache
  events: EventsEngine
  /** the store epoch: notices a Redis that lost its data (ADR 0032) */
  epoch: StoreEpoch
  idempotency: Idempotency
  /** per case, its registrar and hosting network once RDAP enrichment knew them (analytics group by them) */
  caseEnrichment: CaseEnrichmentRecords
  cases: CaseService
  writes: CaseWriteService
  lookahead: { lookahead?: LookaheadOptions }
  webhookLookup?: LookupFunction
  /** a close step names what it gave up on at its deadline (a dead or frozen Redis); the app logs them all once closed */
  abandoned: (what: string) => void
  /** true once the app is closing, or told to begin shutting down */
  closing: () => boolean
  beginShutdown: () => void
}
