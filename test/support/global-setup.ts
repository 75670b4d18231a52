/**
 * Finds the Redis the test suite runs against (README 'Tests'), in this order:
 * 1. REDIS_URL, when set;
 * 2. a Docker engine: a throw-away `redis:7-alpine` through testcontainers;
 * 3. a `redis-server` binary on PATH, started on a free loopback port with no persistence;
 * otherwise the run stops with a message saying how to get one.
 * The URL reaches tests through `inject('redisUrl')`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import type { TestProject } from 'vitest/node'
import type {} from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
    redisSource: string
  }
}

async function ping (url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1500, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

function dockerEngineAvailable (): boolean {
  if (process.env.DOCKER_HOST !== undefined && process.env.DOCKER_HOST !== '') return true
  return existsSync('/var/run/docker.sock')
}

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function onPath (binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(`${dir}/${binary}`)) return `${dir}/${binary}`
  }
  return null
}

export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  let teardown = async (): Promise<void> => {}
  let url: string | undefined = process.env.REDIS_URL
  let source = 'REDIS_URL'

  if (url !== undefined && url !== '') {
    if (!(await ping(url))) throw new Error(`REDIS_URL=${url.replace(/\/\/[^@]*@/, '//***@')} does not answer PING`)
  } else if (dockerEngineAvailable() && await tryContainer()) {
    source = 'testcontainers'
  } else {
    const binary = onPath('redis-server')
    if (binary === null) {
      throw new Error('The tests need Redis. Set REDIS_URL=redis://host:6379, start a Docker engine (testcontainers pulls redis:7-alpine), ' +
        'or install a redis-server binary (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).')
    }
    const port = await freePort()
    const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    url = `redis://127.0.0.1:${port}`
    source = `redis-server (${binary}) on port ${port}`
    for (let i = 0; i < 50 && !(await ping(url)); i++) await new Promise(resolve => setTimeout(resolve, 100))
    if (!(await ping(url))) throw new Error(`started ${binary} on port ${port} but it does not answer PING`)
    teardown = async () => { child.kill('SIGTERM') }
  }

  async function tryContainer (): Promise<boolean> {
    try {
      const { GenericContainer } = await import('testcontainers')
      const container = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start()
      url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`
      teardown = async () => { await container.stop() }
      return true
    } catch {
      return false
    }
  }

  project.provide('redisUrl', url as string)
  project.provide('redisSource', source)
  console.log(`[tests] Redis: ${source}`)
  return teardown
}
