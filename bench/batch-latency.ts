/**
 * Interactive latency while a batch runs (`npm run bench:batch`): p99 of GET /v1/cases/{id} on an idle
 * gateway, then while a 1,000-item batch (600 PhishFort, 300 BforeAI, 100 Cloudflare targets) is worked off.
 *
 * Processes: the simulators (src/simulators/serve.ts, vendor latency --latency-ms), the gateway in live mode
 * (`node --import tsx src/server.ts`), and this one driving autocannon. With --redis URL the gateway keeps its
 * state there under a fresh REDIS_KEY_PREFIX and works items on BullMQ; without, in process memory.
 *
 * Options: --duration S (15) --connections N (4) --latency-ms N (50) --items N (1000) --redis URL
 * Prints one JSON line: idle and busy p50/p99/max (ms), requests, errors, and how far the batch got.
 */
import { randomUUID } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { parseCli } from './cli.js'
import { freePort, killAllSync, readyLine, startProcess, stopAll } from './procs.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const KEY = 'bench-batch-secret-key'
const USAGE = `  --duration S (15) --connections N (4) --latency-ms N (50) --items N (1000)
  --redis URL (default: the gateway keeps its state in process memory)`
const args = parseCli('bench:batch', USAGE, {
  duration: { type: 'string', default: '15' },
  connections: { type: 'string', default: '4' },
  'latency-ms': { type: 'string', default: '50' },
  items: { type: 'string', default: '1000' },
  redis: { type: 'string' }
})

interface SimsLine { simulators: Record<'bforeai' | 'phishfort' | 'cloudflare', { baseUrl: string, credential: string }>, cloudflareAccount: string }

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

async function measure (url: string): Promise<{ p50: number, p99: number, max: number, requests: number, errors: number }> {
  const r = await autocannon({ url, headers, connections: Number(args.connections), duration: Number(args.duration) })
  return { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, requests: r.requests.total, errors: r.errors + r.non2xx }
}

function batchItems (n: number): unknown[] {
  const run = randomUUID().slice(0, 8)
  const cloudflareOptions = {
    reportType: 'abuse_phishing',
    reporter: { name: 'Acme SOC', email: 'soc@acme.example', company: 'Acme' },
    justification: 'Credential phishing page cloning the Acme Bank login form',
    hostNotification: 'send',
    ownerNotification: 'send-anon'
  }
  return Array.from({ length: n }, (_, i) => {
    if (i % 10 === 9) return { provider: 'cloudflare', target: { type: 'url', value: `https://cf-${run}-${i}.example.io/login` }, providerOptions: cloudflareOptions }
    if (i % 10 >= 6) return { provider: 'bforeai', target: { type: 'url', value: `https://bf-${run}-${i}.example.net/verify` } }
    return { provider: 'phishfort', target: { type: i % 2 === 0 ? 'url' : 'domain', value: i % 2 === 0 ? `https://pf-${run}-${i}.example.com/login` : `pf-${run}-${i}.example.org` } }
  })
}

async function main (): Promise<void> {
  const sims = startProcess('simulators', process.execPath, ['--import', 'tsx', 'src/simulators/serve.ts', '--latency-ms', args['latency-ms']], {
    cwd: ROOT, env: { ...process.env }, stdout: 'pipe'
  })
  const line = await readyLine<SimsLine>(sims)
  const port = await freePort()
  const s = line.simulators
  const gateway = startProcess('gateway', process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    stdout: 'ignore',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SANDBOX: 'false',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '0',
      GATEWAY_API_KEYS: `bench:${KEY}`,
      GATEWAY_SECRET: 'bench-batch-secret-0123456789abcdef',
      BATCH_RETENTION_DAYS: '1',
      ...(args.redis === undefined ? {} : { REDIS_URL: args.redis, REDIS_KEY_PREFIX: `bench-batch-${randomUUID()}:` }),
      BFOREAI_API_KEY: s.bforeai.credential,
      BFOREAI_BASE_URL: s.bforeai.baseUrl,
      PHISHFORT_API_KEY: s.phishfort.credential,
      PHISHFORT_BASE_URL: s.phishfort.baseUrl,
      CLOUDFLARE_API_TOKEN: s.cloudflare.credential,
      CLOUDFLARE_ACCOUNT_ID: line.cloudflareAccount,
      CLOUDFLARE_BASE_URL: s.cloudflare.baseUrl
    }
  })
  const origin = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (i > 300) throw new Error(`gateway not ready: ${gateway.stderrTail()}`)
    try { if ((await fetch(`${origin}/readyz`)).status === 200) break } catch { /* not yet */ }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const list = await (await fetch(`${origin}/v1/cases?provider=phishfort&limit=1`, { headers })).json() as { items: Array<{ id: string }> }
  const caseUrl = `${origin}/v1/cases/${encodeURIComponent(list.items[0]?.id ?? '')}`

  await measure(caseUrl) // warm-up
  const idle = await measure(caseUrl)
  const submitted = Date.now()
  const post = await fetch(`${origin}/v1/batches`, { method: 'POST', headers, body: JSON.stringify({ defaults: { brand: { id: 501, name: 'Acme Bank' }, comment: 'bench batch' }, items: batchItems(Number(args.items)) }) })
  const batch = await post.json() as { id: string }
  if (post.status !== 202) throw new Error(`batch refused: ${post.status} ${JSON.stringify(batch)}`)
  const accepted = Date.now() - submitted
  const busy = await measure(caseUrl)
  const during = await (await fetch(`${origin}/v1/batches/${batch.id}`, { headers })).json() as { counts: Record<string, number> }
  let done = during
  while (done.counts.pending !== undefined && done.counts.pending > 0) {
    await new Promise(resolve => setTimeout(resolve, 500))
    done = await (await fetch(`${origin}/v1/batches/${batch.id}`, { headers })).json() as { counts: Record<string, number> }
  }
  const finished = Date.now() - submitted
  process.stdout.write(JSON.stringify({
    store: args.redis === undefined ? 'memory' : 'redis',
    vendorLatencyMs: Number(args['latency-ms']),
    connections: Number(args.connections),
    idle,
    busy,
    ratioP99: Math.round(busy.p99 / Math.max(1, idle.p99) * 100) / 100,
    batch: { items: Number(args.items), acceptedMs: accepted, countsAfterBusyWindow: during.counts, finalCounts: done.counts, completedMs: finished }
  }) + '\n')
  await stopAll()
}

process.on('SIGINT', () => { killAllSync(); process.exit(130) })
main().catch(async (err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  await stopAll()
  process.exit(1)
})
