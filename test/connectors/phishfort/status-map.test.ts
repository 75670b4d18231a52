import { describe, it, expect } from 'vitest'
import { STATUS_TABLES } from '../../../src/providers/registry.js'
import { phishfortStatusTable, PHISHFORT_STATUS_MAP } from '../../../src/connectors/phishfort/status-map.js'
import { PHISHFORT_STATUSES } from '../../../src/connectors/phishfort/wire.js'
import { StatusEngine } from '../../../src/status/engine.js'

function engine (): { status: StatusEngine, unknown: Array<string | null> } {
  const unknown: Array<string | null> = []
  return { status: new StatusEngine(STATUS_TABLES, {}, (_p, s) => { unknown.push(s) }), unknown }
}

describe('phishfort status table', () => {
  it.each([
    ['pending_review', 'received', false],
    ['case_building', 'in_review', false],
    ['approval_required', 'awaiting_customer', false],
    ['action_required', 'awaiting_customer', false],
    ['takedown_ready', 'in_progress', false],
    ['takedown_in_progress', 'in_progress', false],
    ['pre_weaponised', 'monitoring', false],
    ['blocklisted', 'mitigated', false],
    ['takedown_success', 'taken_down', true],
    ['takedown_attempt_failed', 'failed', true],
    ['closed', 'closed', true]
  ] as const)('maps %s to %s (terminal %s)', (vendor, unified, terminal) => {
    const { status, unknown } = engine()
    expect(status.map('phishfort', vendor)).toEqual({ status: unified, terminal })
    expect(unknown).toEqual([])
  })

  it('covers every documented status and nothing else', () => {
    expect(Object.keys(PHISHFORT_STATUS_MAP).sort()).toEqual([...PHISHFORT_STATUSES].sort())
  })

  it.each([
    ['Pending Review', 'received'],
    ['Case Building', 'in_review'],
    ['Approval Required', 'awaiting_customer'],
    ['Action Required', 'awaiting_customer'],
    ['Takedown Ready', 'in_progress'],
    ['Takedown In Progress', 'in_progress'],
    ['Pre-Weaponised', 'monitoring'],
    ['Blocklisted', 'mitigated'],
    ['Takedown Success', 'taken_down'],
    ['Closed', 'closed'],
    ['Takedown Failed', 'failed'],
    ['Takedown Pending', 'in_progress']
  ] as const)('maps the statusVerbose label %j to %s', (label, unified) => {
    expect(engine().status.map('phishfort', label).status).toBe(unified)
  })

  it('maps an unknown value to unknown and tells the listener', () => {
    const { status, unknown } = engine()
    expect(status.map('phishfort', 'takedown_escalated')).toEqual({ status: 'unknown', terminal: false })
    expect(status.map('phishfort', null).status).toBe('unknown')
    expect(unknown).toEqual(['takedown_escalated', null])
  })

  it('is a normalised lookup table registered for phishfort', () => {
    expect(phishfortStatusTable.kind).toBe('lookup')
    expect(STATUS_TABLES.phishfort).toBe(phishfortStatusTable)
  })

  it('lets STATUS_MAP_FILE overrides win over the table', () => {
    const status = new StatusEngine(STATUS_TABLES, { phishfort: { blocklisted: 'taken_down' } })
    expect(status.map('phishfort', 'blocklisted')).toEqual({ status: 'taken_down', terminal: true })
  })
})
