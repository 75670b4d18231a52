/**
 * Command-line options of the bench scripts: `--help` (or `-h`) prints the usage and exits 0; an unknown option or a
 * missing value prints the problem and the usage on stderr and exits 2 (no stack trace: it is the caller's typo).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

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
