/**
 * Connector test kit: a real simulator on a loopback port and the real connector pointed at it
 * (Goldberg's "test-kit" pattern). Tests that pin exact outgoing requests use undici MockAgent instead.
 */
import { Agent } from 'undici'
import { pino } from 'pino'
import { ManualClock } from '../../src/clock.js'
import type { ConnectorContext, ProviderConnector } from '../../src/connectors/connector.js'
import { PROVIDER_MODULES, STATUS_TABLES } from '../../src/providers/registry.js'
import type { Logger } from '../../src/logger.js'
import type { ProviderId } from '../../src/schemas/provider.js'
import { startSimulator, type RunningSimulator, type Simulator } from '../../src/simulators/harness.js'
import { createSimulator } from '../../src/simulators/index.js'
import { StatusEngine } from '../../src/status/engine.js'

export const silentLog = pino({ level: 'silent' }) as unknown as Logger

export function testCtx (timeoutMs = 5000): ConnectorContext {
  return { signal: AbortSignal.timeout(timeoutMs), deadline: Date.now() + timeoutMs, log: silentLog }
}

export interface ConnectorHarness {
  connector: ProviderConnector
  sim: Simulator
  running: RunningSimulator
  clock: ManualClock
  status: StatusEngine
  unknown: Array<{ provider: ProviderId, providerStatus: string | null }>
  close (): Promise<void>
}

export async function connectorHarness (provider: ProviderId, opts: { seed?: number, count?: number, clock?: ManualClock, timeoutMs?: number } = {}): Promise<ConnectorHarness> {
  const clock = opts.clock ?? new ManualClock()
  const module = PROVIDER_MODULES[provider]
  const sim = await createSimulator(provider, {
    clock,
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
    ...(opts.count === undefined ? {} : { count: opts.count })
  })
  const running = await startSimulator(sim)
  const dispatcher = new Agent({ connections: 16 })
  const unknown: ConnectorHarness['unknown'] = []
  const status = new StatusEngine(STATUS_TABLES, {}, (p, s) => { unknown.push({ provider: p, providerStatus: s }) })
  const connector = (await module.connector()).create({
    baseUrl: running.baseUrl,
    credential: module.sandbox.credential,
    timeoutMs: opts.timeoutMs ?? 2000,
    options: module.sandbox.options
  }, { dispatcher, status, clock })
  return {
    connector,
    sim,
    running,
    clock,
    status,
    unknown,
    close: async () => {
      await running.close()
      await dispatcher.close()
    }
  }
}
