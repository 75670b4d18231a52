/**
 * Prints every skipped test with its reason after the run: the default reporter shows only a count, so a suite that
 * skips a test for a missing tool (curl, chromium) says nothing about why. The reason is the `ctx.skip(note)` note, or
 * the test's name, which the skipping tests spell as "... (skipped: <why>)". Silent when `-t` filters the run.
 */
import { relative } from 'node:path'
import type { Reporter, TestModule, Vitest } from 'vitest/node'

export default class SkipReasons implements Reporter {
  #filtered = false
  #root = process.cwd()

  onInit (vitest: Vitest): void {
    this.#filtered = vitest.config.testNamePattern !== undefined
    this.#root = vitest.config.root
  }

  onTestRunEnd (modules: ReadonlyArray<TestModule>): void {
    if (this.#filtered) return
    const lines: string[] = []
    for (const mod of modules) {
      for (const test of mod.children.allTests('skipped')) {
        const result = test.result()
        const note = result.state === 'skipped' ? result.note : undefined
        lines.push(`  ↓ ${relative(this.#root, mod.moduleId)} > ${test.fullName}${note === undefined ? '' : ` (skipped: ${note})`}`)
      }
    }
    if (lines.length > 0) process.stdout.write(`\nSkipped tests and why:\n${lines.join('\n')}\n`)
  }
}
