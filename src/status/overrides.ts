import { readFileSync } from 'node:fs'
import { PROVIDER_IDS, isProviderId } from '../schemas/provider.js'
import { UNIFIED_STATUSES, isUnifiedStatus, type UnifiedStatus } from '../schemas/unified-status.js'
import type { StatusOverrides } from './engine.js'

/**
 * STATUS_MAP_FILE format: `{ "<provider>": { "<vendor status>": "<unified status>" } }`.
 * Vendor statuses are matched case- and separator-insensitively. Every problem of the file joins the one configuration
 * report (config.ts), naming the entry and the allowed values; what is valid is kept.
 */
export function loadStatusOverrides (file: string, problems: string[]): StatusOverrides {
  const say = (what: string): void => { problems.push(`STATUS_MAP_FILE ${file}: ${what}`) }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    say(e.code === 'ENOENT' ? 'no such file' : e.code !== undefined ? `cannot be read (${e.code})` : `is not valid JSON (${e.message})`)
    return {}
  }
  if (!isObject(parsed)) {
    say('must be a JSON object of provider → { "<vendor status>": "<unified status>" }')
    return {}
  }
  const overrides: Record<string, Record<string, UnifiedStatus>> = {}
  for (const [provider, entries] of Object.entries(parsed)) {
    if (!isProviderId(provider)) {
      say(`unknown provider "${provider}" (allowed: ${PROVIDER_IDS.join(', ')})`)
      continue
    }
    if (!isObject(entries)) {
      say(`"${provider}" must be an object of "<vendor status>": "<unified status>"`)
      continue
    }
    const kept: Record<string, UnifiedStatus> = {}
    for (const [vendorStatus, unified] of Object.entries(entries)) {
      if (vendorStatus.trim() === '') say(`${provider} has an empty vendor status name`)
      else if (typeof unified !== 'string' || !isUnifiedStatus(unified)) {
        say(`${provider} "${vendorStatus}" maps to ${JSON.stringify(unified)}, which is not a unified status (allowed: ${UNIFIED_STATUSES.join(', ')})`)
      } else kept[vendorStatus] = unified
    }
    overrides[provider] = kept
  }
  return overrides as StatusOverrides
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
