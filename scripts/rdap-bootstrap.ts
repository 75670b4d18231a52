/**
 * Refreshes the RDAP bootstrap files the gateway ships (src/features/targets/rdap/bootstrap) from IANA (RFC 9224).
 * Run by an operator or a maintainer (`npm run rdap:bootstrap [-- --out <dir>]`); the tests never run it.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BOOTSTRAP_KINDS, SHIPPED_BOOTSTRAP_DIR } from '../src/features/targets/rdap/bootstrap.js'

const IANA = 'https://data.iana.org/rdap/'

function outDir (argv: string[]): string {
  const i = argv.indexOf('--out')
  if (argv.includes('--help')) {
    console.log('usage: npm run rdap:bootstrap [-- --out <dir>]   (default: the shipped copies, src/features/targets/rdap/bootstrap)')
    process.exit(0)
  }
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : SHIPPED_BOOTSTRAP_DIR
}

async function main (): Promise<void> {
  const dir = outDir(process.argv.slice(2))
  mkdirSync(dir, { recursive: true })
  for (const kind of BOOTSTRAP_KINDS) {
    const res = await fetch(`${IANA}${kind}.json`, { signal: AbortSignal.timeout(30_000) })
    if (!res.ok) throw new Error(`${IANA}${kind}.json answered ${res.status}`)
    const body = await res.json() as { services?: unknown }
    if (!Array.isArray(body.services)) throw new Error(`${IANA}${kind}.json has no services list`)
    writeFileSync(join(dir, `${kind}.json`), JSON.stringify(body, null, 1) + '\n')
    console.log(`${kind}.json: ${body.services.length} services`)
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).message)
  process.exit(1)
})
