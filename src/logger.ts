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
 * The process logger (server.ts); tests pass a destination to capture every line. Without one, lines go to stdout in
 * batches: pino's default destination writes every line with its own write(2), one syscall per request at `info`;
 * this one gathers lines until LOG_BUFFER_BYTES and then writes them in one write(2) (one per dozen or so access
 * lines under load), and is flushed every LOG_FLUSH_MS, so a line reaches stdout within a second when traffic is low.
 * The write is synchronous: the asynchronous mode hands each batch to libuv's thread pool, and cost ~1.5 µs more per
 * line than the blocking write of the same 4 KB (bench/README.md, "Where a request's fixed cost goes"). A stdout that
 * stops reading therefore holds the event loop at the next full batch, where the asynchronous mode would have grown
 * the process's memory until it did. pino flushes a synchronous destination on exit only when asked: the `exit`
 * listener writes what is gathered, whichever way the process ends (graceful close, process.exit, uncaught error).
 */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  const opts = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  if (destination !== undefined) return pino(opts, destination) as unknown as Logger
  const stdout = pino.destination({ dest: 1, sync: true, minLength: LOG_BUFFER_BYTES })
  setInterval(() => {
    try { stdout.flush() } catch { /* closed at exit: nothing left to write */ }
  }, LOG_FLUSH_MS).unref()
  process.once('exit', () => {
    try { stdout.flushSync() } catch { /* stdout closed: nowhere to write */ }
  })
  return pino(opts, stdout) as unknown as Logger
}
