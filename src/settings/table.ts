/**
 * THE configuration table (ADR 0039): every setting the gateway reads, the gateway's own by feature and each
 * provider's from its module. config.ts parses it; the README configuration table and docker/live.env.example are
 * rendered from it (`npm run derive`) and test/app/config.test.ts holds them to it.
 */
import type { ProviderId } from '../schemas/provider.js'
import { PROVIDERS } from '../providers/registry.js'
import { AUTH, BATCHES, EVENTS, LIMITS, PROVIDER_CALLS, REDIS, SERVER, SLA, TARGETS, VERIFY, WEBHOOKS } from './gateway.js'
import { providerSettingList, providerSettings, type ProviderSettings } from './providers.js'
import { type Setting, showDefault, showMeaning } from './setting.js'

/** every provider's settings, by id */
export const PROVIDER_SETTINGS = Object.fromEntries(PROVIDERS.map(m => [m.id, providerSettings(m)])) as Record<ProviderId, ProviderSettings>

/** every setting, in the order the docs list them */
export const SETTINGS: readonly Setting[] = [
  ...[SERVER, REDIS, AUTH, LIMITS, PROVIDER_CALLS, WEBHOOKS, EVENTS, BATCHES, VERIFY, TARGETS, SLA].flatMap(group => Object.values(group) as Setting[]),
  ...PROVIDERS.flatMap(m => providerSettingList(PROVIDER_SETTINGS[m.id]))
]

/** README 'Configuration': one row per setting. */
export function readmeTable (): string {
  const cell = (s: string): string => s.replaceAll('|', '\\|')
  return ['| variable | default | meaning |', '|---|---|---|',
    ...SETTINGS.map(s => `| \`${s.name}\` | ${cell(showDefault(s))} | ${cell(showMeaning(s))}${s.secret === true ? ' (secret: never logged)' : ''} |`)].join('\n')
}

/** docker/live.env.example: every setting a live deployment sets, each with its meaning. */
export function liveEnvExample (): string {
  return ['# Copy to docker/live.env and fill in (README \'Configuration\'). Generated from the configuration table: npm run derive.',
    '# A provider is on when its credential is set; leave it empty to turn that provider off.',
    ...SETTINGS.filter(s => s.deploy === true).flatMap(s => [`# ${s.description}`, s.name === 'SANDBOX' ? 'SANDBOX=false' : `${s.name}=`])].join('\n') + '\n'
}
