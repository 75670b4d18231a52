/** The bench starts its gateways with the node flags of the production image's ENTRYPOINT. */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { entrypointNodeFlags, productionNodeFlags } from '../../bench/launch.js'

describe('the gateway node flags the bench takes from the Dockerfile', () => {
  it('are the ENTRYPOINT arguments between node and dist/server.js', () => {
    expect(entrypointNodeFlags('FROM x\nENTRYPOINT ["node", "--enable-source-maps", "--max-semi-space-size=8", "dist/server.js"]\n'))
      .toEqual(['--enable-source-maps', '--max-semi-space-size=8'])
    expect(entrypointNodeFlags('ENTRYPOINT ["node", "dist/server.js"]')).toEqual([])
  })

  it('are those of the repository\'s own Dockerfile', () => {
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(readFileSync('Dockerfile', 'utf8'))![1]!
    expect(['node', ...productionNodeFlags('.'), 'dist/server.js']).toEqual(JSON.parse(entrypoint))
  })

  it('refuse an ENTRYPOINT the bench could not reproduce', () => {
    expect(() => entrypointNodeFlags('ENTRYPOINT node dist/server.js')).toThrow(/exec form/)
    expect(() => entrypointNodeFlags('ENTRYPOINT ["node", "scripts/start.mjs"]')).toThrow(/dist\/server.js/)
    expect(() => entrypointNodeFlags('CMD ["node", "dist/server.js"]')).toThrow(/no ENTRYPOINT/)
  })

  it('are accepted by this node (an unknown V8 flag stops node with "bad option")', () => {
    const run = spawnSync(process.execPath, [...productionNodeFlags('.'), '-e', 'process.stdout.write("started")'], { encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.stdout).toBe('started')
    expect(run.status).toBe(0)
  })

  it('keep the HTTP client\'s WebAssembly parser off the optimising compiler, in the gateway and in its health check', () => {
    // without --liftoff-only V8 compiles llhttp's one large function with TurboFan on the first responses: ~34 MB of
    // malloc'd memory for about a second, in the gateway at start-up and in every health-check process
    expect(productionNodeFlags('.')).toContain('--liftoff-only')
    const healthcheck = /^HEALTHCHECK .*\\\n\s*CMD\s+(\[.*\])\s*$/m.exec(readFileSync('Dockerfile', 'utf8'))
    expect(healthcheck).not.toBeNull()
    expect((JSON.parse(healthcheck![1]!) as string[]).slice(0, 2)).toEqual(['node', '--liftoff-only'])
  })
})
