/**
 * The one way a vendor path is built from values: every interpolated value becomes exactly one path segment.
 * `encodeURIComponent` turns `/`, `?`, `#`, `%` and controls into escapes; what it leaves alone and a URL parser
 * would still reinterpret (`.` and `..`, also as `%2e`, collapsed by WHATWG URL parsing) or an empty segment is
 * refused, so no value can reach another vendor route. Native ids are checked against the provider's id shapes
 * before any connector runs; this is the second wall, for every value (account ids, query ids, report types).
 */
import { UnsafePathSegment } from '../domain/connector-error.js'

export { UnsafePathSegment }

export function pathSegment (value: string | number): string {
  const s = encodeURIComponent(String(value))
  if (s === '' || /^(?:\.|%2e){1,2}$/i.test(s)) throw new UnsafePathSegment('a vendor path segment may not be empty or a dot segment')
  return s
}

/** Tagged template: vendorPath`/v2/takedown/${id}/cancel`; the literal parts are trusted, every value is one segment. */
export function vendorPath (literals: TemplateStringsArray, ...values: Array<string | number>): string {
  let out = literals[0] ?? ''
  for (let i = 0; i < values.length; i++) out += pathSegment(values[i] as string | number) + (literals[i + 1] ?? '')
  return out
}
