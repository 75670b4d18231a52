/** The bench starts its gateways with the node flags of the production image's ENTRYPOINT. */
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
})
