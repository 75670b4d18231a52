/**
 * Configuration is validated at start (README 'Configuration'): every problem in one message, live mode refuses to run
 * without its secrets, and every variable the docs and container files name is one the gateway reads.
 */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_ROUTING, ENV_VARS, loadConfig, parseHostPorts, parseRedis } from '../../src/config.js'
import type { ProviderModule } from '../../src/connectors/provider-module.js'
import { PROVIDERS as REGISTERED } from '../../src/providers/registry.js'
import { LIMITS } from '../../src/settings/gateway.js'
import { showDefault } from '../../src/settings/setting.js'
import { liveEnvExample, readmeTable, SETTINGS } from '../../src/settings/table.js'

const PROVIDERS: readonly ProviderModule[] = REGISTERED
import { killAll, spawnGateway } from '../support/gateway-process.js'

afterAll(async () => { await killAll() })

const LIVE = {
  SANDBOX: 'false',
  PHISHFORT_API_KEY: 'pf-key-0123456789',
  GATEWAY_API_KEYS: 'ops:ops-secret-key-0123456789:read+write',
  GATEWAY_SECRET: 'a-secret-of-at-least-16-chars',
  WEBHOOK_ENCRYPTION_KEY: 'a'.repeat(64)
}

function problems (env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    const ce = err as ConfigError
    for (const p of ce.problems) expect(ce.message).toContain(p) // every problem is in the one message
    return ce.problems
  }
  return []
}

