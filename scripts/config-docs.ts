/**
 * Writes the docs derived from the configuration table (src/settings/table.ts): the README configuration table and
 * docker/live.env.example. `--check` fails when they differ from the table instead (test/app/config.test.ts does the same).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { liveEnvExample, readmeTable } from '../src/settings/table.js'

const README = 'README.md'
const ENV_EXAMPLE = 'docker/live.env.example'
const TABLE = /^\| variable \| (?:default \| )?meaning \|\n(?:\|.*\|\n)+/m

const readme = readFileSync(README, 'utf8')
if (!TABLE.test(readme)) throw new Error(`${README} has no configuration table (a "| variable | default | meaning |" header)`)
const wanted = new Map([[README, readme.replace(TABLE, readmeTable() + '\n')], [ENV_EXAMPLE, liveEnvExample()]])
const stale = [...wanted].filter(([file, text]) => readFileSync(file, 'utf8') !== text).map(([file]) => file)
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    console.error(`out of date with the configuration table: ${stale.join(', ')} (npm run docs:config)`)
    process.exitCode = 1
  }
} else {
  for (const file of stale) writeFileSync(file, wanted.get(file)!)
  console.log(stale.length === 0 ? 'up to date' : `wrote ${stale.join(', ')}`)
}
