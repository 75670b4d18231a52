/**
 * One configuration setting as data (ADR 0039): its variable, parser, default, bounds, secret flag, description and
 * owner. Parsing, the configuration report, the README table and the live env example all read these declarations,
 * so a default is written once, here, and nowhere else.
 */

/** What a parser is given besides the raw text. */
export interface ParseContext {
  readonly name: string
  readonly sandbox: boolean
  /** adds one line to the configuration report; the parser then returns undefined (the default is used) */
  problem: (message: string) => void
}

/** A default that is the same in every mode, or one per mode (sandbox mode serves the built-in simulators). */
export type Default<T> = { readonly value: T } | { readonly sandbox: T, readonly live: T }

export interface Setting<T = unknown> {
  /** the environment variable */
  readonly name: string
  /** the feature or provider module the setting belongs to (the README groups by it) */
  readonly owner: string
  readonly description: string
  /** raw text (trimmed, never empty) → value, or undefined after reporting a problem */
  readonly parse: (raw: string, ctx: ParseContext) => T | undefined
  /** absent: unset means `unset` (the value is undefined) */
  readonly default?: Default<T>
  /** what leaving the variable unset means when there is no default value */
  readonly unset?: string
  /** inclusive bounds of a number */
  readonly bounds?: { readonly min: number, readonly max: number }
  /** never echoed in the report (nor anywhere else) */
  readonly secret?: boolean
  /** a live deployment sets it: it is in docker/live.env.example */
  readonly deploy?: boolean
  /** how the default is written in the docs (numbers and strings print as they are) */
  show? (value: T): string
}

/** A declaration before it is given its variable name (the key it is declared under). */
export type Spec<T> = Omit<Setting<T>, 'name' | 'owner'>

/** A setting that always has a value (unset: its default). */
export interface WithDefault<T> { readonly default: Default<T> }

/** Gives every spec of `specs` its variable name (its key) and `owner`. */
export function declare<S extends Record<string, Spec<unknown>>> (owner: string, specs: S): { [K in keyof S]: S[K] & { name: K & string, owner: string } } {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { ...spec, name, owner }])) as never
}

/** The value of a setting when its variable is unset. */
export function defaultOf<T> (s: Setting<T>, sandbox: boolean): T | undefined {
  if (s.default === undefined) return undefined
  return 'value' in s.default ? s.default.value : sandbox ? s.default.sandbox : s.default.live
}

/** Reads one setting from `env`: the default when unset or blank, else the parsed value (a problem falls back to the default). */
export function readSetting<T> (s: Setting<T>, env: Readonly<Record<string, string | undefined>>, sandbox: boolean, problems: string[]): T | undefined {
  const raw = env[s.name]?.trim()
  if (raw === undefined || raw === '') return defaultOf(s, sandbox)
  const before = problems.length
  const value = s.parse(raw, { name: s.name, sandbox, problem: m => { problems.push(m) } })
  return problems.length > before || value === undefined ? defaultOf(s, sandbox) : value
}

// ---- parsers -------------------------------------------------------------------------------------------------------

/** An integer within bounds. */
export function int (spec: Omit<Spec<number>, 'parse' | 'bounds' | 'default'> & { default: number | { sandbox: number, live: number }, min: number, max: number }): Spec<number> & WithDefault<number> {
  const { min, max, default: def, ...rest } = spec
  return {
    ...rest,
    default: typeof def === 'number' ? { value: def } : def,
    bounds: { min, max },
    parse: (raw, ctx) => {
      const n = Number(raw)
      if (Number.isInteger(n) && n >= min && n <= max) return n
      ctx.problem(`${ctx.name} must be an integer from ${min} to ${max} (got "${raw}")`)
      return undefined
    }
  }
}

/** true/false (1/0). */
export function parseBool (raw: string, ctx: ParseContext): boolean | undefined {
  const v = raw.toLowerCase()
  if (['true', '1'].includes(v)) return true
  if (['false', '0'].includes(v)) return false
  ctx.problem(`${ctx.name} must be true or false (got "${raw}")`)
  return undefined
}

