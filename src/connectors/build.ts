/**
 * Builds the ProviderSet from configuration: live connectors for providers with credentials, simulator-backed
 * connectors in sandbox mode, `off` entries for the rest.
 */
import { Agent, type Dispatcher } from 'undici'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import { ProviderSet, type ProviderEntry } from '../services/provider-set.js'
import type { StatusEngine } from '../status/engine.js'
import { PROVIDER_MODULES } from './registry.js'

export interface SandboxEndpoint { baseUrl: string, credential: string, accountId: string }

export interface BuiltProviders {
  providers: ProviderSet
  dispatchers: Dispatcher[]
}

export function buildProviders (config: Config, deps: {
  status: StatusEngine
  clock: Clock
  sandbox?: Partial<Record<ProviderId, SandboxEndpoint>>
}): BuiltProviders {
  const dispatchers: Dispatcher[] = []
  const entries: ProviderEntry[] = PROVIDER_IDS.map(id => {
    const pc = config.providers[id]
    const sandbox = config.sandbox ? deps.sandbox?.[id] : undefined
    if (config.sandbox && sandbox === undefined) throw new Error(`sandbox mode needs a simulator for ${id}`)
    if (!config.sandbox && pc.credential === null) {
      return { id, mode: 'off', connector: null, timeoutMs: pc.timeoutMs, lastError: null }
    }
    // one connection pool per vendor: a slow vendor cannot use up another vendor's sockets
    const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 30_000, connect: { timeout: Math.min(pc.timeoutMs, 5000) } })
    dispatchers.push(dispatcher)
    const settings = sandbox === undefined
      ? { baseUrl: pc.baseUrl, credential: pc.credential ?? '', timeoutMs: pc.timeoutMs, ...(pc.accountId === null ? {} : { accountId: pc.accountId }) }
      : { baseUrl: sandbox.baseUrl, credential: sandbox.credential, timeoutMs: pc.timeoutMs, accountId: sandbox.accountId }
    const connector = PROVIDER_MODULES[id].create(settings, { dispatcher, status: deps.status, clock: deps.clock })
    return { id, mode: sandbox === undefined ? 'live' : 'sandbox', connector, timeoutMs: pc.timeoutMs, lastError: null }
  })
  return { providers: new ProviderSet(entries), dispatchers }
}
