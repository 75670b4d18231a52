import { describe, it, expect } from 'vitest'
import { bforeaiStatusTable } from '../../../src/connectors/bforeai/status-map.js'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { STATUSES } from '../../../src/simulators/bforeai/state.js'
import { StatusEngine } from '../../../src/status/engine.js'
import type { UnifiedStatus } from '../../../src/schemas/unified-status.js'

function engine (): { engine: StatusEngine, unknown: Array<string | null> } {
  const unknown: Array<string | null> = []
  return { engine: new StatusEngine(STATUS_TABLES, {}, (_p, s) => { unknown.push(s) }), unknown }
}

// BforeAI: plausible names, matched case- and separator-insensitively
const CASES: Array<[string, UnifiedStatus, boolean]> = [
  ['pending', 'received', false],
  ['Pending', 'received', false],
  ['New', 'received', false],
  ['open', 'received', false],
  ['Requested', 'received', false],
  ['submitted', 'received', false],
  ['In Review', 'in_review', false],
  ['Awaiting Approval', 'awaiting_customer', false],
  ['awaiting_customer', 'awaiting_customer', false],
  ['Monitoring', 'monitoring', false],
  ['In Progress', 'in_progress', false],
  ['in-progress', 'in_progress', false],
  ['IN_PROGRESS', 'in_progress', false],
  ['processing', 'in_progress', false],
  ['Submitted to Registrar', 'in_progress', false],
  ['submitted_to_registrar', 'in_progress', false],
  ['Submitted to Host', 'in_progress', false],
  ['Submitted to Hosting Provider', 'in_progress', false],
  ['Cancellation Requested', 'in_progress', false],
  ['Taken Down', 'taken_down', true],
  ['taken-down', 'taken_down', true],
  ['Completed', 'taken_down', true],
  ['Resolved', 'taken_down', true],
  ['Successful', 'taken_down', true],
  ['Failed', 'failed', true],
  ['Rejected', 'failed', true],
  ['Declined', 'failed', true],
  ['Cancelled', 'cancelled', true],
  ['Canceled', 'cancelled', true],
  ['Closed', 'closed', true]
]

describe('bforeai status table', () => {
  it('is a normalised lookup (data only)', () => {
    expect(bforeaiStatusTable.kind).toBe('lookup')
    expect(bforeaiStatusTable.kind === 'lookup' && bforeaiStatusTable.normalise).toBe(true)
  })

  it.each(CASES)('%s → %s', (name, status, terminal) => {
    const { engine: e, unknown } = engine()
    expect(e.map('bforeai', name)).toEqual({ status, terminal })
    expect(unknown).toEqual([])
  })

  it('maps an unknown name to unknown and fires the listener', () => {
    const { engine: e, unknown } = engine()
    expect(e.map('bforeai', 'Escalated to Partner')).toEqual({ status: 'unknown', terminal: false })
    expect(unknown).toEqual(['Escalated to Partner'])
  })

  it('maps a missing name to unknown', () => {
    const { engine: e, unknown } = engine()
    expect(e.map('bforeai', null).status).toBe('unknown')
    expect(unknown).toEqual([null])
  })

  it('knows every simulator status except the deliberately odd one', () => {
    const { engine: e } = engine()
    const unmapped = STATUSES.filter(s => e.map('bforeai', s.name).status === 'unknown').map(s => s.name)
    expect(unmapped).toEqual(['Escalated to Partner'])
  })
})
