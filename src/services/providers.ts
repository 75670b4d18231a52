import type { Capabilities, ProviderConnector } from '../connectors/connector.js'
import type { ProviderInfo } from '../schemas/provider-info.js'
import { REFERENCE_KINDS } from '../schemas/reference.js'
import type { SharedCache } from '../store/cached.js'
import { keys } from '../store/keys.js'
import type { ProviderSet } from './provider-set.js'
import type { ProviderId } from '../schemas/provider.js'

/** What GET /v1/providers and /metrics show of a watched provider. */
export interface WatchStatus {
  provider: ProviderId
  /** the configured cadence */
  intervalMs: number
  /** the cadence kept: the configured one, or longer when a sync costs more than the budget share allows */
  effectiveIntervalMs: number
  /** null before the first sync */
  openCases: number | null
  cycleCalls: number | null
  lastSyncAt: number | null
}

const NONE: Capabilities = { create: { takedown: [], monitor: [] }, cancel: false, attachments: false, comments: false, appeal: false, actions: [], detections: false, reference: [] }

/** What a connector can do: what it declares AND implements (a declared capability without its method is not one). */
export function capabilitiesOf (connector: ProviderConnector | null): Capabilities {
  if (connector === null) return NONE
  const c = connector.capabilities
  const canCreate = typeof connector.prepareCreate === 'function' && typeof connector.submitCreate === 'function'
  return {
    create: canCreate ? { takedown: [...c.create.takedown], monitor: [...c.create.monitor] } : { takedown: [], monitor: [] },
    cancel: c.cancel && typeof connector.cancel === 'function',
    attachments: c.attachments && typeof connector.addAttachments === 'function',
    comments: c.comments && typeof connector.addComment === 'function',
    appeal: c.appeal && typeof connector.appeal === 'function',
    actions: typeof connector.performAction === 'function' ? [...c.actions] : [],
    detections: c.detections,
    reference: [...c.reference]
  }
}

export function describeProviders (providers: ProviderSet, cache: SharedCache | null, watched: readonly WatchStatus[]): ProviderInfo[] {
  return providers.all().map(entry => {
    const w = watched.find(s => s.provider === entry.id)
    let oldest: number | null = null
    if (cache !== null) {
      for (const kind of REFERENCE_KINDS) {
        const age = cache.ageOf(keys.reference(entry.id, kind))
        if (age !== null && (oldest === null || age > oldest)) oldest = age
      }
    }
    const circuit = entry.circuit?.() ?? 'closed'
    return {
      id: entry.id,
      mode: entry.mode,
      available: entry.connector !== null && circuit !== 'open',
      capabilities: capabilitiesOf(entry.connector),
      circuit,
      lastError: entry.lastError,
      referenceAgeSeconds: oldest === null ? null : Math.floor(oldest / 1000),
      watch: w === undefined
        ? null
        : {
            intervalSeconds: w.intervalMs / 1000,
            effectiveIntervalSeconds: w.effectiveIntervalMs / 1000,
            openCases: w.openCases,
            syncCalls: w.cycleCalls,
            lastSyncAt: w.lastSyncAt === null ? null : new Date(w.lastSyncAt).toISOString()
          }
    }
  })
}
