/**
 * A registry hold for the verification lifecycle: `clientHold` or `serverHold` on the host's registered domain means
 * the registry stopped resolving it, which counts as down.
 */
import type { RdapService } from './rdap/service.js'

export const HOLD_STATUSES: ReadonlySet<string> = new Set(['clientHold', 'serverHold'])

/** true: on hold; false: registered and not on hold; null: unknown (no RDAP, an IP, the registry did not answer) */
export type HoldCheck = (host: string) => Promise<boolean | null>

export function holdCheck (rdap: RdapService | null): HoldCheck {
  return async (host) => {
    if (rdap === null) return null
    const statuses = await rdap.domainStatuses(host)
    return statuses === null ? null : statuses.some(s => HOLD_STATUSES.has(s))
  }
}
