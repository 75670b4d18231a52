/**
 * The fingerprint of a case: what must differ for the gateway to record a change. Only fields a vendor's listing and
 * its single-case read give alike, and never fields that move on every read:
 * - the unified status, the vendor status and whether the case is terminal, for every provider;
 * - the vendor's last-change time (`updatedAt`) where it is the same in list and detail (BforeAI `updated_at`,
 *   PhishFort `lastHistoryUpdateTimestamp`): it moves with every history step, so history changes show.
 * Cloudflare's `updatedAt` is the latest *active* mitigation in a listing but the latest of *all* in the detail view,
 * so it is left out; its mitigations still show through the status, which is computed from them.
 */
import { createHash } from 'node:crypto'
import type { Case } from '../schemas/case.js'

/** providers whose `updatedAt` differs between listing and detail */
const UPDATED_AT_UNSTABLE: ReadonlySet<string> = new Set(['cloudflare'])

export function caseFingerprint (c: Case): string {
  const parts = [c.status, c.providerStatus ?? '', c.terminal ? '1' : '0', UPDATED_AT_UNSTABLE.has(c.provider) ? '' : (c.updatedAt ?? '')]
  return createHash('sha1').update(parts.join('\u0000')).digest('base64url').slice(0, 16)
}
