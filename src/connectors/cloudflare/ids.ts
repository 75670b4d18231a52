import { opaqueIdExcept, type NativeIdShapes } from '../native-ids.js'
import { REPORT_ACTS } from './wire.js'

/**
 * Abuse report ids (`abuse_rand`) are opaque strings (Cloudflare API v4 schema, `GetAbuseReport` `report_param`); the
 * report types that share the path (`POST /abuse-reports/{report_type}`) are not ids.
 * Brand Protection match detections are `<query id>:<domain>` and `<query id>:<logo match id>`, both ids integers
 * (`brand-protection-api_QueryMatch`, `LogoMatch`); the domain is a host name as the matches list gives it.
 */
export const cloudflareIds: NativeIdShapes = {
  case: opaqueIdExcept(REPORT_ACTS),
  detections: {
    // host names as the vendor lists them, internationalised ones included; never only dots
    'domain-match': /^\d{1,15}:(?!\.+$)[\p{L}\p{N}._*-]{1,253}$/u,
    'logo-match': /^\d{1,15}:\d{1,15}$/
  }
}
