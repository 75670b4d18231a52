/**
 * Writes openapi/openapi.json from the running app's route schemas (the same TypeBox constants that validate
 * requests), then the typed client openapi/client/schema.d.ts from it (openapi-typescript, the same command as
 * `npm run openapi:client`). `--check` fails when either committed file differs from what the code generates
 * (CI drift gate).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const target = fileURLToPath(new URL('./openapi.json', import.meta.url))
export const clientTarget = fileURLToPath(new URL('./client/schema.d.ts', import.meta.url))
const openapiTypescript = fileURLToPath(new URL('../node_modules/.bin/openapi-typescript', import.meta.url))

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

/**
 * The client types openapi-typescript generates from `documentPath`, written to `outPath`; the same flags as
 * `npm run openapi:client`. `--default-non-nullable false`: a request field with a default (`action`,
 * `allowDuplicate`) stays optional for the caller.
 */
export function generateClient (documentPath: string, outPath: string): void {
  execFileSync(openapiTypescript, [documentPath, '-o', outPath, '--default-non-nullable', 'false'], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** The client generated from `document` (in a temporary directory), for drift checks. */
export function generateClientText (document: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-client-'))
  try {
    writeFileSync(join(dir, 'openapi.json'), document)
    generateClient(join(dir, 'openapi.json'), join(dir, 'schema.d.ts'))
    return readFileSync(join(dir, 'schema.d.ts'), 'utf8')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const readOrEmpty = (path: string): string => { try { return readFileSync(path, 'utf8') } catch { return '' } }

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const generated = await generateOpenApi()
  if (process.argv.includes('--check')) {
    let failed = false
    if (readOrEmpty(target) !== generated) {
      process.stderr.write('openapi/openapi.json is out of date: run `npm run openapi` and commit the result.\n')
      failed = true
    }
    if (readOrEmpty(clientTarget) !== generateClientText(generated)) {
      process.stderr.write('openapi/client/schema.d.ts is out of date: run `npm run openapi` and commit the result.\n')
      failed = true
    }
    if (failed) process.exit(1)
    process.stdout.write('openapi/openapi.json and openapi/client/schema.d.ts are up to date\n')
  } else {
    writeFileSync(target, generated)
    generateClient(target, clientTarget)
    process.stdout.write(`wrote ${target} and ${clientTarget}\n`)
  }
}
