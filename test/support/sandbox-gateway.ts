/**
 * The gateway exactly as `npm start` runs it on a fresh clone (sandbox mode, no keys: the key `sandbox`; its own
 * simulators), listening on a free loopback port, for tests that talk to it with real HTTP clients (curl,
 * openapi-fetch, a browser).
 */
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

export interface ListeningGateway {
  app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  origin: string
  port: number
  close (): Promise<void>
}

export async function listenSandboxGateway (): Promise<ListeningGateway> {
  // no GATEWAY_API_KEYS, no GATEWAY_SECRET: the sandbox defaults; load shedding off (it would react to the test worker)
  const config = loadConfig({ SANDBOX: 'true', LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0' })
  const app = await buildApp({ config, logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the gateway is not listening on a TCP port')
  return { app, origin: `http://127.0.0.1:${address.port}`, port: address.port, close: async () => { await app.close() } }
}
