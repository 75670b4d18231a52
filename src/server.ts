/**
 * Process entry: configuration, logger, listen, graceful shutdown. Everything else is in app.ts.
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { createLogger } from './logger.js'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`takedown-gateway: ${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  throw err
}

const logger = createLogger(config.logLevel)
const app = await buildApp({ config, loggerInstance: logger })

if (config.sandbox) {
  app.log.info({ providers: app.providers.all().map(p => ({ id: p.id, mode: p.mode })) },
    'SANDBOX mode: every provider is served by a built-in simulator on loopback; no vendor is contacted')
}
if (config.sandboxKey) app.log.warn('GATEWAY_API_KEYS is unset: the key "sandbox" (all scopes) is accepted; never run like this in production')
if (config.randomSecret) app.log.warn('GATEWAY_SECRET is unset: cursors are signed with a random per-process secret and die with the process')
if (config.redis === null) app.log.warn('REDIS_URL is unset: cache, idempotency records and rate limits live in this process only')

// SIGTERM: /readyz turns 503 at once (the load balancer stops sending), requests are still served for
// SHUTDOWN_DELAY_MS, then the listener closes and in-flight requests finish (10 s at most) before the process exits 0
closeWithGrace({ delay: config.shutdownDelayMs + 10_000 }, async ({ signal, err }) => {
  app.beginShutdown()
  if (err !== undefined) {
    app.log.error({ err }, 'closing after an uncaught error')
  } else {
    app.log.info({ signal, delayMs: config.shutdownDelayMs }, 'shutting down: readiness is 503, draining')
    if (config.shutdownDelayMs > 0) await new Promise(resolve => setTimeout(resolve, config.shutdownDelayMs))
  }
  await app.close()
  app.log.info('closed')
})

await app.listen({ port: config.port, host: config.host })
