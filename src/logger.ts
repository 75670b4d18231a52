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

/**
 * The process logger (server.ts); tests pass a destination to capture every line. Without one, lines go to stdout
 * asynchronously: pino's default destination writes every line with a blocking write(2) on the event loop, one
 * syscall per request at `info`; the asynchronous one writes while the loop goes on and batches the lines that
 * arrive meanwhile, and pino flushes it synchronously when the process exits.
 */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  const opts = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  return pino(opts, destination ?? pino.destination({ dest: 1, sync: false })) as unknown as Logger
}
