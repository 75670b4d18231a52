import { describe, expect, it } from 'vitest'
import { gatewayHistory, mergeHistory } from '../../src/domain/history.js'
import type { HistoryEntry } from '../../src/schemas/case.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import { testCase } from '../support/case-events.js'

const p = (at: string, status: HistoryEntry['status'], message: string | null = null): HistoryEntry => ({ at, status, providerStatus: null, message, source: 'provider' })
const g = (at: string, status: HistoryEntry['status'], message: string | null = null): HistoryEntry => ({ at, status, providerStatus: null, message, source: 'gateway' })

describe('mergeHistory', () => {
  it('a BforeAI case that was cancelled keeps its earlier steps from the gateway record, oldest first, each saying its source', () => {
    // BforeAI shows only the current state; the gateway saw the create and the cancel request
    const provider = [p('2026-03-02T10:00:00.000Z', 'cancelled', 'false positive')]
    const gateway = [g('2026-03-01T09:00:00.000Z', 'received', 'created through the gateway'), g('2026-03-02T09:59:00.000Z', 'in_progress', 'cancel requested')]
    expect(mergeHistory(provider, gateway)).toEqual([gateway[0], gateway[1], provider[0]])
  })

  it('on equal instants the provider entry comes first; a gateway entry repeating one (same instant and status) is dropped', () => {
    const provider = [p('2026-03-01T09:00:00Z', 'received', 'vendor says received'), p('2026-03-03T00:00:00Z', 'taken_down')]
    const gateway = [g('2026-03-01T09:00:00.000Z', 'received', 'duplicate'), g('2026-03-03T00:00:00.000Z', 'in_progress', 'same instant, other status')]
    expect(mergeHistory(provider, gateway)).toEqual([provider[0], provider[1], gateway[1]])
  })

  it('keeps each side\'s order for equal times, puts unreadable instants last, and leaves the inputs alone', () => {
    const provider = [p('garbled', null, 'a'), p('2026-01-01T00:00:00Z', null, 'b')]
    const gateway = [g('2026-01-01T00:00:00Z', 'in_review', 'c'), g('2026-01-01T00:00:00Z', 'in_progress', 'd')]
    const before = JSON.stringify([provider, gateway])
    expect(mergeHistory(provider, gateway).map(e => e.message)).toEqual(['b', 'c', 'd', 'a'])
    expect(JSON.stringify([provider, gateway])).toBe(before)
    expect(mergeHistory([], [])).toEqual([])
  })
})

describe('gatewayHistory', () => {
  const c = testCase(0, 0, 'hist')
  const event = (type: CaseEvent['type'], status: HistoryEntry['status'], occurredAt: string | null, observedAt: string): CaseEvent =>
    ({ id: `${Date.parse(observedAt)}-0`, type, occurredAt, observedAt, observedVia: 'poll', case: { ...c, status, providerStatus: `vendor ${status}` }, previous: null, sequence: 1 }) as CaseEvent

  it('gives one gateway entry per status move, dated by the vendor\'s time when the event has it, else by the observation', () => {
    const entries = gatewayHistory([
      event('case.created', 'received', '2026-03-01T09:00:00.000Z', '2026-03-01T09:00:01.000Z'),
      event('case.updated', 'received', null, '2026-03-01T10:00:00.000Z'),
      event('case.status_changed', 'in_progress', null, '2026-03-01T11:00:00.000Z'),
      event('case.status_changed', 'taken_down', '2026-03-02T08:00:00.000Z', '2026-03-02T08:05:00.000Z'),
      event('case.reopened', 'in_progress', '2026-03-03T08:00:00.000Z', '2026-03-03T08:05:00.000Z')
    ])
    expect(entries.map(e => [e.at, e.status, e.providerStatus, e.source])).toEqual([
      ['2026-03-01T09:00:00.000Z', 'received', 'vendor received', 'gateway'],
      ['2026-03-01T11:00:00.000Z', 'in_progress', 'vendor in_progress', 'gateway'],
      ['2026-03-02T08:00:00.000Z', 'taken_down', 'vendor taken_down', 'gateway'],
      ['2026-03-03T08:00:00.000Z', 'in_progress', 'vendor in_progress', 'gateway']
    ])
    expect(entries.map(e => e.message)).toEqual([
      'case created (observed by the gateway)', 'status changed (observed by the gateway)', 'status changed (observed by the gateway)', 'case reopened (observed by the gateway)'
    ])
    expect(gatewayHistory([])).toEqual([])
  })

  it('keeps a vendor status step within one unified status (a case.updated that moved the vendor status), not a bare update', () => {
    const moved = { ...event('case.updated', 'in_progress', '2026-03-01T12:00:00.000Z', '2026-03-01T12:00:05.000Z'), previous: { status: 'in_progress', providerStatus: 'In Progress' } } as CaseEvent
    const touched = { ...event('case.updated', 'in_progress', null, '2026-03-01T13:00:00.000Z'), previous: { status: 'in_progress', providerStatus: 'vendor in_progress' } } as CaseEvent
    expect(gatewayHistory([moved, touched])).toEqual([
      { at: '2026-03-01T12:00:00.000Z', status: 'in_progress', providerStatus: 'vendor in_progress', message: 'status changed (observed by the gateway)', source: 'gateway' }
    ])
  })
})
