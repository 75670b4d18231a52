import type { FastifyBaseLogger } from 'fastify'
import { pino, type DestinationStream } from 'pino'

export type Logger = FastifyBaseLogger

/**
 * Paths pino removes from every log line. Gateway keys and vendor credentials only ever travel in these headers,
 * and config objects are never logged whole.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-authorization"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-authorization"]',
  'credential',
  '*.credential',
  'secret',
  '*.secret'
]

/** The process logger (server.ts); tests pass a destination to capture every line. */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  const opts = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  return (destination === undefined ? pino(opts) : pino(opts, destination)) as unknown as Logger
}
