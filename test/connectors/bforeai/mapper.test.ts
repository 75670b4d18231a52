import { describe, it, expect } from 'vitest'
import { targetOf, toCase, toIso } from '../../../src/connectors/bforeai/mapper.js'
import type { Takedown } from '../../../src/connectors/bforeai/wire.js'

const base: Takedown = { id: 'x', created: '2026-10-01T00:00:00Z' }
const status = { status: 'received' as const, terminal: false }

describe('bforeai mapper', () => {
  it.each([
    [{ attack_url: 'https://a.example/login?x=1' }, { type: 'url', value: 'https://a.example/login?x=1', domain: 'a.example' }],
    [{ attack_url: 'https://A.Example' }, { type: 'domain', value: 'a.example', domain: 'a.example', submitted: 'https://A.Example' }],
    [{ attack_url: 'https://a.example/' }, { type: 'domain', value: 'a.example', domain: 'a.example', submitted: 'https://a.example/' }],
    [{ attack_url: 'https://a.example/p', value: { type: 'domain', value: 'a.example' } }, { type: 'domain', value: 'a.example', domain: 'a.example', submitted: 'https://a.example/p' }],
    [{ attack_url: 'a.example' }, { type: 'domain', value: 'a.example', domain: 'a.example' }],
    [{ attack_url: null, value: { type: 'url', value: 'https://b.example/x' } }, { type: 'url', value: 'https://b.example/x', domain: 'b.example' }],
    [{ attack_url: 'https://t.me/acme', platform: 'Telegram' }, { type: 'social', value: 'https://t.me/acme', domain: null }],
    [{ attack_url: 'https://t.me/acme', takedown_type: 'Social Media' }, { type: 'social', value: 'https://t.me/acme', domain: null }]
  ] as Array<[Partial<Takedown>, unknown]>)('target of %j', (over, expected) => {
    expect(targetOf({ ...base, ...over })).toEqual(expected)
  })

  it('normalises timestamps to RFC 3339 UTC; naive ones are UTC; junk is null', () => {
    expect(toIso('2026-10-01T02:00:00+02:00')).toBe('2026-10-01T00:00:00.000Z')
    expect(toIso('2026-10-01T00:00:00.123456')).toBe('2026-10-01T00:00:00.123Z')
    expect(toIso('not a date')).toBeNull()
    expect(toIso(null)).toBeNull()
  })

  it('gives null for fields the vendor leaves out and never invents', () => {
    const c = toCase({ id: 42, created: '2026-10-01T00:00:00Z', attack_url: 'https://a.example/x' }, { providerStatus: null, status, providerLink: null })
    expect(c).toMatchObject({
      id: 'bforeai:42',
      providerCaseId: '42',
      brand: { id: null, name: null },
      threat: { class: null, name: null, platform: null },
      reportedBy: null,
      updatedAt: null,
      providerStatus: null
    })
  })

  it('an unreadable created timestamp is an error, not an invented date', () => {
    expect(() => toCase({ id: 'y', created: 'soon' }, { providerStatus: null, status, providerLink: null })).toThrow(/created/)
  })
})
