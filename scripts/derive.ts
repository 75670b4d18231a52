/**
 * Writes the files derived from the provider registry and the configuration table: src/schemas/provider-ids.ts, the
 * README configuration table, docker/live.env.example and package.json's description. `--check` fails when one
 * differs instead (test/app/derived.test.ts and test/app/config.test.ts check the same).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { derivedFiles } from '../src/settings/derived.js'

const stale = derivedFiles((file) => readFileSync(file, 'utf8')).filter(f => f.current !== f.wanted)
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    console.error(`out of date with the registry or the configuration table: ${stale.map(f => f.file).join(', ')} (npm run derive)`)
    process.exitCode = 1
  }
} else {
  for (const f of stale) writeFileSync(f.file, f.wanted)
  console.log(stale.length === 0 ? 'up to date' : `wrote ${stale.map(f => f.file).join(', ')}`)
}
