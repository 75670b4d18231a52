import { readFileSync } from 'node:fs'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { PROVIDER_IDS } from '../schemas/provider.js'
import { UnifiedStatusSchema } from '../schemas/unified-status.js'
import type { StatusOverrides } from './engine.js'

/**
 * STATUS_MAP_FILE format: `{ "<provider>": { "<vendor status>": "<unified status>" } }`.
 * Vendor statuses are matched case- and separator-insensitively. A bad file stops the start-up with the reason.
 */
export const StatusOverridesSchema = Type.Object(
  Object.fromEntries(PROVIDER_IDS.map(id => [id, Type.Optional(Type.Record(Type.String({ minLength: 1 }), UnifiedStatusSchema))])),
  { additionalProperties: false }
)

export function loadStatusOverrides (file: string): StatusOverrides {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`STATUS_MAP_FILE ${file}: ${(err as Error).message}`)
  }
  if (!Value.Check(StatusOverridesSchema, parsed)) {
    const problems = [...Value.Errors(StatusOverridesSchema, parsed)].slice(0, 5).map(e => `${e.instancePath || '/'} ${e.message}`)
    throw new Error(`STATUS_MAP_FILE ${file} is not valid: ${problems.join('; ')}`)
  }
  return parsed as StatusOverrides
}
