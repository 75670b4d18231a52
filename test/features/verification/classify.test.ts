/**
 * Classification as data: every shipped signature's example page, served by a loopback fixture and probed for real
 * (injected resolver), is recognised as that signature; a signature without an example fails here and at start.
 * A cosmetic change of a live page is still the same page; a different page is not.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import builtin from '../../../src/features/verification/signatures.json' with { type: 'json' }
import { classify, loadSignatures, parseSignatures } from '../../../src/features/verification/classify.js'
import { distance, pageText, samePage, simhash } from '../../../src/features/verification/page.js'
import { probeUrl, type ProbeOptions } from '../../../src/features/verification/probe.js'
import type { DnsResolver } from '../../../src/features/verification/resolver.js'

const { signatures, errors } = loadSignatures(null)
let site: Server
let port = 0

beforeAll(async () => {
  site = createServer((req, res) => {
    const [, kind, id] = (req.url ?? '').split('/')
    const sig = signatures.find(s => s.id === id)
    if (sig === undefined) { res.writeHead(404).end(); return }
    if (kind === 'sig' && sig.example.redirectHost !== undefined) {
      res.writeHead(302, { location: `http://${sig.example.redirectHost}:${port}/landing/${sig.id}` }).end()
      return
    }
    res.writeHead(sig.example.status, { 'content-type': 'text/html' }).end(sig.example.html)
  })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  port = (site.address() as AddressInfo).port
})
afterAll(async () => { await new Promise(resolve => site.close(resolve)) })

/** every name is the loopback fixture */
const resolver: DnsResolver = {
  resolve4: async () => ['127.0.0.1'],
  resolve6: async () => [],
  resolveCname: async () => { throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' }) }
}
const opts: ProbeOptions = { resolver, allowLoopback: true, timeoutMs: 2_000, maxBytes: 256 * 1024, userAgent: 'test', proxyUrl: null, now: () => 0 }

describe('the shipped signatures', () => {
  it('load without errors, and every entry of the file has an example page', () => {
    expect(errors).toEqual([])
    expect(signatures.map(s => s.id).sort()).toEqual(builtin.signatures.map(s => s.id).sort())
    expect(builtin.signatures.every(s => typeof s.example.html === 'string' && s.example.html !== '')).toBe(true)
  })

  for (const raw of builtin.signatures) {
    it(`${raw.id}: its example page, probed, is classified ${raw.outcome} by that signature`, async () => {
      const obs = await probeUrl(`http://login-acme.test:${port}/sig/${raw.id}`, opts)
      expect(obs.failure).toBeNull()
      expect(classify(obs, signatures, null)).toEqual({ outcome: raw.outcome, reason: `signature:${raw.id}` })
    })
  }

  it('a phishing login page matches no signature and is live', async () => {
    const page = { title: 'Sign in', text: pageText('<h1>Sign in to Acme Bank</h1><p>Enter your password</p>'), fingerprint: null }
    const obs = { ...(await probeUrl(`http://x.test:${port}/none`, opts)), ...page, failure: null, finalStatus: 200 }
    expect(classify(obs, signatures, null)).toEqual({ outcome: 'live', reason: 'http_200' })
  })
})

describe('operator signatures (VERIFY_SIGNATURES_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-sig-'))
  const write = (name: string, doc: unknown): string => {
    const p = join(dir, name)
    writeFileSync(p, JSON.stringify(doc))
    return p
  }
  const ok = {
    id: 'acme-host-removed',
    outcome: 'down',
    label: 'Acme hosting removed the site',
    match: { title: ['^removed by acme hosting$'] },
    example: { status: 200, title: 'Removed by Acme Hosting', html: '<title>Removed by Acme Hosting</title>' }
  }

  it('are added to the shipped ones', () => {
    const got = loadSignatures(write('ok.json', { signatures: [ok] }))
    expect(got.errors).toEqual([])
    expect(got.signatures.map(s => s.id)).toContain('acme-host-removed')
    expect(got.signatures).toHaveLength(builtin.signatures.length + 1)
  })

  it('a signature without an example, a bad pattern or an example its own patterns miss is refused, each named', () => {
    const got = loadSignatures(write('bad.json', {
      signatures: [
        { ...ok, id: 'no-example', example: undefined },
        { ...ok, id: 'bad-pattern', match: { body: ['(unclosed'] } },
        { ...ok, id: 'misses', match: { title: ['^something else$'] } }
      ]
    }))
    expect(got.errors).toEqual(expect.arrayContaining([
      expect.stringContaining('no-example.example: every signature needs an example page'),
      expect.stringContaining('bad-pattern.match.body: "(unclosed" is not a regular expression'),
      'signature misses: its example page is recognised as nothing'
    ]))
  })

  it('an unreadable file is one error naming it', () => {
    expect(loadSignatures(join(dir, 'absent.json')).errors[0]).toMatch(/^VERIFY_SIGNATURES_FILE .*absent\.json: ENOENT/)
    expect(parseSignatures({}, 'x').errors).toEqual(['x: must be an object with a "signatures" list'])
  })
})

describe('the page fingerprint', () => {
  const kit = (date: string, token: string, extra = ''): string => pageText(`<html><body><h1>Acme Bank online banking</h1>
    <p>Welcome back. Please sign in to continue to your account dashboard and review recent activity.</p>
    <form><label>Customer number</label><input name=user><label>Password</label><input name=pass type=password>
    <button>Sign in</button></form><p>Forgotten your password? Reset it with your card and PIN.</p>
    <p>Security notice: we will never ask for your full PIN by email or phone.</p>${extra}
    <footer>Copyright ${date} Acme Bank plc. Session ${token}. All rights reserved. Privacy policy. Cookies. Accessibility.</footer></body></html>`)

  it('a cosmetic change (date, session token, one added sentence) is still the same page', () => {
    const a = simhash(kit('2026', 'a81f9c'))
    const b = simhash(kit('2027', '77d0e2', '<p>New: faster sign in.</p>'))
    expect(samePage(a, b)).toBe(true)
  })

  it('a parking page is not the same page as the kit', () => {
    const parked = simhash(pageText(builtin.signatures.find(s => s.id === 'parking-page')?.example.html ?? ''))
    expect(distance(simhash(kit('2026', 'a81f9c')), parked)).toBeGreaterThan(10)
    expect(samePage(simhash(kit('2026', 'a81f9c')), parked)).toBe(false)
  })
})
