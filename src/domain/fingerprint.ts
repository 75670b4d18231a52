/**
 * The fingerprint of a case: what must differ for the gateway to record a change. Only fields a vendor's listing and
 * its single-case read give alike, and never fields that move on every read:
 * - the unified status, the vendor status and whether the case is terminal, for every provider;
 * - the vendor's last-change time (`updatedAt`) where it is the same in list and detail: it moves with every history
 *   step, so history changes show. A provider module declares `updatedAtStable: false` where it is not; the vendor's
 *   changes then show through the status and vendor status only.
 */
import { createHash } from 'node:crypto'
import type { Case } from '../schemas/case.js'

/** The fingerprint function, given the providers whose `updatedAt` differs between listing and detail. */
export function fingerprinter (updatedAtUnstable: ReadonlySet<string>): (c: Case) => string {
  return c => {
    const parts = [c.status, c.providerStatus ?? '', c.terminal ? '1' : '0', updatedAtUnstable.has(c.provider) ? '' : (c.updatedAt ?? '')]
    return createHash('sha1').update(parts.join('\u0000')).digest('base64url').slice(0, 16)
  }
}
