/**
 * A provider's settings, all derived from its module (connectors/<id>/provider.ts): the credential, the vendor's own
 * options, the inbound webhook secrets it declares, and the settings every provider has (base URL, timeout, bulkhead,
 * outbound budget, watcher cadence) with the module's defaults. A new provider adds its variables by its module alone.
 */
import type { ProviderModule } from '../connectors/provider-module.js'
import { parseSigningSecrets } from './parsers.js'
import { httpUrl, int, type Setting, text, type WithDefault } from './setting.js'

export interface ProviderSettings {
  readonly credential: Setting<string>
  readonly options: ReadonlyArray<{ readonly key: string, readonly required: boolean, readonly setting: Setting<string> }>
  readonly inboundSecrets: Setting<string[]> | null
  readonly baseUrl: Setting<string> & WithDefault<string>
  readonly timeoutMs: Setting<number> & WithDefault<number>
  readonly maxConcurrency: Setting<number> & WithDefault<number>
  readonly maxQueue: Setting<number> & WithDefault<number>
  readonly budget: Setting<number> & WithDefault<number>
  readonly budgetWindowMs: Setting<number> & WithDefault<number>
  readonly watchIntervalMs: Setting<number> & WithDefault<number>
}

/** the watcher's cadence when a module names none; in sandbox mode every provider is watched every 10 s (the simulators have no budget to spare) */
const WATCH_INTERVAL_MS = { live: 60_000, sandbox: 10_000 }

export function providerSettings (m: ProviderModule): ProviderSettings {
  const P = m.id.toUpperCase()
  const owner = m.id
  return {
    credential: { ...text({ secret: true, deploy: true, unset: `${m.name} is off (or simulated in sandbox mode)`, description: m.credential.description }), name: m.credential.env, owner },
    options: (m.options ?? []).map(o => ({
      key: o.key,
      required: o.required === true,
      setting: {
        ...text({ description: o.description, ...(o.secret === undefined ? {} : { secret: o.secret }), ...(o.default === undefined ? { unset: 'none' } : { default: o.default }), ...(o.format === undefined ? {} : { format: o.format }), ...(o.required === true ? { deploy: true } : {}) }),
        name: o.env,
        owner
      }
    })),
    inboundSecrets: m.inbound === undefined
      ? null
      : { name: m.inbound.secretsEnv, owner, secret: true, unset: `only the secret kept when the gateway registered its endpoint at ${m.name}`, parse: parseSigningSecrets, description: `comma-separated signing secrets of the ${m.name} webhook subscription (two during a rotation); with none configured or kept, ${m.name} deliveries are refused` },
    baseUrl: { ...httpUrl({ default: m.baseUrl, description: `${m.name} base URL` }), name: `${P}_BASE_URL`, owner },
    timeoutMs: { ...int({ default: 10_000, min: 100, max: 120_000, description: `per-request timeout for ${m.name}` }), name: `${P}_TIMEOUT_MS`, owner },
    maxConcurrency: { ...int({ default: 16, min: 1, max: 1024, description: `${m.name} calls in flight at once, also its connection cap` }), name: `${P}_MAX_CONCURRENCY`, owner },
    maxQueue: { ...int({ default: 32, min: 0, max: 10_000, description: `${m.name} calls waiting for a slot before the gateway answers 503` }), name: `${P}_MAX_QUEUE`, owner },
    budget: { ...int({ default: m.budget.limit, min: 0, max: 10_000_000, description: `requests per window sent to ${m.name} per credential, shared by replicas; 0 = unlimited${m.budget.source === undefined ? '' : ` (the default is ${m.budget.source})`}` }), name: `${P}_OUTBOUND_BUDGET`, owner },
    budgetWindowMs: { ...int({ default: m.budget.windowMs, min: 1000, max: 86_400_000, description: `window of ${P}_OUTBOUND_BUDGET` }), name: `${P}_OUTBOUND_WINDOW_MS`, owner },
    watchIntervalMs: {
      ...int({ default: { sandbox: WATCH_INTERVAL_MS.sandbox, live: m.watchIntervalMs ?? WATCH_INTERVAL_MS.live }, min: 0, max: 86_400_000, description: `${m.name} sync cadence of the case-events watcher; 0 = not watched${m.watchNote === undefined ? '' : `; ${m.watchNote}`}` }),
      name: `WATCH_${P}_INTERVAL_MS`,
      owner
    }
  }
}

/** A provider's settings in the order the docs list them. */
export function providerSettingList (s: ProviderSettings): Setting[] {
  return [s.credential, ...s.options.map(o => o.setting), ...(s.inboundSecrets === null ? [] : [s.inboundSecrets]), s.baseUrl, s.timeoutMs, s.maxConcurrency,
    s.maxQueue, s.budget, s.budgetWindowMs, s.watchIntervalMs] as Setting[]
}
