/**
 * Builds the ProviderSet from configuration: live connectors for providers with credentials, simulator-backed
 * connectors in sandbox mode, `off` entries for the rest.
 */
import { Agent, type Dispatcher } from 'undici'
import type { Clock } from '../clock.js'
import type { ConnectorFactory, UpstreamObserver } from '../connectors/connector.js'
import type { Logger } from '../logger.js'
import type { KvStore } from '../store/kv-store.js'
import { OutboundBudget } from '../connectors/outbound-budget.js'
import { ProviderResilience, resilientConnector } from '../connectors/resilience.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { ProviderSet, type ProviderEntry } from '../services/provider-set.js'
import type { StatusEngine } from '../status/engine.js'
import { howToTurnOn, PROVIDER_MODULES } from './registry.js'

export interface ProviderConfig {
  id: ProviderId
  baseUrl: string
  credential: string | null
  timeoutMs: number
  /** the vendor's own settings by the keys its module declares (connectors/<id>/provider.ts `options`) */
  options: Record<string, string>
  /** bulkhead: calls in flight at once (also the connection cap of the vendor's pool) and calls queued behind them */
  maxConcurrency: number
  maxQueue: number
  /** outbound budget per vendor credential, shared by replicas through the store; null = unlimited */
  outboundBudget: { limit: number, windowMs: number } | null
  /** signing secrets of the vendor's change webhooks (its module's `inbound`), empty when it pushes none or none is set */
  inboundSecrets: string[]
}

/** What building the providers reads of the configuration (config.ts parses it from the environment). */
export interface ProvidersSettings {
  sandbox: boolean
  providers: Record<ProviderId, ProviderConfig>
  /** circuit breaker in front of every provider */
  circuit: { failureThreshold: number, halfOpenAfterMs: number }
}

export interface SandboxEndpoint { baseUrl: string, credential: string, options: Readonly<Record<string, string>> }

export interface BuiltProviders {
  providers: ProviderSet
  dispatchers: Dispatcher[]
  /** the outbound budget of each provider that has one (for the metrics gauge) */
  budgets: Partial<Record<ProviderId, OutboundBudget>>
}

export async function buildProviders (config: ProvidersSettings, deps: {
  status: StatusEngine
  clock: Clock
  sandbox?: Partial<Record<ProviderId, SandboxEndpoint>>
  /** where the outbound budgets are counted (shared by replicas when it is Redis); none = no budget */
  store?: KvStore
  log?: Logger
  /** told about every vendor request and retry (metrics) */
  observer?: UpstreamObserver
}): Promise<BuiltProviders> {
  const dispatchers: Dispatcher[] = []
  const budgets: Partial<Record<ProviderId, OutboundBudget>> = {}
  const factories = await Promise.all(PROVIDER_IDS.map(async id => await PROVIDER_MODULES[id].connector()))
  const entries: ProviderEntry[] = PROVIDER_IDS.map((id, i) => {
    const pc = config.providers[id]
    const hints = PROVIDER_MODULES[id].hints ?? {}
    const ids = PROVIDER_MODULES[id].ids
    const sandbox = config.sandbox ? deps.sandbox?.[id] : undefined
    if (config.sandbox && sandbox === undefined) throw new Error(`sandbox mode needs a simulator for ${id}`)
    if (!config.sandbox && pc.credential === null) {
      return { id, mode: 'off', connector: null, timeoutMs: pc.timeoutMs, lastError: null, hints, ids, offReason: `${PROVIDER_MODULES[id].credential.env} is unset` }
    }
    // one connection pool per vendor (one origin each): a slow vendor cannot use up another vendor's sockets.
    // The caps back up VendorHttp's per-call deadline, which stays the one that normally fires.
    const dispatcher = new Agent({
      connections: pc.maxConcurrency * 2, // a detail read may fan out to two vendor calls at once
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: pc.timeoutMs,
      bodyTimeout: pc.timeoutMs,
      connect: { timeout: Math.min(pc.timeoutMs, 5000) }
    })
    dispatchers.push(dispatcher)
    const settings = sandbox === undefined
      ? { baseUrl: pc.baseUrl, credential: pc.credential ?? '', timeoutMs: pc.timeoutMs, options: pc.options }
      : { baseUrl: sandbox.baseUrl, credential: sandbox.credential, timeoutMs: pc.timeoutMs, options: { ...pc.options, ...sandbox.options } }
    if (pc.outboundBudget !== null && deps.store !== undefined && deps.log !== undefined) {
      budgets[id] = new OutboundBudget({
        provider: id, credential: settings.credential, ...pc.outboundBudget, store: deps.store, clock: deps.clock, log: deps.log
      })
    }
    const resilience = new ProviderResilience(id, {
      failureThreshold: config.circuit.failureThreshold,
      halfOpenAfterMs: config.circuit.halfOpenAfterMs,
      maxConcurrency: pc.maxConcurrency,
      maxQueue: pc.maxQueue
    }, deps.log)
    const connector = resilientConnector((factories[i] as ConnectorFactory).create(settings, {
      dispatcher,
      budget: budgets[id],
      observer: deps.observer,
      status: deps.status,
      clock: deps.clock,
      ...(deps.store === undefined ? {} : { store: deps.store })
    }), resilience)
    return {
      id,
      mode: sandbox === undefined ? 'live' : 'sandbox',
      connector,
      timeoutMs: pc.timeoutMs,
      lastError: null,
      hints,
      ids,
      circuit: () => resilience.state,
      configError: () => resilience.configError
    }
  })
  return { providers: new ProviderSet(entries, howToTurnOn, deps.clock), dispatchers, budgets }
}
