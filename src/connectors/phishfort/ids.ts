import { opaqueIdExcept, type NativeIdShapes } from '../native-ids.js'

/**
 * PhishFort incident ids are 20-character alphanumeric document ids (`054zKkjCnR1I3B3U812z`); the Client API docs
 * call them strings, so any unreserved id is taken, except the fixed routes beside `/v1/incident/{id}`.
 */
export const phishfortIds: NativeIdShapes = {
  case: opaqueIdExcept(['tkd', 'monitor', 'safe', 'subject']),
  detections: {}
}
