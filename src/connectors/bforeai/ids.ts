import { INTEGER_ID, opaqueIdExcept, type NativeIdShapes } from '../native-ids.js'

/**
 * BforeAI takedown ids are strings of unspecified shape (Takedown API, `GET /v2/takedown/{takedown_id}`: "string");
 * the ones seen are hex. The fixed routes beside `/v2/takedown/{takedown_id}` are not ids. Attack ids are integers
 * (`POST /v2/takedown/accept` takes `attack_id: int`).
 */
export const bforeaiIds: NativeIdShapes = {
  case: opaqueIdExcept(['list', 'attacks', 'accept', 'request', 'social-media', 'statuses', 'takedown_types', 'social_media', 'cancellation_reasons']),
  detections: { attack: INTEGER_ID }
}
