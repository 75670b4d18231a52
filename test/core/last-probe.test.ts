import { describe, expect, it } from 'vitest'
import { LastProbePort, type LastProbe } from '../../src/core/last-probe.js'

const probe = (caseId: string, at: string): LastProbe => ({ caseId, at, outcome: 'down', reason: 'nxdomain', url: null, finalStatus: null, title: null })

describe('LastProbePort', () => {
  it('answers null until verification fills it, then the newest probe over the cases', async () => {
    const port = new LastProbePort()
    expect(port.enabled).toBe(false)
    expect(await port.latest(['a', 'b'])).toBeNull()
    const history: Record<string, LastProbe> = { a: probe('a', '2026-12-01T10:00:00.000Z'), b: probe('b', '2026-12-01T11:30:00.000Z'), c: probe('c', '2026-11-30T23:00:00.000Z') }
    const asked: string[] = []
    port.provide(async id => { asked.push(id); return history[id] ?? null })
    expect(port.enabled).toBe(true)
    expect(await port.latest(['a', 'b', 'c', 'never'])).toEqual(history.b)
    expect(asked.sort()).toEqual(['a', 'b', 'c', 'never'])
    expect(await port.latest(['never'])).toBeNull()
    expect(await port.latest([])).toBeNull()
  })
})
