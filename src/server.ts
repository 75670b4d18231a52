/**
 * Process entry: configuration, logger, listen, graceful shutdown. Everything else is in app.ts.
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { createLogger } from './logger.js'
import { describeOff } from './services/provider-set.js'

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
const off = app.providers.all().filter(p => p.mode === 'off')
if (off.length === app.providers.all().length) {
  app.log.error({ off: off.map(describeOff) }, `NO PROVIDER IS ON: ${off.map(describeOff).join(', ')}. Listings answer 503 and creates 422 ` +
    `until one is: ${app.providers.turnOnHint(off)}`)
} else if (off.length > 0) {
  app.log.warn({ off: off.map(describeOff) }, `providers off: ${off.map(describeOff).join(', ')}; listings skip them. To turn one on, ${app.providers.turnOnHint(off)}`)
}
if (config.sandboxKey) app.log.warn('GATEWAY_API_KEYS is unset: the key "sandbox" (all scopes) is accepted; never run like this in production')
if (config.randomSecret) app.log.warn('GATEWAY_SECRET is unset: cursors are signed with a random per-process secret and die with the process')
if (config.redis === null) app.log.warn('REDIS_URL is unset: cache, idempotency records and rate limits live in this process only')
if (config.sandboxRun !== null) {
  app.log.info({ redisKeyPrefix: config.redisKeyPrefix }, `sandbox run ${config.sandboxRun}: Redis keys go under ${config.redisKeyPrefix} (the simulators and the random secrets start over with each run; set GATEWAY_SECRET and WEBHOOK_ENCRYPTION_KEY to keep REDIS_KEY_PREFIX as given)`)
}

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

try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  // one line instead of a stack: the usual causes are the port in use and an address this machine does not have
  const e = err as NodeJS.ErrnoException
  const why = e.code === 'EADDRINUSE'
    ? 'the port is in use by another process (set PORT to a free port)'
    : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
      ? 'this machine has no such address (set HOST to one of its addresses, or 0.0.0.0)'
      : e.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges; set PORT to 1024 or above)' : e.message
  process.stderr.write(`takedown-gateway: cannot listen on ${config.host}:${config.port}: ${why}\n`)
  await app.close()
  process.exit(1)
}
// the start-up lines ("Server listening at ...") go out now, not with the next buffer of access lines
(logger as unknown as { flush: () => void }).flush() // a pino logger (createLogger)
