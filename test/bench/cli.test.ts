/** The bench scripts' command lines: `--help` prints the usage, a typo names the option; neither prints a stack trace. */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const run = (script: string, ...args: string[]): { status: number | null, stdout: string, stderr: string } => {
  const res = spawnSync('node_modules/.bin/tsx', [script, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { status: res.status, stdout: res.stdout, stderr: res.stderr }
}

describe.each([
  ['bench/run.ts', 'bench', '--duration'],
  ['bench/analytics.ts', 'bench:analytics', '--cases'],
  ['bench/watch.ts', 'bench:watch', '--span-days'],
  ['bench/batch-latency.ts', 'bench:batch', '--latency-ms']
])('%s', (script, name, option) => {
  it('--help prints the usage and exits 0', () => {
    const res = run(script, '--help')
    expect(res.status, res.stderr).toBe(0)
    expect(res.stdout).toContain(`usage: npm run ${name} -- [options]`)
    expect(res.stdout).toContain(option)
    expect(res.stderr).toBe('')
  })

  it('an unknown option is named on stderr with the usage, exit 2, no stack trace', () => {
    const res = run(script, '--no-such-option')
    expect(res.status).toBe(2)
    expect(res.stderr).toContain(`${name}: Unknown option '--no-such-option'`)
    expect(res.stderr).toContain(option)
    expect(res.stderr).not.toMatch(/^\s+at /m)
  })
})

describe('bench/run.ts option values', () => {
  it.each([
    ['--few-providers', 'nosuchvendor', 'nosuchvendor is not a registered provider'],
    ['--few-providers', 'phishfort,phishfort', 'names a provider twice'],
    ['--few-providers', ',', 'needs at least one provider id'],
    ['--scenarios', 'ref,lst', 'no scenario lst']
  ])('%s %s is refused before anything starts: exit 2, the problem and the usage, no stack trace', (option, value, problem) => {
    const res = run('bench/run.ts', option, value)
    expect(res.status).toBe(2)
    expect(res.stderr).toContain(`bench: ${option}: `)
    expect(res.stderr).toContain(problem)
    expect(res.stderr).toContain('usage: npm run bench -- [options]')
    expect(res.stderr).not.toMatch(/^\s+at /m)
  })
})
