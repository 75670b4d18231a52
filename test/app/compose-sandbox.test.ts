/**
 * The compose recipes, read as files (no Docker engine here): the two-replica file is live only, the sandbox in
 * containers is one replica, the live env example names every provider's credential, and nginx passes the client's
 * X-Request-Id through, making one only when the client sent none.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ENV_VARS } from '../../src/config.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS } from '../../src/schemas/provider.js'

const read = (path: string): string => readFileSync(path, 'utf8')

/** top-level services of a compose file and the `KEY: value` lines of each one's environment block */
function services (yaml: string): Map<string, { text: string, env: Map<string, string> }> {
  const body = yaml.split(/^services:\n/m)[1]?.split(/^\S/m)[0] ?? ''
  const out = new Map<string, { text: string, env: Map<string, string> }>()
  for (const block of body.split(/^(?= {2}[\w-]+:)/m)) {
    const name = /^ {2}([\w-]+):/.exec(block)?.[1]
    if (name === undefined) continue
    const envBlock = /^ {4}environment:\n((?: {6}.+\n)+)/m.exec(block)?.[1] ?? ''
    out.set(name, { text: block, env: new Map([...envBlock.matchAll(/^ {6}([A-Z0-9_]+): (.+)$/gm)].map(m => [m[1]!, m[2]!.replace(/^"|"$/g, '')])) })
  }
  return out
}

describe('docker-compose.yml (two replicas)', () => {
  it('is live only: the shared gateway block sets SANDBOX=false', () => {
    const compose = read('docker-compose.yml')
    const anchor = /^x-gateway: &gateway\n((?: {2}.+\n)+)/m.exec(compose)?.[1] ?? ''
    expect(anchor).toMatch(/^ {4}SANDBOX: "false"$/m)
    expect(compose).toMatch(/^ {2}gateway-1: \*gateway$/m)
    expect(compose).toMatch(/^ {2}gateway-2: \*gateway$/m)
  })
})

describe('docker-compose.sandbox.yml', () => {
  const sandbox = services(read('docker-compose.sandbox.yml'))
  const gateways = [...sandbox].filter(([, s]) => /^ {4}(build|image): .*(\.|takedown-gateway)/m.test(s.text))

  it('runs one gateway replica in sandbox mode on Redis, reachable from this machine only', () => {
    expect(gateways).toHaveLength(1)
    const [, gw] = gateways[0]!
    expect(gw.env.get('SANDBOX')).toBe('true')
    expect(gw.env.get('REDIS_URL')).toBe('redis://redis:6379')
    expect(gw.text).not.toMatch(/env_file/)
    expect(gw.text).not.toMatch(/replicas|scale/)
    const ports = /^ {4}ports: \[(.+)\]$/m.exec(gw.text)?.[1] ?? ''
    expect(ports).toMatch(/^"127\.0\.0\.1:\d+:3000"$/)
    expect(sandbox.has('redis')).toBe(true)
  })

  it('sets only variables the gateway reads', () => {
    for (const [, s] of sandbox) expect([...s.env.keys()].filter(k => !(k in ENV_VARS))).toEqual([])
  })
})

describe('docker/live.env.example', () => {
  const names = read('docker/live.env.example').split('\n').map(l => l.trim())
    .filter(l => l !== '' && !l.startsWith('#')).map(l => l.split('=')[0]!)

  it('names every registered provider\'s credential and required options, and sets live mode', () => {
    for (const id of PROVIDER_IDS) {
      const m = PROVIDER_MODULES[id]
      expect(names, id).toContain(m.credential.env)
      for (const o of m.options ?? []) if (o.required === true) expect(names, `${id} ${o.env}`).toContain(o.env)
    }
    expect(read('docker/live.env.example')).toMatch(/^SANDBOX=false$/m)
  })
})

describe('nginx in front of the replicas', () => {
  const conf = read('docker/nginx.conf')

  /** what the gateway receives as X-Request-Id, by the config's own rules, for a client header (or none) */
  function forwarded (client: string | undefined): string[] {
    const sets = [...conf.matchAll(/proxy_set_header X-Request-Id (\$\w+);/g)].map(m => m[1]!)
    expect(sets.length).toBeGreaterThan(0)
    return sets.map(variable => {
      if (variable === '$http_x_request_id') return client ?? ''
      if (variable === '$request_id') return 'nginx-generated'
      const map = new RegExp(`map \\$http_x_request_id \\${variable} \\{([^}]*)\\}`).exec(conf)?.[1]
      expect(map, `${variable} is a map of the client's header`).toBeDefined()
      const entries = new Map([...map!.matchAll(/^\s*(default|"[^"]*")\s+(\$\w+);/gm)].map(m => [m[1]!, m[2]!]))
      const source = client === undefined || client === '' ? entries.get('""') ?? entries.get('default') : entries.get('default')
      return source === '$http_x_request_id' ? client ?? '' : source === '$request_id' ? 'nginx-generated' : `unknown ${String(source)}`
    })
  }

  it('passes the client\'s X-Request-Id through on every location and makes one only when it is absent', () => {
    for (const id of forwarded('client-trace-42')) expect(id).toBe('client-trace-42')
    for (const id of forwarded(undefined)) expect(id).toBe('nginx-generated')
  })
})