export function bool (spec: Omit<Spec<boolean>, 'parse' | 'default'> & { default: boolean | { sandbox: boolean, live: boolean } }): Spec<boolean> & WithDefault<boolean> {
  const { default: def, ...rest } = spec
  return { ...rest, default: typeof def === 'boolean' ? { value: def } : def, parse: parseBool }
}

/** Free text, optionally held to a pattern (the message says what it must be). A secret is never quoted back. */
type TextSpec = Omit<Spec<string>, 'parse' | 'default'> & { format?: { readonly pattern: RegExp, readonly message: string } }
export function text (spec: TextSpec & { default: string }): Spec<string> & WithDefault<string>
export function text (spec: TextSpec & { default?: string }): Spec<string>
export function text (spec: TextSpec & { default?: string }): Spec<string> {
  const { default: def, format, ...rest } = spec
  return {
    ...rest,
    ...(def === undefined ? {} : { default: { value: def } }),
    parse: (raw, ctx) => {
      if (format === undefined || format.pattern.test(raw)) return raw
      ctx.problem(`${ctx.name} ${format.message}${spec.secret === true ? '' : ` (got "${raw}")`}`)
      return undefined
    }
  }
}

/** One of a fixed list of words. */
export function oneOf<const W extends string> (words: readonly W[], spec: Omit<Spec<W>, 'parse' | 'default'> & { default: W }): Spec<W> & WithDefault<W> {
  const { default: def, ...rest } = spec
  return {
    ...rest,
    default: { value: def },
    parse: (raw, ctx) => {
      if ((words as readonly string[]).includes(raw)) return raw as W
      ctx.problem(`${ctx.name} must be one of ${words.join(', ')} (got "${raw}")`)
      return undefined
    }
  }
}

/** An http(s) URL. */
export function httpUrl (spec: Omit<Spec<string>, 'parse' | 'default'> & { default: string }): Spec<string> & WithDefault<string> {
  const { default: def, ...rest } = spec
  return {
    ...rest,
    default: { value: def },
    parse: (raw, ctx) => {
      try {
        if (['https:', 'http:'].includes(new URL(raw).protocol)) return raw
      } catch {}
      ctx.problem(`${ctx.name} must be an http(s) URL (got "${raw}")`)
      return undefined
    }
  }
}

/** A Redis URL (redis:// or rediss://). */
export function redisUrl (spec: Omit<Spec<string>, 'parse'>): Spec<string> {
  return {
    ...spec,
    parse: (raw, ctx) => {
      if (/^rediss?:\/\/./.test(raw)) return raw
      ctx.problem(`${ctx.name} must start with redis:// or rediss://`)
      return undefined
    }
  }
}

// ---- how a setting is written in the docs -----------------------------------------------------------------------

const SPANS: Array<[number, string]> = [[86_400_000, 'day'], [3_600_000, 'h'], [60_000, 'min']]

/** 3600000 → "3600000 = 1 h" for a duration in ms; 67108864 → "67108864 = 64 MB" for bytes. */
function showNumber (name: string, n: number): string {
  if (name.endsWith('_MS') && n >= 60_000) {
    for (const [ms, unit] of SPANS) {
      if (n % ms === 0) return `${n} = ${n / ms} ${unit}${unit === 'day' && n / ms !== 1 ? 's' : ''}`
    }
  }
  if (name.endsWith('_BYTES') && n >= 1_048_576 && n % 1_048_576 === 0) return `${n} = ${n / 1_048_576} MB`
  return String(n)
}

function showValue<T> (s: Setting<T>, v: T): string {
  if (s.show !== undefined) return s.show(v)
  return typeof v === 'number' ? showNumber(s.name, v) : String(v)
}

/** The default as the docs write it: the value, one per mode, or what unset means. */
export function showDefault (s: Setting): string {
  if (s.default === undefined) return s.unset ?? 'unset'
  if ('value' in s.default) return showValue(s, s.default.value)
  return `${showValue(s, s.default.sandbox)} in sandbox mode, ${showValue(s, s.default.live)} otherwise`
}

/** The meaning as the docs write it: the description, and the bounds of a number. */
export function showMeaning (s: Setting): string {
  return s.bounds === undefined ? s.description : `${s.description} (${s.bounds.min} to ${s.bounds.max})`
}
