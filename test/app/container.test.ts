/**
 * Container files, checked without a Docker engine: the runtime image runs as non-root on a supported Node
 * line, its HEALTHCHECK needs no shell tools, and the compose file only sets variables the gateway reads.
 */
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ENV_VARS } from '../../src/config.js'

const dockerfile = readFileSync('Dockerfile', 'utf8')
/** instructions with their continuation lines joined, comments dropped */
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
const stages = instructions.reduce<string[][]>((acc, line) => {
  if (/^FROM\s/i.test(line)) acc.push([])
  acc.at(-1)?.push(line)
  return acc
}, [])
const runtime = stages.at(-1) ?? []

/**
 * End of upstream support per Node.js LTS line (nodejs.org/en/about/previous-releases), as of the date the table was
 * last reviewed. The image must be on a line still supported on that date: the test's verdict depends on this data,
 * not on the day it runs (update both together when a line reaches its end).
 */
const NODE_END_OF_LIFE: Record<number, string> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30' }
const NODE_TABLE_REVIEWED = '2026-11-30'

describe('Dockerfile', () => {
  it('builds in one stage and runs the compiled gateway in another, as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const users = runtime.filter(l => /^USER\s/i.test(l)).map(l => l.split(/\s+/)[1])
    expect(users.length).toBeGreaterThan(0)
    expect(['root', '0', '0:0']).not.toContain(users.at(-1))
    const entry = runtime.find(l => /^(ENTRYPOINT|CMD)\s+\[/i.test(l))
    expect(entry).toMatch(/"node".*"dist\/server\.js"/) // exec form: node is PID 1 and gets SIGTERM
    for (const copied of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
      for (const path of copied[1]!.split(/\s+/)) expect(existsSync(path), `${path} exists`).toBe(true)
    }
  })

  it('has a HEALTHCHECK in exec form that asks /healthz with node alone (no shell, curl or wget)', () => {
    const hc = runtime.find(l => /^HEALTHCHECK\s/i.test(l))
    expect(hc).toBeDefined()
    const cmd = /CMD\s+(\[.*\])\s*$/.exec(hc!)
    expect(cmd, 'exec form CMD ["..."]').not.toBeNull()
    const argv = JSON.parse(cmd![1]!) as string[]
    expect(argv[0]).toBe('node')
    expect(argv.join(' ')).toContain('/healthz')
    expect(argv.join(' ')).not.toMatch(/\b(sh|bash|curl|wget)\b/)
  })

  it('uses a base image on a Node line that is still supported and at least 20.19', () => {
    const arg = /^ARG NODE_VERSION=(\S+)/m.exec(dockerfile)?.[1]
    const froms = stages.map(s => s[0]!.split(/\s+/)[1]!)
    for (const from of froms) {
      const image = from.replace('$' + '{NODE_VERSION}', arg ?? '')
      const m = /^node:(\d+)(?:\.(\d+))?/.exec(image)
      expect(m, `${image} is an official node image with a version tag`).not.toBeNull()
      const [major, minor] = [Number(m![1]), m![2] === undefined ? Infinity : Number(m![2])]
      expect(major > 20 || (major === 20 && minor >= 19), `${image} >= 20.19`).toBe(true)
      const eol = NODE_END_OF_LIFE[major]
      expect(eol, `Node ${major} is an LTS line`).toBeDefined()
      expect(Date.parse(eol!), `Node ${major} is supported until ${eol!}, after ${NODE_TABLE_REVIEWED}`).toBeGreaterThan(Date.parse(NODE_TABLE_REVIEWED))
    }
  })
})

describe('docker-compose.yml', () => {
  const compose = readFileSync('docker-compose.yml', 'utf8')

  it('runs two gateway replicas on one Redis behind the load balancer, read-only', () => {
    expect(compose).toMatch(/^ {2}gateway-1: \*gateway$/m)
    expect(compose).toMatch(/^ {2}gateway-2: \*gateway$/m)
    expect(compose).toMatch(/REDIS_URL: redis:\/\/redis:6379/)
    expect(compose).toMatch(/read_only: true/)
    const nginx = readFileSync('docker/nginx.conf', 'utf8')
    expect(nginx).toMatch(/server gateway-1:3000/)
    expect(nginx).toMatch(/server gateway-2:3000/)
    expect(nginx).toMatch(/proxy_next_upstream error timeout http_503/) // a stopping replica's refusals go to the other
  })

  it('gives a stopping replica time to drain before it is killed', () => {
    const grace = /stop_grace_period:\s*(\d+)s/.exec(compose)
    expect(grace).not.toBeNull()
    expect(Number(grace![1])).toBeGreaterThan(10) // server.ts drains for up to SHUTDOWN_DELAY_MS + 10 s
  })

  it('sets no variable the gateway does not read', () => {
    const block = /environment:\n((?: {4}.+\n)+)/.exec(compose)?.[1] ?? ''
    const names = [...block.matchAll(/^ {4}([A-Z0-9_]+):/gm)].map(m => m[1]!)
    expect(names.length).toBeGreaterThan(0)
    expect(names.filter(n => !(n in ENV_VARS))).toEqual([])
  })
})
