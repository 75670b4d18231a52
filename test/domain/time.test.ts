import { describe, expect, it } from 'vitest'
import { toRfc3339 } from '../../src/domain/time.js'

describe('toRfc3339', () => {
  it('normalises vendor timestamps to UTC with milliseconds, reading naive ones as UTC', () => {
    expect(toRfc3339('2021-11-08T20:36:43.765Z')).toBe('2021-11-08T20:36:43.765Z')
    expect(toRfc3339('2026-07-01T12:00:00Z')).toBe('2026-07-01T12:00:00.000Z')
    expect(toRfc3339('2026-07-01T14:00:00+02:00')).toBe('2026-07-01T12:00:00.000Z')
    expect(toRfc3339('2025-12-06T01:39:03.267')).toBe('2025-12-06T01:39:03.267Z')
    expect(toRfc3339(' 2022-01-01T12:00 ')).toBe('2022-01-01T12:00:00.000Z')
  })

  it('is null for absent or unparseable values', () => {
    for (const v of [null, undefined, '', 'yesterday']) expect(toRfc3339(v)).toBeNull()
  })
})
