/**
 * The providers this process serves: mode, connector and per-provider settings. Built once at start-up
 * (plugins/connectors.ts) and shared by every service.
 */
import type { ConnectorContext, ProviderConnector } from '../connectors/connector.js'
import { ConnectorError } from '../connectors/connector.js'
import { deadlineScope, type CancelSignal } from '../connectors/deadline.js'
import { GatewayError } from '../domain/problems.js'
import type { Logger } from '../logger.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'

export type ProviderMode = 'live' | 'sandbox' | 'off'

export interface ProviderEntry {
  readonly id: ProviderId
  readonly mode: ProviderMode
  readonly connector: ProviderConnector | null
  readonly timeoutMs: number
  lastError: { at: string, kind: string, message: string } | null
  /** circuit breaker state (connectors/resilience.ts); absent = closed */
  readonly circuit?: () => 'closed' | 'open' | 'half_open'
}

export class ProviderSet {
  readonly #entries: Map<ProviderId, ProviderEntry>

  constructor (entries: ProviderEntry[]) {
    this.#entries = new Map(entries.map(e => [e.id, e]))
  }

  all (): ProviderEntry[] {
    return PROVIDER_IDS.map(id => this.#entries.get(id)).filter((e): e is ProviderEntry => e !== undefined)
  }

  /** Providers that can be called (live or sandbox), in PROVIDER_IDS order. */
  active (): Array<ProviderEntry & { connector: ProviderConnector }> {
    return this.all().filter((e): e is ProviderEntry & { connector: ProviderConnector } => e.connector !== null)
  }

  get (id: ProviderId): ProviderEntry | undefined {
    return this.#entries.get(id)
  }

  /** The connector of a provider a write is aimed at; 422 when the provider is off. */
  require (id: ProviderId): ProviderConnector {
    const entry = this.#entries.get(id)
    if (entry?.connector == null) {
      throw new GatewayError('GW_ERR_PROVIDER_OFF', `Provider ${id} is off: set its credentials (see GET /v1/providers)`, { provider: id })
    }
    return entry.connector
  }

  /**
   * Runs one vendor operation in a context whose deadline is the provider's timeout, also ended by the parent signal
   * (client gone, shutdown). The context's timer and listener are released when `fn` settles.
   */
  async withContext<T> (id: ProviderId, parent: CancelSignal, log: Logger, fn: (ctx: ConnectorContext) => Promise<T>, timeoutMs?: number,
    budget?: ConnectorContext['budget']): Promise<T> {
    const scope = deadlineScope(parent, timeoutMs ?? this.#entries.get(id)?.timeoutMs ?? 10000)
    try {
      return await fn(budget === undefined ? { signal: scope.signal, deadline: scope.deadline, log } : { signal: scope.signal, deadline: scope.deadline, log, budget })
    } finally {
      scope.end()
    }
  }

  /** Remembers the last failure per provider for GET /v1/providers. */
  recordError (id: ProviderId, err: unknown): void {
    const entry = this.#entries.get(id)
    if (entry === undefined) return
    const kind = err instanceof ConnectorError ? err.kind : 'internal'
    const message = err instanceof Error ? err.message : String(err)
    entry.lastError = { at: new Date().toISOString(), kind, message }
  }
}
