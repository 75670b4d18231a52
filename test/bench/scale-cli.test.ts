/** `npm run bench:scale`'s command line: sections and sizes, `--quick`, and bad values named before anything starts. */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { parseScaleArgs, SECTIONS } from '../../bench/scale/args.js'

const run = (...args: string[]): { status: number | null, stdout: string, stderr: string } => {
  const res = spawnSync('node_modules/.bin/tsx', ['bench/scale.ts', ...args], { encoding: 'utf8', timeout: 60_000 })
  return { status: res.status, stdout: res.stdout, stderr: res.stderr }
}

describe('parseScaleArgs', () => {
  it('defaults: every section, 25,000 cases per vendor, a million analytics cases, database 14', () => {
    const a = parseScaleArgs({})
    expect(a.only).toEqual([...SECTIONS])
    expect(a).toMatchObject({ cases: 25_000, analyticsCases: 1_000_000, sseClients: 1000, probeCases: 10_000, exportSizes: [10_000, 100_000], redisUrl: 'redis://127.0.0.1:6379/14' })
  })

  it('--quick makes every size small; a size given beside it still wins', () => {
    const a = parseScaleArgs({ quick: true, 'sse-clients': '300' })
    expect(a.cases).toBeLessThan(25_000)
    expect(a.analyticsCases).toBeLessThan(1_000_000)
    expect(a.sseClients).toBe(300)
  })

  it('--only picks sections and keeps the bench order', () => {
    expect(parseScaleArgs({ only: 'probes, sse' }).only).toEqual(['sse', 'probes'])
  })

  it.each([
    [{ only: 'sse,nope' }, /--only: unknown section nope/],
    [{ only: ',' }, /--only: unknown section \(none\)/],
    [{ cases: '12x' }, /--cases must be a number/],
    [{ cases: '10' }, /--cases must be a number ≥ 100/],
    [{ 'export-sizes': '1000,abc' }, /--export-sizes must be a number/],
    [{ 'redis-url': 'http://127.0.0.1:6379' }, /--redis-url must be a redis:\/\/ URL/]
  ])('%o is refused with the option named', (values, message) => {
    expect(() => parseScaleArgs(values)).toThrow(message)
  })
})

describe('bench/scale.ts', () => {
  it('--help prints the usage with every section and exits 0', () => {
    const res = run('--help')
    expect(res.status, res.stderr).toBe(0)
    expect(res.stdout).toContain('usage: npm run bench:scale -- [options]')
    for (const s of SECTIONS) expect(res.stdout).toContain(s)
    expect(res.stderr).toBe('')
  })

  it('an unknown section is named on stderr with the usage, exit 2, nothing started', () => {
    const res = run('--only', 'watcher,sse2')
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('bench:scale: --only: unknown section sse2')
    expect(res.stderr).toContain('--export-sizes')
    expect(res.stdout).toBe('')
    expect(res.stderr).not.toMatch(/^\s+at /m)
  })

  it('an unknown option is named, exit 2', () => {
    const res = run('--no-such-option')
    expect(res.status).toBe(2)
    expect(res.stderr).toContain("bench:scale: Unknown option '--no-such-option'")
  })
})
