/**
 * Detection ids are `<provider>:<kind>:<native id>`; the native part is percent-encoded so the whole id is one URL
 * path segment (native ids may hold a colon, e.g. `<query id>:<domain>`).
 */
import { DETECTION_KINDS, type DetectionKind } from '../schemas/detection.js'
import { isProviderId, type ProviderId } from '../schemas/provider.js'

export function encodeDetectionId (provider: ProviderId, kind: DetectionKind, nativeId: string): string {
  return `${provider}:${kind}:${encodeURIComponent(nativeId)}`
}

/**
 * null when the id is not of our form, names no known provider or no known kind (→ 404 without any vendor call).
 * Callers go through `resolveDetectionId` (services/provider-set.ts), which also checks the provider's id shape.
 */
export function parseDetectionId (id: string): { provider: ProviderId, kind: DetectionKind, nativeId: string } | null {
  const first = id.indexOf(':')
  const second = first < 0 ? -1 : id.indexOf(':', first + 1)
  if (first <= 0 || second <= first + 1) return null
  const provider = id.slice(0, first)
  const kind = id.slice(first + 1, second)
  if (!isProviderId(provider) || !(DETECTION_KINDS as readonly string[]).includes(kind)) return null
  let nativeId: string
  try {
    nativeId = decodeURIComponent(id.slice(second + 1))
  } catch {
    return null
  }
  if (nativeId === '') return null
  return { provider, kind: kind as DetectionKind, nativeId }
}
