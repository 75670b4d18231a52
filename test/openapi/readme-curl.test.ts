/**
 * Every curl example of README.md's "Quick start" and "curl cookbook" runs, with the real curl binary, against the gateway as
 * `npm start` serves it (sandbox mode, key `sandbox`) on a free loopback port, and answers the documented status.
 * Placeholders become real values: YOUR_CASE_ID a case of the provider named before it, YOUR_DETECTION_ID a
 * detection, $NEXT_CURSOR the cursor of the listing it continues, evidence files temporary files.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenSandboxGateway, type ListeningGateway } from '../support/sandbox-gateway.js'

const CURL = '/usr/bin/curl'
const hasCurl = existsSync(CURL)
const run = promisify(execFile)

/** The shell commands of the ```sh blocks under the "curl cookbook" heading, `\` continuations joined, comments dropped. */
export function cookbookCommands (readme: string): string[] {
  const start = readme.search(/^#{2,4} curl cookbook\s*$/im)
  if (start < 0) throw new Error('README.md has no "curl cookbook" heading')
  const rest = readme.slice(readme.indexOf('\n', start) + 1)
  // up to the next heading of the same or a higher level (a `# comment` line inside a sh block is not one)
  const next = rest.search(/^#{2,3} /m)
  const section = next < 0 ? rest : rest.slice(0, next)
  const commands: string[] = []
  for (const block of section.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const joined = (block[1] ?? '').replace(/\\\n\s*/g, '')
    let pending = ''
    for (const line of joined.split('\n')) {
      if (pending === '' && line.trim().startsWith('#')) continue
      // a quoted JSON body may continue on the next line without a backslash (inside single quotes)
      pending = pending === '' ? line : `${pending}\n${line}`
      if ((pending.match(/'/g) ?? []).length % 2 === 1) continue
      const command = pending.trim()
      pending = ''
      if (command !== '') commands.push(command)
    }
    if (pending !== '') throw new Error(`unterminated quote in README command: ${pending}`)
  }
  return commands
}

/** The curl commands of the "Quick start" section (the first thing a new user runs), before the cookbook's. */
export function quickStartCommands (readme: string): string[] {
  const start = readme.search(/^## Quick start/m)
  if (start < 0) throw new Error('README.md has no "Quick start" heading')
  const rest = readme.slice(readme.indexOf('\n', start) + 1)
  const section = rest.slice(0, Math.max(0, rest.search(/^## /m)))
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```/gm)].flatMap(b => (b[1] ?? '').split('\n').map(l => l.trim()).filter(l => l.startsWith('curl ')))
}

/** The status the README promises for a command: 201 for creates, 202 for actions, 200 otherwise. */
function expectedStatus (command: string): number {
  if (!/-X POST/.test(command)) return 200
  if (/\/v1\/(cases|batches)\?dryRun=true/.test(command) || /\/cancel\b/.test(command)) return 200
  if (/\/v1\/batches/.test(command)) return 202
  if (/\/webhook-endpoints\/\S+\/(test|rotate-secret)\b/.test(command)) return 200
  if (/\/(comments|attachments|appeal)\b|\/actions\//.test(command)) return 202
  return 201
}

interface Page { items: Array<{ id: string, provider: string, status: string, terminal: boolean, caseId?: string | null, kind?: string }>, nextCursor: string | null }

describe.skipIf(!hasCurl)(hasCurl ? 'README curl cookbook' : `README curl cookbook (skipped: ${CURL} not found; install curl to run it)`, () => {
  let gw: ListeningGateway
  let dir: string
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const quickStart = quickStartCommands(readme)
  const commands = [...quickStart, ...cookbookCommands(readme)]
  const values: Record<string, string> = {}

  const getJson = async (path: string): Promise<Page> => {
    const res = await fetch(gw.origin + path, { headers: { authorization: 'Bearer sandbox' } })
    expect(res.status, path).toBe(200)
    return await res.json() as Page
  }

  beforeAll(async () => {
    gw = await listenSandboxGateway()
    dir = mkdtempSync(join(tmpdir(), 'readme-curl-'))
    writeFileSync(join(dir, 'screenshot.png'), Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4f10000000049454e44ae426082', 'hex'))
    writeFileSync(join(dir, 'original.eml'), 'From: billing@acme-support.example\r\nTo: victim@acme.example\r\nSubject: Your invoice\r\n\r\nPay here.\r\n')
    // line 3 is an ftp:// URL: skipInvalid=true accepts the other rows and lists it in `rejected`
    writeFileSync(join(dir, 'targets.csv'), 'target,type,comment\r\nhttps://acme-login.example.io/kit,,phishing kit\r\nftp://files.acme-leak.example/kit.zip,,kit download\r\nacme-support.example.net,domain,"look-alike, new"\r\n')
    writeFileSync(join(dir, 'evidence.pdf'), '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')

    // cases the examples can act on: open ones, so cancel, comment and actions are allowed
    for (const provider of ['phishfort', 'bforeai', 'cloudflare'] as const) {
      const page = await getJson(`/v1/cases?provider=${provider}&limit=100`)
      const open = provider === 'cloudflare'
        ? page.items.find(c => c.status === 'mitigated' || c.status === 'taken_down') // an appeal needs mitigations
        : page.items.find(c => !c.terminal)
      expect(open, `a ${provider} case to use as YOUR_CASE_ID`).toBeDefined()
      values[`${provider}:YOUR_CASE_ID`] = open?.id ?? ''
    }
    const detections = await getJson('/v1/detections?provider=cloudflare&limit=100')
    const detection = detections.items.find(d => d.caseId === null && d.kind === 'domain-match')
    expect(detection, 'a Cloudflare domain match without a case, for YOUR_DETECTION_ID').toBeDefined()
    values.YOUR_DETECTION_ID = detection?.id ?? ''
    const batch = await fetch(`${gw.origin}/v1/batches`, {
      method: 'POST',
      headers: { authorization: 'Bearer sandbox', 'content-type': 'application/json' },
      body: JSON.stringify({ defaults: { provider: 'phishfort' }, items: [{ target: { type: 'domain', value: 'acme-readme.example.org' } }] })
    })
    expect(batch.status).toBe(202)
    values.YOUR_BATCH_ID = (await batch.json() as { id: string }).id
    const first = await getJson('/v1/cases?limit=20')
    expect(first.nextCursor).not.toBeNull()
    values.NEXT_CURSOR = first.nextCursor ?? ''
    const endpoint = await fetch(`${gw.origin}/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: 'Bearer sandbox', 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hooks' })
    })
    expect(endpoint.status).toBe(201)
    values.YOUR_ENDPOINT_ID = ((await endpoint.json()) as { id: string }).id
  })
  afterAll(async () => {
    await gw?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('finds every example of the quick start and the cookbook', () => {
    expect(quickStart).toHaveLength(1)
    expect(commands.length).toBeGreaterThanOrEqual(18)
    for (const c of commands) expect(c).toMatch(/^curl /)
  })

  // one test per example, in README order (the creates come before the examples that act on cases)
  for (const [i, command] of commands.entries()) {
    it(`#${i + 1} ${command.slice(0, 110)}`, async () => {
      const concrete = command
        .replaceAll('localhost:3000', `127.0.0.1:${gw.port}`)
        .replace(/(bforeai|phishfort|cloudflare):YOUR_CASE_ID/g, (placeholder) => values[placeholder] ?? placeholder)
        .replaceAll('YOUR_DETECTION_ID', values.YOUR_DETECTION_ID ?? '')
        .replaceAll('YOUR_BATCH_ID', values.YOUR_BATCH_ID ?? '')
        .replaceAll('YOUR_ENDPOINT_ID', values.YOUR_ENDPOINT_ID ?? '')
      expect(concrete).not.toMatch(/YOUR_|localhost/)
      // a stream never ends by itself: its example stops with --max-time, curl's exit code 28
      const stream = /\/v1\/events\/stream/.test(command)
      const { stdout } = await run('/bin/sh', ['-c', `${concrete} -w '\\n%{http_code}'${stream ? '; test $? -eq 28' : ''}`], {
        cwd: dir,
        env: { PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, NEXT_CURSOR: values.NEXT_CURSOR ?? '' },
        timeout: 15_000
      })
      const status = Number(stdout.slice(stdout.lastIndexOf('\n') + 1))
      const body = stdout.slice(0, stdout.lastIndexOf('\n'))
      expect(status, `${concrete}\n${body}`).toBe(expectedStatus(command))
      const file = / -o (\S+)/.exec(command)?.[1]
      if (/ -si /.test(command)) {
        expect(body.toLowerCase()).toContain('cache-status:')
      } else if (file !== undefined) {
        // a download: nothing on stdout, the file written
        expect(body).toBe('')
        expect(readFileSync(join(dir, file), 'utf8').length).toBeGreaterThan(0)
      } else if (/format=ndjson/.test(command)) {
        for (const line of body.split('\n').filter(l => l !== '')) expect(() => JSON.parse(line), line).not.toThrow()
      } else if (stream) {
        expect(body).toMatch(/^retry: \d+\n\n/)
      } else {
        expect(() => JSON.parse(body), body).not.toThrow()
      }
    })
  }
})
