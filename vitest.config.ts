import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20000,
    hookTimeout: 30000,
    pool: 'forks',
    // the second prints each skipped test with its reason (the default one only counts them)
    reporters: ['default', './test/support/skip-reasons.ts']
  }
})
