/**
 * README 'Receiving on a local port in sandbox mode', step by step against the gateway exactly as `npm start` runs it
 * (sandbox defaults, no WEBHOOK_* variable): the registration body the README shows is taken as written with a
 * loopback http URL, and the test message reaches the receiver on that port.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startReceiver, eventually, type Receiver } from '../support/receiver.js'
import { listenSandboxGateway, type ListeningGateway } from '../support/sandbox-gateway.js'

let gw: ListeningGateway
let rx: Receiver
beforeAll(async () => {
  gw = await listenSandboxGateway()
  rx = await startReceiver()
})
afterAll(async () => {
  await gw.close()
  await rx.close()
})

describe('README: receiving webhooks on a local port in sandbox mode', () => {
  it('registers the README\'s loopback http URL (on the receiver\'s port) and delivers the test message there', async () => {
    const readme = readFileSync('README.md', 'utf8')
    const section = readme.split(/^\*\*Receiving on a local port in sandbox mode\.\*\*/m)[1] ?? ''
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
    const body = /-d '(\{[^']*\})'/.exec(block)?.[1]
    expect(body, 'the README registers an endpoint').toBeDefined()
    const payload = JSON.parse(body!) as { url: string }
    const readmeUrl = new URL(payload.url)
    expect(readmeUrl.protocol).toBe('http:')
    expect(readmeUrl.hostname).toBe('127.0.0.1')
    payload.url = payload.url.replace(`:${readmeUrl.port}/`, `:${rx.port}/`)

    const headers = { authorization: 'Bearer sandbox', 'content-type': 'application/json' }
    const created = await fetch(`${gw.origin}/v1/webhook-endpoints`, { method: 'POST', headers, body: JSON.stringify(payload) })
    expect(created.status, await created.clone().text()).toBe(201)
    const { id, secret } = await created.json() as { id: string, secret: string }
    expect(secret).toMatch(/^whsec_/)
    const test = await fetch(`${gw.origin}/v1/webhook-endpoints/${id}/test`, { method: 'POST', headers: { authorization: 'Bearer sandbox' } })
    expect(test.status).toBe(200)
    expect(await eventually(() => rx.received.length === 1)).toBe(true)
    expect(JSON.parse(rx.received[0]!.body)).toMatchObject({ type: 'webhook.test' })
  })
})
