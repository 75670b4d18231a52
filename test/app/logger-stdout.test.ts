/**
 * The process logger's stdout (createLogger without a destination), in a child process: lines are gathered and
 * written in batches, so what matters is that none waits for the batch to fill when traffic is low, and that none is
 * lost when the process exits with lines still gathered.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const LOGGER = resolve(import.meta.dirname, '../../src/logger.ts')

// logs `first`, then on each stdin line logs that line, and on `exit` logs `last` and exits at once
const SCRIPT = `
const { createLogger } = await import(${JSON.stringify(LOGGER)})
const log = createLogger('info')
log.info('first')
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  for (const word of chunk.split('\\n').filter(Boolean)) {
    if (word === 'exit') { log.info('last'); process.exit(0) }
    log.info(word)
  }
})
`

function child (): { lines: () => string[], waitFor: (msg: string) => Promise<void>, send: (word: string) => void, exited: Promise<unknown> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  const waiters: Array<() => void> = []
  proc.stdout.setEncoding('utf8')
  proc.stdout.on('data', (chunk: string) => { out += chunk; for (const w of waiters.splice(0)) w() })
  const lines = (): string[] => out.split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as { msg: string }).msg)
  const waitFor = async (msg: string): Promise<void> => {
    while (!lines().includes(msg)) await new Promise<void>(resolve => waiters.push(resolve))
  }
  return { lines, waitFor, send: word => { proc.stdin.write(`${word}\n`) }, exited: once(proc, 'close') }
}

describe('the process logger on stdout', () => {
  it('writes a lone line without waiting for a full batch', async () => {
    const c = child()
    // far less than a batch: only the periodic flush can bring it out while the process lives
    await c.waitFor('first')
    c.send('second')
    await c.waitFor('second')
    expect(c.lines()).toEqual(['first', 'second'])
    c.send('exit')
    await c.exited
  })

  it('writes the lines gathered when the process exits', async () => {
    const c = child()
    await c.waitFor('first')
    // a few lines and an immediate process.exit(): still gathered when the process ends
    for (const w of ['a', 'b', 'c', 'exit']) c.send(w)
    await c.exited
    expect(c.lines()).toEqual(['first', 'a', 'b', 'c', 'last'])
  })
})
