/**
 * Command-line options of the bench scripts: `--help` (or `-h`) prints the usage and exits 0; an unknown option or a
 * missing value prints the problem and the usage on stderr and exits 2 (no stack trace: it is the caller's typo).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { PROVIDER_MODULES, PROVIDERS } from '../src/providers/registry.js'
import { isProviderId, type ProviderId } from '../src/schemas/provider.js'

type Options = NonNullable<ParseArgsConfig['options']>

export function parseCli<O extends Options> (script: string, usage: string, options: O): ReturnType<typeof parseArgs<{ options: O, strict: true }>>['values'] {
  const argv = process.argv.slice(2)
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`usage: npm run ${script} -- [options]\n${usage}\n`)
    process.exit(0)
  }
  try {
    return parseArgs({ args: argv, options, strict: true }).values
  } catch (err) {
    process.stderr.write(`${script}: ${(err as Error).message}\nusage: npm run ${script} -- [options]\n${usage}\n`)
    process.exit(2)
  }
}

/** A value the parser accepted but the script cannot use: the problem and the usage on stderr, exit 2. */
export function usageError (script: string, usage: string, message: string): never {
  process.stderr.write(`${script}: ${message}\nusage: npm run ${script} -- [options]\n${usage}\n`)
  process.exit(2)
}

/**
 * A comma-separated list of provider ids whose listing a baseline can replay (the module declares `direct` calls):
 * the ids, or a sentence saying which one is not.
 */
export function parseProviderList (value: string): ProviderId[] | string {
  const ids = value.split(',').map(s => s.trim()).filter(s => s !== '')
  if (ids.length === 0) return 'needs at least one provider id'
  for (const id of ids) {
    if (!isProviderId(id)) return `${id} is not a registered provider (${PROVIDERS.map(m => m.id).join(', ')})`
    if (PROVIDER_MODULES[id].direct === undefined) return `${id} declares no direct vendor calls, so no baseline can replay its listing`
  }
  if (new Set(ids).size !== ids.length) return 'names a provider twice'
  return ids as ProviderId[]
}
