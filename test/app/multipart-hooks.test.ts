/**
 * The multipart plugin is registered without its disk-mode hooks: a request of a route that takes no files pays no
 * hook and no response listener for it, a multipart route still reads its files, and disk mode is refused.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { multipartBody, registerMultipart } from '../../src/plugins/multipart.js'

const apps: FastifyInstance[] = []
afterEach(async () => { for (const app of apps.splice(0)) await app.close() })

/** a bare app with a GET that reports the listeners on its response, and an upload route */
async function appWith (multipart: boolean): Promise<FastifyInstance> {
  const app = Fastify()
  apps.push(app)
  if (multipart) await registerMultipart(app, 1_000_000)
  app.get('/listeners', async (_req, reply) => ({ close: reply.raw.listenerCount('close') }))
  if (multipart) {
    app.post('/upload', { preValidation: multipartBody({ payload: false }) }, async (req) => ({
      files: req.attachments.map(a => ({ filename: a.filename, bytes: a.data.length }))
    }))
    app.post('/disk', async (req) => {
      try {
        await req.saveRequestFiles()
        return { saved: true }
      } catch (err) {
        return { saved: false, message: (err as Error).message }
      }
    })
  }
  await app.ready()
  return app
}

const form = (boundary: string): string =>
  `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="shot.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG fake\r\n--${boundary}--\r\n`

describe('multipart registration', () => {
  it('adds no response listener to a request of a route that takes no files', async () => {
    const bare = await appWith(false)
    const withMultipart = await appWith(true)
    const expected = (await bare.inject({ method: 'GET', url: '/listeners' })).json()
    expect((await withMultipart.inject({ method: 'GET', url: '/listeners' })).json()).toEqual(expected)
  })

  it('still reads the files of a multipart request, and a request without files has none', async () => {
    const app = await appWith(true)
    const res = await app.inject({ method: 'POST', url: '/upload', headers: { 'content-type': 'multipart/form-data; boundary=b' }, payload: form('b') })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ files: [{ filename: 'shot.png', bytes: Buffer.byteLength('\x89PNG fake') }] })
    const json = await app.inject({ method: 'POST', url: '/upload', payload: {} })
    expect(json.json()).toEqual({ files: [] })
  })

  it('refuses disk mode, whose temporary files nothing would clean up', async () => {
    const app = await appWith(true)
    const res = await app.inject({ method: 'POST', url: '/disk', headers: { 'content-type': 'multipart/form-data; boundary=b' }, payload: form('b') })
    expect(res.json()).toMatchObject({ saved: false, message: expect.stringContaining('disk mode') })
  })
})
