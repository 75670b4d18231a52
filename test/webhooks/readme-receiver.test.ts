/**
 * The receiver example of README.md runs as written: it accepts the gateway's signed test message and refuses a
 * message whose body was changed after signing.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { signatureHeaders } from '../../src/domain/signing.js'
import { auth, testGateway } from '../support/app.js'
import { eventually } from '../support/receiver.js'

const dir = mkdtempSync(join(tmpdir(), 'readme-receiver-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

async function freePort (): Promise<number> {
  return await new Promise(resolve => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

describe('README receiver example', () => {
  it('verifies the gateway\'s signature and refuses a body changed after signing', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const section = readme.slice(readme.indexOf('### Outbound webhooks'))
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1]
    expect(code).toBeDefined()
    expect(code!.split('\n').filter(l => l.trim() !== '').length).toBeLessThanOrEqual(25)
    writeFileSync(join(dir, 'receiver.mjs'), code!)

    const gw = await testGateway({ clock: new ManualClock(Date.now()) })
    const port = await freePort()
    const created = await gw.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth(), payload: { url: `http://127.0.0.1:${port}/hooks/takedowns` } })
    const { id, secret } = created.json() as { id: string, secret: string }
    const child = spawn(process.execPath, [join(dir, 'receiver.mjs')], { env: { PATH: process.env.PATH ?? '', WEBHOOK_SECRET: secret, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
    try {
      const up = await eventually(async () => {
        try { await (await request(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).body.dump(); return true } catch { return false }
      }, 10_000, 50)
      expect(up).toBe(true)
      const res = await gw.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${id}/test`, headers: auth() })
      expect(res.json()).toMatchObject({ outcome: 'delivered', statusCode: 204 })
      expect(await eventually(() => out.includes(`webhook.test ${res.json().eventId as string}`), 5000)).toBe(true)

      // headers signed for one body, sent with another: 401
      const headers = signatureHeaders('msg_1', Math.floor(Date.now() / 1000), '{"type":"case.created"}', [secret])
      const tampered = await request(`http://127.0.0.1:${port}/hooks/takedowns`, { method: 'POST', headers, body: '{"type":"case.reopened"}' })
      await tampered.body.dump()
      expect(tampered.statusCode).toBe(401)
    } finally {
      child.kill()
      await gw.close()
    }
  })
})
