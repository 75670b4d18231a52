/**
 * A client that goes away stops the vendor calls made for it (req.cancellation, plugins/cancellation.ts), and the
 * cancelled call neither waits for its deadline nor counts against the vendor's circuit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { eventually } from '../support/receiver.js'

let gw: TestGateway
let origin: string
beforeAll(async () => {
  gw = await testGateway({ env: { CIRCUIT_FAILURE_THRESHOLD: '1' } })
  origin = await gw.app.listen({ port: 0, host: '127.0.0.1' })
})
afterAll(async () => { await gw.close() })

async function upstreamOutcomes (): Promise<Record<string, number>> {
  const metric = await gw.app.metrics.upstreamRequests.get()
  const out: Record<string, number> = {}
  for (const v of metric.values) if (v.labels.provider === 'phishfort') out[String(v.labels.outcome)] = (out[String(v.labels.outcome)] ?? 0) + v.value
  return out
}

describe('client disconnects', () => {
  it('end the vendor call at once, long before its 3 s deadline, without opening the circuit', async () => {
    const page = await gw.app.inject({ method: 'GET', url: '/v1/cases?provider=phishfort&limit=1', headers: auth() })
    const id = (page.json() as { items: Array<{ id: string }> }).items[0]!.id
    const before = await upstreamOutcomes()
    gw.sandbox.running.phishfort.sim.faults.add({ hang: true })
    try {
      await expect(request(`${origin}/v1/cases/${encodeURIComponent(id)}`, { headers: auth(), signal: AbortSignal.timeout(150) }))
        .rejects.toThrow()
      // the gateway records the vendor call's end as soon as its cancellation reached undici (waited for below the
      // 3 s deadline, so the deadline cannot be what ended it)
      let after = before
      expect(await eventually(async () => ((after = await upstreamOutcomes()).timeout ?? 0) > (before.timeout ?? 0), 2500)).toBe(true)
      expect(after.timeout ?? 0).toBe((before.timeout ?? 0) + 1)
      // a cancellation is not a vendor failure: with a threshold of 1 the circuit would be open otherwise (a deadline
      // timeout counts)
      expect(gw.app.providers.get('phishfort')?.circuit?.()).toBe('closed')
    } finally {
      gw.sandbox.running.phishfort.sim.faults.clear()
    }
  })
})
