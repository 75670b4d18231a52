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

/** bytes of log lines gathered before a write to stdout, and the longest a line waits when traffic is low */
export const LOG_BUFFER_BYTES = 4096
export const LOG_FLUSH_MS = 1000

/**
 * The process logger (server.ts); tests pass a destination to capture every line. Without one, lines go to stdout
 * asynchronously: pino's default destination writes every line with a blocking write(2) on the event loop, one
 * syscall per request at `info`; the asynchronous one writes while the loop goes on, gathers lines until
 * LOG_BUFFER_BYTES (a write per dozen or so access lines instead of one per line under load) and is flushed every
 * LOG_FLUSH_MS, so a line reaches stdout within a second when traffic is low; pino flushes it synchronously when the
 * process exits.
 */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  const opts = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  if (destination !== undefined) return pino(opts, destination) as unknown as Logger
  const stdout = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES })
  setInterval(() => {
    try { stdout.flush() } catch { /* closed at exit: nothing left to write */ }
  }, LOG_FLUSH_MS).unref()
  return pino(opts, stdout) as unknown as Logger
}
