/**
 * How production starts the gateway's node process: the flags of the image's ENTRYPOINT (`node <flags> dist/server.js`).
 * The bench starts its gateways with the same flags, so what it measures (CPU per request, peak RSS) is what ships.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export function entrypointNodeFlags (dockerfile: string): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)
  if (line === null) throw new Error('Dockerfile: no ENTRYPOINT in exec form (["node", ..., "dist/server.js"])')
  const argv = JSON.parse(line[1]!) as unknown
  if (!Array.isArray(argv) || argv.some(a => typeof a !== 'string') || argv[0] !== 'node' || argv.at(-1) !== 'dist/server.js') {
    throw new Error(`Dockerfile: ENTRYPOINT ${line[1]!} does not start node on dist/server.js`)
  }
  return argv.slice(1, -1) as string[]
}

/** the production flags of the repository at `root` */
export function productionNodeFlags (root: string): string[] {
  return entrypointNodeFlags(readFileSync(join(root, 'Dockerfile'), 'utf8'))
}
