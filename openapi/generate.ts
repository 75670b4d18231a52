/**
 * Writes openapi/openapi.json from the running app's route schemas (the same TypeBox constants that validate
 * requests). `--check` fails when the committed file differs from what the code generates (CI drift gate).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const target = fileURLToPath(new URL('./openapi.json', import.meta.url))

export async function generateOpenApi (): Promise<string> {
  const app = await buildApp({
    config: loadConfig({ SANDBOX: 'true', GATEWAY_SECRET: 'openapi-generation-only', LOG_LEVEL: 'silent' }),
    logger: false
  })
  await app.ready()
  const doc = app.swagger()
  await app.close()
  return JSON.stringify(doc, null, 2) + '\n'
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const generated = await generateOpenApi()
  if (process.argv.includes('--check')) {
    let committed = ''
    try { committed = readFileSync(target, 'utf8') } catch {}
    if (committed !== generated) {
      process.stderr.write('openapi/openapi.json is out of date: run `npm run openapi` and commit the result.\n')
      process.exit(1)
    }
    process.stdout.write('openapi/openapi.json is up to date\n')
  } else {
    writeFileSync(target, generated)
    process.stdout.write(`wrote ${target}\n`)
  }
}
