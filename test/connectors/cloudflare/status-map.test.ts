import { describe, it, expect } from 'vitest'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { REMOVAL_MITIGATION_TYPES } from '../../../src/connectors/cloudflare/status-map.js'
import { statusFacts } from '../../../src/connectors/cloudflare/mapper.js'
import { MITIGATION_TYPES, type AbuseReport } from '../../../src/connectors/cloudflare/wire.js'
import { StatusEngine } from '../../../src/status/engine.js'
import type { Facts } from '../../../src/status/table.js'
import type { UnifiedStatus } from '../../../src/schemas/unified-status.js'

function engine (): { engine: StatusEngine, unknown: Array<string | null> } {
  const unknown: Array<string | null> = []
  return { engine: new StatusEngine(STATUS_TABLES, {}, (_p, s) => { unknown.push(s) }), unknown }
}

const facts = (f: Partial<{ activeCount: number, pendingCount: number, inReviewCount: number, activeMitigationTypes: string[] }>): Facts =>
  ({ activeCount: 0, pendingCount: 0, inReviewCount: 0, activeMitigationTypes: [], ...f })

describe('cloudflare status table', () => {
  const rows: Array<[string, string, Facts, UnifiedStatus, boolean]> = [
    ['in_review report', 'in_review', facts({}), 'in_review', false],
    ['in_review report even with active mitigations', 'in_review', facts({ activeCount: 1, activeMitigationTypes: ['account_suspend'] }), 'in_review', false],
    ['accepted + active account_suspend', 'accepted', facts({ activeCount: 1, activeMitigationTypes: ['account_suspend'] }), 'taken_down', true],
    ['accepted + active r2_takedown_bucket (prefix rule)', 'accepted', facts({ activeCount: 1, activeMitigationTypes: ['r2_takedown_bucket'] }), 'taken_down', true],
    ['accepted + interstitial and removal active', 'accepted', facts({ activeCount: 2, activeMitigationTypes: ['phishing_interstitial', 'legal_block'] }), 'taken_down', true],
    ['accepted + only an interstitial active', 'accepted', facts({ activeCount: 1, activeMitigationTypes: ['phishing_interstitial'] }), 'mitigated', false],
    ['accepted + active_count>0 but types not fetched', 'accepted', facts({ activeCount: 1 }), 'mitigated', false],
    ['accepted + active and pending', 'accepted', facts({ activeCount: 1, pendingCount: 1, activeMitigationTypes: ['geo_block'] }), 'mitigated', false],
    ['accepted + pending only', 'accepted', facts({ pendingCount: 2 }), 'in_progress', false],
    ['accepted + pending and in review', 'accepted', facts({ pendingCount: 1, inReviewCount: 1 }), 'in_progress', false],
    ['accepted + in review only', 'accepted', facts({ inReviewCount: 1 }), 'in_review', false],
    ['accepted with nothing', 'accepted', facts({}), 'closed', true],
    ['accepted without any facts', 'accepted', {}, 'closed', true]
  ]
  for (const [name, providerStatus, f, status, terminal] of rows) {
    it(`maps ${name} to ${status}`, () => {
      const { engine: e, unknown } = engine()
      expect(e.map('cloudflare', providerStatus, f)).toEqual({ status, terminal })
      expect(unknown).toEqual([])
    })
  }

  it('treats exactly the removal mitigation types as taken_down', () => {
    const { engine: e } = engine()
    const removal = MITIGATION_TYPES.filter(t => e.map('cloudflare', 'accepted', facts({ activeCount: 1, activeMitigationTypes: [t] })).status === 'taken_down')
    expect(removal.sort()).toEqual([
      'account_suspend', 'legal_block', 'network_block', 'r2_takedown_account', 'r2_takedown_bucket', 'r2_takedown_object',
      'registrar_freeze', 'registrar_parking', 'stream_block_account', 'user_suspend', 'workers_takedown_by_zone_id'
    ])
    expect(REMOVAL_MITIGATION_TYPES).toContain('r2_takedown_*')
  })

  it('maps an unknown report status to unknown and fires the listener', () => {
    const { engine: e, unknown } = engine()
    expect(e.map('cloudflare', 'escalated', facts({ activeCount: 1 }))).toEqual({ status: 'unknown', terminal: false })
    expect(e.map('cloudflare', null, {})).toEqual({ status: 'unknown', terminal: false })
    expect(unknown).toEqual(['escalated', null])
  })

  it('builds the facts from mitigation_summary and the active mitigation types', () => {
    const report: AbuseReport = {
      id: 'r1',
      cdate: '2026-07-01T12:00:00Z',
      domain: 'evil.example.net',
      type: 'PHISH',
      status: 'accepted',
      mitigation_summary: { accepted_url_count: 2, active_count: 1, external_host_notified: false, in_review_count: 3, pending_count: 2 }
    }
    expect(statusFacts(report, [{ id: 'm1', type: 'legal_block', status: 'active' }])).toEqual({
      activeCount: 1, pendingCount: 2, inReviewCount: 3, activeMitigationTypes: ['legal_block']
    })
    expect(statusFacts({ ...report, mitigation_summary: undefined }, null)).toEqual({
      activeCount: 0, pendingCount: 0, inReviewCount: 0, activeMitigationTypes: []
    })
  })
})
