/**
 * Files derived from the registry and the configuration table, for what cannot import them: the id vocabulary, the
 * README configuration table, the live env example and the package description (`npm run derive` writes them).
 */
import { liveEnvExample, readmeTable } from './table.js'
import { PROVIDERS } from '../providers/registry.js'

/** "A, B, C and D": every registered provider's name */
export const PROVIDER_NAMES = PROVIDERS.map(m => m.name).join(', ').replace(/, ([^,]*)$/, ' and $1')

/** The gateway in one sentence: package.json's description and the start of the OpenAPI description. */
export const GATEWAY_SUMMARY = `One canonical case API in front of the takedown and abuse-report APIs of ${PROVIDER_NAMES}`

/** src/schemas/provider-ids.ts: the registry's ids as vocabulary (schemas/ and domain/ import nothing of the app). */
export function providerIdsSource (): string {
  return [
    '// Generated from src/providers/registry.ts by `npm run derive`: do not edit (test/app/derived.test.ts checks it).',
    '/** Provider ids, in listing order: the registry\'s, as vocabulary that imports nothing of the app (ADR 0036). */',
    `export const PROVIDER_IDS = [${PROVIDERS.map(m => `'${m.id}'`).join(', ')}] as const`,
    ''
  ].join('\n')
}

/** The OpenAPI security scheme of each provider's signed change webhooks (`POST /v1/inbound/<id>`; plugins/swagger.ts). */
export const INBOUND_SECURITY_SCHEMES = Object.fromEntries(PROVIDERS.flatMap(m => m.inbound === undefined
  ? []
  : [[`${m.id}Signature`,
      { type: 'apiKey', in: 'header', name: m.inbound.headers.signature, description: m.inbound.docs.signature }]]))

const README_TABLE = /^\| variable \| (?:default \| )?meaning \|\n(?:\|.*\|\n)+/m

/** Every derived file: its path, what it holds now (`read`) and what the registry and the configuration table make of it. */
export function derivedFiles (read: (file: string) => string): Array<{ file: string, current: string, wanted: string }> {
  const readme = read('README.md')
  if (!README_TABLE.test(readme)) throw new Error('README.md has no configuration table (a "| variable | default | meaning |" header)')
  const pkg = read('package.json')
  const wanted: Array<[string, string]> = [
    ['src/schemas/provider-ids.ts', providerIdsSource()],
    ['README.md', readme.replace(README_TABLE, readmeTable() + '\n')],
    ['docker/live.env.example', liveEnvExample()],
    ['package.json', pkg.replace(/^ {2}"description": ".*",$/m, `  "description": ${JSON.stringify(GATEWAY_SUMMARY)},`)]
  ]
  return wanted.map(([file, text]) => ({ file, current: read(file), wanted: text }))
}
