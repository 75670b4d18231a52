/**
 * An endpoint whose secret was sealed under another WEBHOOK_ENCRYPTION_KEY (a replica with the wrong key, a sandbox
 * restarted with a new random key on the same Redis): nothing is sent unsigned, the process says so in one log line
 * however many deliveries fail, and the endpoint, once disabled, says why in its disabledReason.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { SecretBox } from '../../src/domain/signing.js'
import { auth, testGateway, type TestGateway } from '../support/app.js'
import { recordEvents } from '../support/case-events.js'
import { eventually, startReceiver, type Receiver } from '../support/receiver.js'

let gw: TestGateway
let rx: Receiver
const lines: string[] = []
const clock = new ManualClock(Date.parse('2026-11-01T00:00:00.000Z'))

beforeAll(async () => {
  rx = await startReceiver()
  gw = await testGateway({
    clock,
    env: { WEBHOOK_RETRY_SCHEDULE: '0,50ms,50ms,50ms,50ms,50ms', WEBHOOK_RETRY_JITTER: '0', WEBHOOK_DISABLE_AFTER_MS: '60000' },
    logger: { level: 'warn', stream: { write: (l: string) => { lines.push(l) } } }
  })
})
afterAll(async () => {
  await gw.close()
  await rx.close()
})

describe('an endpoint secret this replica cannot decrypt', () => {
  it('sends nothing, logs it once for 40 failed deliveries, and the endpoint is disabled saying why', async () => {
    const created = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: rx.url } })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id as string
    // the record as another key sealed it
    const record = await gw.app.webhooks.store.getEndpoint(id)
    if (record === null) throw new Error('endpoint not stored')
    const other = new SecretBox(randomBytes(32))
    await gw.app.webhooks.store.saveEndpoint({ ...record, secrets: record.secrets.map(s => ({ ...s, sealed: other.seal('whsec_from_another_run', id) })) })

    await recordEvents(gw.app.events.service, 40)
    const attempts = async (): Promise<Array<Record<string, any>>> =>
      (await gw.app.inject({ url: `/v1/webhook-endpoints/${id}/deliveries?limit=1000`, headers: auth() })).json().items
    expect(await eventually(async () => (await attempts()).length >= 40)).toBe(true)
    expect(rx.received).toHaveLength(0)
    expect((await attempts()).every(a => /cannot be decrypted/.test(a.error as string))).toBe(true)

    // past the disable threshold, the next retry disables it, naming the cause
    clock.advance(60_000)
    expect(await eventually(async () => (await gw.app.inject({ url: `/v1/webhook-endpoints/${id}`, headers: auth() })).json().enabled === false)).toBe(true)
    const ep = (await gw.app.inject({ url: `/v1/webhook-endpoints/${id}`, headers: auth() })).json()
    expect(ep.disabledReason).toMatch(/cannot be decrypted with WEBHOOK_ENCRYPTION_KEY/)
    expect(ep.disabledReason).not.toMatch(/^failing/)
    expect(lines.filter(l => l.includes('cannot decrypt a webhook endpoint secret'))).toHaveLength(1)
    expect(lines.filter(l => l.includes('webhook endpoint disabled'))).toHaveLength(1)
    expect(rx.received).toHaveLength(0)
  })
})
