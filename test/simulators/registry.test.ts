/**
 * A provider's simulator is found by its registry id (src/simulators/<id>/index.ts exports `simulator`): every
 * registered provider has one that starts in sandbox mode and answers on loopback with its own credential, and an id
 * without a folder is refused by name rather than with a bare module error.
 */
import { readdirSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { startSimulator, type RunningSimulator } from '../../src/simulators/harness.js'
import { createSimulator } from '../../src/simulators/index.js'

const running: RunningSimulator[] = []
afterAll(async () => { await Promise.all(running.map(async r => await r.close())) })

describe('the simulators found by provider id', () => {
  it.each(PROVIDER_IDS)('%s has a simulator folder that exports its factory, and it starts', async id => {
    expect(readdirSync(new URL(`../../src/simulators/${id}/`, import.meta.url))).toContain('index.ts')
    const sim = await createSimulator(id, { clock: new ManualClock(Date.parse('2026-01-01T00:00:00Z')), seed: 1, count: 3 })
    const r = await startSimulator(sim)
    running.push(r)
    expect(r.baseUrl.startsWith('http://127.0.0.1:')).toBe(true)
    // the loopback server is the simulator's own: a request on its vendor path is counted in its stats
    const res = await fetch(r.baseUrl + '/')
    await res.arrayBuffer()
    expect(sim.stats.total()).toBe(1)
    const stats = await (await fetch(r.origin + '/__sim/stats')).json() as Record<string, number>
    expect(Object.values(stats)).toEqual([1])
  })

  it('an id with no simulator folder is refused with the path it looked for', async () => {
    await expect(createSimulator('nosuchvendor' as ProviderId, { clock: new ManualClock(0) })).rejects.toThrow(/nosuchvendor/)
  })
})
