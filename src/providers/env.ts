import type { ProviderId } from '../schemas/provider.js'
import type { SandboxEndpoint } from './build.js'
import { PROVIDER_MODULES } from './registry.js'

/** The variables that point a live-mode gateway at one endpoint of a provider (a simulator process, a test double). */
export function providerEnv (id: ProviderId, endpoint: SandboxEndpoint): Record<string, string> {
  const m = PROVIDER_MODULES[id]
  const env: Record<string, string> = { [m.credential.env]: m.credential.fromSecret?.(endpoint.credential) ?? endpoint.credential, [`${id.toUpperCase()}_BASE_URL`]: endpoint.baseUrl }
  for (const o of m.options ?? []) {
    const value = endpoint.options[o.key]
    if (value !== undefined) env[o.env] = value
  }
  return env
}
