import { isProviderId, type ProviderId } from '../schemas/provider.js'

/**
 * Case ids are `<provider>:<native id>`. The native part is percent-encoded so the whole id is one URL path segment
 * whatever the vendor's id looks like.
 */
export function encodeCaseId (provider: ProviderId, providerCaseId: string): string {
  // most native ids need no encoding (listings build a few hundred ids per page)
  return `${provider}:${UNRESERVED.test(providerCaseId) ? providerCaseId : encodeURIComponent(providerCaseId)}`
}

/** characters encodeURIComponent leaves as they are, apart from !'()* */
const UNRESERVED = /^[\w.~-]*$/

export function caseSelfLink (provider: ProviderId, providerCaseId: string): string {
  return `/v1/cases/${encodeCaseId(provider, providerCaseId)}`
}

/**
 * null when the id is not of our form or names no known provider (→ 404). Callers go through `resolveCaseId`
 * (services/provider-set.ts), which also checks the native part against the provider's id shape. The route parameter
 * arrives URL-decoded; the native part is decoded once more only because ids are defined with a percent-encoded
 * native part (clients that encode the whole id, as OpenAPI clients do, send it encoded twice). No shape admits `%`,
 * so a third spelling never resolves.
 */
export function parseCaseId (id: string): { provider: ProviderId, providerCaseId: string } | null {
  const colon = id.indexOf(':')
  if (colon <= 0) return null
  const provider = id.slice(0, colon)
  if (!isProviderId(provider)) return null
  let native: string
  try {
    native = decodeURIComponent(id.slice(colon + 1))
  } catch {
    return null
  }
  if (native === '') return null
  return { provider, providerCaseId: native }
}