describe('loadConfig', () => {
  it('starts in sandbox mode with no environment at all', () => {
    const c = loadConfig({})
    expect(c.sandbox).toBe(true)
    expect(c.sandboxKey).toBe(true)
    expect(c.host).toBe('127.0.0.1')
    expect(c.redis).toBeNull()
  })

  it('accepts a complete live configuration', () => {
    const c = loadConfig({ ...LIVE, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: 'gw1:', SHUTDOWN_DELAY_MS: '5000' })
    expect(c.sandbox).toBe(false)
    expect(c.host).toBe('0.0.0.0')
    expect(c.redis).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6379' })
    expect(c.redisKeyPrefix).toBe('gw1:')
    expect(c.shutdownDelayMs).toBe(5000)
    expect(c.providers.phishfort.credential).toBe(LIVE.PHISHFORT_API_KEY)
  })

  it('lists every bad or missing variable in one message', () => {
    const found = problems({
      SANDBOX: 'false',
      BFOREAI_API_KEY: 'bf-key-0123456789',
      CLOUDFLARE_API_TOKEN: 'cf-token-0123456789',
      PORT: 'eighty',
      PHISHFORT_TIMEOUT_MS: '5',
      BFOREAI_BASE_URL: 'ftp://example.com',
      CLOUDFLARE_BASE_URL: 'not a url',
      REDIS_URL: 'http://127.0.0.1:6379',
      LOG_LEVEL: 'loud',
      ROUTING_RULES: '{"url":["nosuch"]}',
      RATE_LIMIT_MAX: '-1',
      SHUTDOWN_DELAY_MS: '1.5'
    })
    const expected = [
      /^PORT must be an integer/,
      /^PHISHFORT_TIMEOUT_MS must be an integer from 100/,
      /^BFOREAI_BASE_URL must be an http\(s\) URL/,
      /^CLOUDFLARE_BASE_URL must be an http\(s\) URL/,
      /^CLOUDFLARE_ACCOUNT_ID is required/,
      /^REDIS_URL must start with redis:\/\//,
      /^LOG_LEVEL must be one of/,
      /^ROUTING_RULES\.url must be a non-empty list/,
      /^RATE_LIMIT_MAX must be an integer/,
      /^SHUTDOWN_DELAY_MS must be an integer/,
      /^GATEWAY_API_KEYS is required outside sandbox mode/,
      /^GATEWAY_SECRET is required outside sandbox mode/
    ]
    for (const re of expected) expect(found.filter(p => re.test(p)), String(re)).toHaveLength(1)
    expect(found).toHaveLength(expected.length)
  })

  it('refuses live mode without GATEWAY_API_KEYS or GATEWAY_SECRET, and says why', () => {
    const { GATEWAY_API_KEYS: _k, ...noKeys } = LIVE
    expect(problems(noKeys)).toEqual(['GATEWAY_API_KEYS is required outside sandbox mode (comma-separated name:secret[:scope+scope])'])
    const { GATEWAY_SECRET: _s, ...noSecret } = LIVE
    expect(problems(noSecret)).toEqual(['GATEWAY_SECRET is required outside sandbox mode (the same value on every replica)'])
    // credentials switch sandbox off by default: the same refusal without SANDBOX=false
    const { SANDBOX: _x, GATEWAY_API_KEYS: _y, ...implicit } = LIVE
    expect(problems(implicit)[0]).toMatch(/^GATEWAY_API_KEYS is required/)
  })

  it('refuses bad enums, keys and numbers', () => {
    expect(problems({ SANDBOX: 'maybe' })).toEqual(['SANDBOX must be true or false (got "maybe")'])
    expect(problems({ SANDBOX: 'true', GATEWAY_API_KEYS: 'a:short,b:long-enough-secret:read+root,b:other-long-secret' })).toEqual([
      'GATEWAY_API_KEYS entry "a": the secret must be at least 8 characters',
      'GATEWAY_API_KEYS entry "b": unknown scope root (allowed: read, write, admin)',
      'GATEWAY_API_KEYS: the name "b" appears twice'
    ])
    expect(problems({ ...LIVE, GATEWAY_SECRET: 'short' })).toEqual(['GATEWAY_SECRET must be at least 16 characters'])
    expect(problems({ ...LIVE, CLOUDFLARE_API_TOKEN: 'cf-token-0123456789', CLOUDFLARE_ACCOUNT_ID: 'xyz' })).toEqual(['CLOUDFLARE_ACCOUNT_ID must be 32 hexadecimal characters (got "xyz")'])
    expect(problems({ ...LIVE, CLOUDFLARE_OUTBOUND_WINDOW_MS: '10', MAX_EVENT_LOOP_DELAY_MS: '1e9' })).toHaveLength(2)
    expect(problems({ ...LIVE, ROUTING_RULES: '{not json' })[0]).toMatch(/^ROUTING_RULES is not valid JSON/)
  })

  it('ROUTING_RULES takes a provider list or {providers, also} per target type, and names a bad rule', () => {
    const both = loadConfig({ ...LIVE, ROUTING_RULES: '{"url":{"providers":["phishfort"],"also":["webrisk"]},"domain":["bforeai","phishfort"]}' })
    expect(both.routing.url).toEqual(['phishfort'])
    expect(both.routing.domain).toEqual(['bforeai', 'phishfort'])
    expect(both.companions?.url).toEqual(['webrisk'])
    expect(both.companions?.domain).toEqual([])
    expect(loadConfig(LIVE).companions?.url).toEqual([])
    expect(problems({ ...LIVE, ROUTING_RULES: '{"url":{"providers":[],"also":["webrisk"]}}' })).toEqual([expect.stringMatching(/^ROUTING_RULES\.url\.providers must be a non-empty list/)])
    expect(problems({ ...LIVE, ROUTING_RULES: '{"url":{"providers":["phishfort"],"also":["nosuch"]}}' })).toEqual([expect.stringMatching(/^ROUTING_RULES\.url\.also must be a list/)])
    expect(problems({ ...LIVE, ROUTING_RULES: '{"url":{"providers":["phishfort"],"alsoo":["webrisk"]}}' })).toEqual([expect.stringMatching(/^ROUTING_RULES\.url: unknown field\(s\) alsoo/)])
    expect(problems({ ...LIVE, ROUTING_RULES: '{"url":"phishfort"}' })).toEqual([expect.stringMatching(/^ROUTING_RULES\.url must be a provider list or/)])
  })

  it('ROUTING_RULES takes a strategy per target type: order by default, measured by name; sandbox mode measures url targets', () => {
    const rules = loadConfig({ ...LIVE, ROUTING_RULES: '{"url":{"strategy":"measured","providers":["phishfort","bforeai"],"also":["webrisk"]},"domain":["bforeai"]}' })
    expect(rules.routing.url).toEqual(['phishfort', 'bforeai'])
    expect(rules.companions?.url).toEqual(['webrisk'])
    expect(rules.measuredRouting).toMatchObject({ strategy: { url: 'measured', domain: 'order', social: 'order' }, windowDays: 30, minSample: 20, explorePercent: 10 })
    expect(loadConfig(LIVE).measuredRouting.strategy.url).toBe('order')
    const sandbox = loadConfig({ SANDBOX: 'true', LOG_LEVEL: 'silent' })
    expect(sandbox.measuredRouting.strategy).toMatchObject({ url: 'measured', domain: 'order' })
    expect(sandbox.routing.url).toEqual(DEFAULT_ROUTING.url)
    // a sandbox ROUTING_RULES naming url replaces the measured default; the types it does not name keep it
    expect(loadConfig({ SANDBOX: 'true', LOG_LEVEL: 'silent', ROUTING_RULES: '{"url":["bforeai"]}' }).measuredRouting.strategy.url).toBe('order')
    expect(loadConfig({ SANDBOX: 'true', LOG_LEVEL: 'silent', ROUTING_RULES: '{"domain":["bforeai"]}' }).measuredRouting.strategy.url).toBe('measured')
    expect(problems({ ...LIVE, ROUTING_RULES: '{"url":{"strategy":"fastest","providers":["phishfort"]}}' })).toEqual(['ROUTING_RULES.url.strategy must be one of order, measured (got "fastest")'])
    expect(problems({ ...LIVE, ROUTING_RULES: '{"url":{"strategy":1,"providers":["phishfort"]}}' })).toEqual(['ROUTING_RULES.url.strategy must be one of order, measured (got 1)'])
    expect(problems({ ...LIVE, ROUTING_RULES: '{"url":{"stratgy":"measured","providers":["phishfort"]}}' })).toEqual(['ROUTING_RULES.url: unknown field(s) stratgy (allowed: strategy, providers, also)'])
    expect(problems({ ...LIVE, ROUTING_EXPLORE_PERCENT: '60' })).toEqual(['ROUTING_EXPLORE_PERCENT must be an integer from 0 to 50 (got "60")'])
  })

  it('outside sandbox mode refuses a gateway key under 22 characters (128 bits as base64url), naming it by its name only', () => {
    const short = 'Kq7ZpL2mN8rT5wYbEc3vX' // 21 characters
    const found = problems({ ...LIVE, GATEWAY_API_KEYS: `ops:${short}:read+write,ci:${short}A:read` })
    expect(found).toEqual([expect.stringMatching(/^GATEWAY_API_KEYS entry "ops": the secret has 21 characters; outside sandbox mode it must have at least 22 \(128 bits/)])
    expect(found.join('\n')).not.toContain(short)
    // sandbox mode keeps the 8-character floor: the test and demo keys stay short
    expect(problems({ SANDBOX: 'true', GATEWAY_API_KEYS: `ops:${short.slice(0, 8)}` })).toEqual([])
    expect(loadConfig({ ...LIVE, GATEWAY_API_KEYS: `ops:${short}A` }).apiKeys.map(k => k.name)).toEqual(['ops'])
  })

  it('TRUST_PROXY: a hop count, or proxy addresses, CIDRs and range names; trusting everyone is refused', () => {
    expect(loadConfig({ ...LIVE }).trustProxy).toBe(false)
    expect(loadConfig({ ...LIVE, TRUST_PROXY: '0' }).trustProxy).toBe(false)
    expect(loadConfig({ ...LIVE, TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(loadConfig({ ...LIVE, TRUST_PROXY: '10.0.0.2, 172.16.0.0/12,fd00::/8,uniquelocal' }).trustProxy).toEqual(['10.0.0.2', '172.16.0.0/12', 'fd00::/8', 'uniquelocal'])
    expect(problems({ ...LIVE, TRUST_PROXY: 'true' })).toEqual([expect.stringMatching(/^TRUST_PROXY must be a hop count .*trusting every sender would let any client choose/)])
    expect(problems({ ...LIVE, TRUST_PROXY: '10.0.0.0/33,nginx' })).toEqual([expect.stringMatching(/not one: 10\.0\.0\.0\/33, nginx$/)])
    expect(problems({ ...LIVE, TRUST_PROXY: '11' })).toEqual(['TRUST_PROXY as a hop count must be from 0 to 10 (got "11")'])
  })

  it('every example gateway key in the README, docs and the live env example is accepted in live mode', () => {
    const texts = ['README.md', 'docs/operations.md', 'docker/live.env.example'].map(f => readFileSync(f, 'utf8')).join('\n')
    const examples = [...texts.matchAll(/GATEWAY_API_KEYS=([^\s`'"]+)/g)].map(m => m[1]!)
    expect(examples.length).toBeGreaterThan(0)
    for (const keys of examples) expect(problems({ ...LIVE, GATEWAY_API_KEYS: keys }), keys).toEqual([])
  })

  it('never echoes a secret in a problem', () => {
    const secret = 'tiny' // too short, and must not be quoted back
    const found = problems({ ...LIVE, GATEWAY_API_KEYS: `ops:${secret}`, GATEWAY_SECRET: 'Short-Secret-X' })
    expect(found).toHaveLength(2)
    expect(found.join('\n')).not.toContain(':tiny')
    expect(found.join('\n')).not.toContain('Short-Secret-X')
  })
})

describe('Redis: URL, Sentinel or Cluster', () => {
  it('parses sentinels and cluster nodes, IPv6 in brackets', () => {
    const p: string[] = []
    expect(parseHostPorts('REDIS_SENTINELS', 'sentinel-1:26379, sentinel-2:26379,[::1]:26380', p)).toEqual([
      { host: 'sentinel-1', port: 26379 }, { host: 'sentinel-2', port: 26379 }, { host: '::1', port: 26380 }
    ])
    expect(p).toEqual([])
    expect(loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_NAME: 'mymaster' }).redis)
      .toEqual({ kind: 'sentinel', name: 'mymaster', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }] })
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-a:7000,redis-b:7001' }).redis)
      .toEqual({ kind: 'cluster', nodes: [{ host: 'redis-a', port: 7000 }, { host: 'redis-b', port: 7001 }] })
  })

  it('refuses bad entries, a sentinel group without a name, and more than one way at once', () => {
    expect(problems({ REDIS_SENTINELS: 'host-only,h:99999' })).toEqual([
      'REDIS_SENTINELS: "host-only" is not host:port',
      'REDIS_SENTINELS: "h:99999" is not host:port',
      'REDIS_SENTINEL_NAME is required with REDIS_SENTINELS (the name of the master, e.g. mymaster)'
    ])
    expect(problems({ REDIS_SENTINEL_NAME: 'mymaster' })).toEqual(['REDIS_SENTINEL_NAME needs REDIS_SENTINELS'])
    expect(problems({ REDIS_CLUSTER_NODES: ' , ' })).toEqual(['REDIS_CLUSTER_NODES has no host:port entries'])
    expect(problems({ REDIS_URL: 'redis://x:6379', REDIS_CLUSTER_NODES: 'a:7000' })[0]).toMatch(/^set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES/)
    expect(problems({ REDIS_KEY_PREFIX: 'has space' })[0]).toMatch(/^REDIS_KEY_PREFIX must be/)
    const p: string[] = []
    expect(parseRedis(null, undefined, undefined, undefined, p)).toBeNull()
    expect(p).toEqual([])
  })
})

describe('every variable the docs and container files name is one the gateway reads', () => {
  const known = new Set(Object.keys(ENV_VARS))

  it('docker-compose.yml environment and docker/live.env.example', () => {
    const compose = readFileSync('docker-compose.yml', 'utf8')
    const names = composeEnvironment(compose)
    expect(names).toEqual(expect.arrayContaining(['REDIS_URL', 'HOST', 'PORT', 'LOG_LEVEL']))
    expect(names.filter(n => !known.has(n))).toEqual([])
    const example = readFileSync('docker/live.env.example', 'utf8').split('\n')
      .map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#')).map(l => l.replace(/^#\s*/, '').split('=')[0]!)
    expect(example).toEqual(expect.arrayContaining(['GATEWAY_API_KEYS', 'GATEWAY_SECRET', 'CLOUDFLARE_API_TOKEN']))
    expect(example.filter(n => !known.has(n))).toEqual([])
  })

  it('the README configuration table is the configuration table, row for row (npm run derive writes it)', () => {
    const readme = readFileSync('README.md', 'utf8')
    const start = readme.search(/^#+ .*Configuration/m)
    expect(start, 'README has a Configuration heading').toBeGreaterThanOrEqual(0)
    const section = readme.slice(start).split(/\n#{1,2} /)[0]!
    const rows = section.split('\n').filter(l => l.startsWith('| `'))
    const wanted = readmeTable().split('\n').filter(l => l.startsWith('| `'))
    // both ways: no row the table lacks, none of its rows missing, every default and meaning as the table has it
    expect(rows.filter(r => !wanted.includes(r)), 'README rows the table does not have').toEqual([])
    expect(wanted.filter(r => !rows.includes(r)), 'table rows missing from the README').toEqual([])
    expect([...section.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map(m => m[1]).sort()).toEqual(Object.keys(ENV_VARS).sort())
  })

  it('docker/live.env.example is rendered from the table and holds every provider\'s credential', () => {
    expect(readFileSync('docker/live.env.example', 'utf8')).toBe(liveEnvExample())
    const names = readFileSync('docker/live.env.example', 'utf8').split('\n').filter(l => /^[A-Z]/.test(l)).map(l => l.split('=')[0]!)
    for (const m of PROVIDERS) {
      expect(names).toContain(m.credential.env)
      for (const o of (m.options ?? []).filter(o => o.required === true)) expect(names).toContain(o.env)
    }
    expect(names).toEqual(expect.arrayContaining(['SANDBOX', 'GATEWAY_API_KEYS', 'GATEWAY_SECRET', 'WEBHOOK_ENCRYPTION_KEY']))
  })

  it('docs/operations.md names only settings of the table, and its limits table gives every limit with the table\'s default', () => {
    const doc = readFileSync('docs/operations.md', 'utf8')
    const known = new Set(SETTINGS.map(s => s.name))
    const template = (name: string): boolean => PROVIDERS.some(m => known.has(name.replace('<PROVIDER>', m.id.toUpperCase())))
    const named = [...new Set([...doc.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9<>]+)+)`/g)].map(m => m[1]!))]
      .filter(n => /_(MS|DAYS|URL|KEY|KEYS|SECRET|SECRETS|MAX|FILE|PREFIX|ENABLED|SPEED|BATCH|PERCENT|SHARE|ITEMS|ATTEMPTS|CONCURRENCY|BYTES|DEPTH|THRESHOLD|SCHEDULE|JITTER|PROXY|LEVEL)$/.test(n))
    expect(named.length).toBeGreaterThan(20)
    expect(named.filter(n => !known.has(n) && !template(n))).toEqual([])
    const limits = doc.split(/^## Request limits and abuse controls$/m)[1]!.split(/^## /m)[0]!
    for (const s of Object.values(LIMITS)) {
      const cell = new RegExp(`\`${s.name}\` \\(([^)]+)\\)`).exec(limits)
      expect(cell, `${s.name} is in the limits table`).not.toBeNull()
      const shown = showDefault(s)
      // the doc writes the value, or one side of it ("60000" or "1 min" for "60000 = 1 min")
      expect([shown, ...shown.split(' = ')], s.name).toContain(cell![1])
    }
  })
})

describe('the configuration report', () => {
  const BAD = ['x', '-1', '1e99', '%%', ' 2.5 ']
  it('names the variable in every problem a bad value of it causes; only credentials and free-text vendor options take any text', () => {
    const base = problems(LIVE)
    expect(base).toEqual([])
    const takesAnything: string[] = []
    for (const s of SETTINGS) {
      const found = BAD.flatMap(value => problems({ ...LIVE, [s.name]: value }))
      expect(found.filter(p => !p.includes(s.name)), s.name).toEqual([])
      if (found.length === 0) takesAnything.push(s.name)
    }
    const freeText = PROVIDERS.flatMap(m => [m.credential.env, ...(m.options ?? []).filter(o => o.format === undefined).map(o => o.env)])
    expect(takesAnything.filter(n => !freeText.includes(n))).toEqual([])
    expect(takesAnything.length).toBeGreaterThan(0)
  })

  it('a bad value of a secret setting is reported without the value', () => {
    for (const s of SETTINGS.filter(s => s.secret === true)) {
      const value = 'Qz7-not-a-valid,value:%%'
      for (const p of problems({ ...LIVE, [s.name]: value })) expect(p, s.name).not.toContain('Qz7')
    }
  })

  it('every default is written once: each setting has a default or says what unset means', () => {
    for (const s of SETTINGS) expect(s.default !== undefined || s.unset !== undefined, s.name).toBe(true)
    expect(new Set(SETTINGS.map(s => s.name)).size).toBe(SETTINGS.length)
  })
})

/** Keys of every `environment:` mapping in a compose file (the block-mapping form this repo uses). */
function composeEnvironment (yaml: string): string[] {
  const names: string[] = []
  const lines = yaml.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)environment:\s*$/.exec(lines[i]!)
    if (m === null) continue
    const indent = m[1]!.length
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!
      if (line.trim() === '' || line.trim().startsWith('#')) continue
      const lead = line.length - line.trimStart().length
      if (lead <= indent) break
      const key = /^\s*-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]/.exec(line)
      if (key !== null) names.push(key[1]!)
    }
  }
  return names
}

describe('the process refuses a bad configuration', () => {
  it('exits 78 and prints every problem, before listening', async () => {
    const gw = spawnGateway({ SANDBOX: 'false', PHISHFORT_API_KEY: 'pf-key-0123456789', PORT: 'x', LOG_LEVEL: 'chatty', REDIS_URL: 'http://nope' })
    const code = await gw.exited
    const stderr = gw.stderr.join('')
    expect(code).toBe(78)
    for (const p of ['PORT must be an integer', 'LOG_LEVEL must be one of', 'REDIS_URL must start with', 'GATEWAY_API_KEYS is required', 'GATEWAY_SECRET is required']) {
      expect(stderr).toContain(p)
    }
    expect(stderr).toMatch(/^takedown-gateway: Invalid configuration:\n {2}- /)
    expect(stderr).not.toContain('pf-key-0123456789')
    expect(gw.stdout.join('\n')).not.toMatch(/listening/)
  }, 20_000)
})
