/**
 * Native id shapes: each provider declares, in its own folder, what its vendor's ids look like (charset and length).
 * A case or detection id whose native part is outside the shape names nothing at that vendor: it is a 404 before
 * any vendor call. Shapes never admit `%`, `/`, `?`, `#` or dot-only values, so a value decoded one time too many
 * can never become one.
 */
import type { DetectionKind } from '../schemas/detection.js'

export interface NativeIdShapes {
  /** the provider's case (takedown, incident, report) ids */
  case: RegExp
  /** detection ids per kind; a kind the provider does not have is absent */
  detections: Partial<Record<DetectionKind, RegExp>>
}

/** Opaque vendor ids of unknown exact shape: unreserved URL characters without `.` and `~`, 1–128 characters. */
export const OPAQUE_ID = /^[A-Za-z0-9_-]{1,128}$/
/** A vendor's integer id (JavaScript-safe, as the gateway parses it) */
export const INTEGER_ID = /^\d{1,15}$/

/**
 * OPAQUE_ID minus the fixed segments that sit beside `{id}` in the vendor's own paths (`/v1/incident/tkd` next to
 * `/v1/incident/{id}`): an id spelled like one would name another vendor route.
 */
export function opaqueIdExcept (reserved: readonly string[]): RegExp {
  return new RegExp(`^(?!(?:${reserved.join('|')})$)[A-Za-z0-9_-]{1,128}$`)
}
