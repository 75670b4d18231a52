/**
 * The sandbox's small internet on its own: target hosts of vendor cases resolve through its resolver to its loopback
 * HTTP(S) servers, reached on 80/443 through the probe's sandbox route; each story of fates.ts over time (manual
 * clock), each dead page probed over real loopback HTTP(S) and classified by the real classifier and the shipped
 * signatures, the kit's cosmetic variants still the same page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { classify, loadSignatures } from '../../src/features/verification/classify.js'
import { pageText, samePage, simhash } from '../../src/features/verification/page.js'
import { probeTarget, type ProbeOptions } from '../../src/features/verification/probe.js'
import type { SimTarget } from '../../src/simulators/harness.js'
import { DEAD_PAGES, deadPageOf, FATES, fateOf, TIMES, type DeadPage, type Fate } from '../../src/simulators/targets/fates.js'
import { hostOfValue, startSmallInternet, type SmallInternet } from '../../src/simulators/targets/index.js'
import { phishingPage } from '../../src/simulators/targets/pages.js'

const HOUR = 3_600_000
const clock = new ManualClock('2026-11-01T00:00:00.000Z')
const targets: SimTarget[] = []
let net: SmallInternet
const { signatures, errors } = loadSignatures(null)

/** the first generated host name with this story and dead page */
function hostWith (fate: Fate, page?: DeadPage, ip = false): string {
  for (let i = 0; i < 100_000; i++) {
    const host = ip ? `198.51.${i >> 8}.${i & 255}` : `kit-${i}.sandbox.example`
    if (fateOf(host) === fate && (page === undefined || deadPageOf(host) === page)) return host
  }
  throw new Error(`no host for ${fate} ${page ?? ''}`)
}

function opts (over: Partial<ProbeOptions> = {}): ProbeOptions {
  return {
    resolver: net.resolver,
    route: net.route,
    allowLoopback: true,
    loopbackOnly: true,
    timeoutMs: 3_000,
    maxBytes: 262_144,
    userAgent: 'test',
    proxyUrl: null,
    now: () => clock.now(),
    ...over
  }
}

beforeAll(async () => {
  net = await startSmallInternet({ clock, targets: () => targets })
})
afterAll(async () => { await net.close() })

/** the expected verdict of each dead page: every one is down or blocked */
const VERDICTS: Record<DeadPage, { outcome: string, reason: RegExp }> = {
  nxdomain: { outcome: 'down', reason: /^nxdomain:/ },
  refused: { outcome: 'down', reason: /^connection_refused:/ },
  not_found: { outcome: 'down', reason: /^http_404$/ },
  registrar_suspended: { outcome: 'down', reason: /^signature:registrar-domain-suspended$/ },
  hosting_suspended: { outcome: 'down', reason: /^signature:hosting-account-suspended$/ },
  suspension_redirect: { outcome: 'down', reason: /^signature:registrar-suspension-redirect$/ },
  parked: { outcome: 'down', reason: /^signature:parking-page$/ },
  site_not_found: { outcome: 'down', reason: /^signature:hosting-site-not-found$/ },
  provider_interstitial: { outcome: 'blocked', reason: /^signature:cloudflare-phishing-warning$/ },
  browser_warning: { outcome: 'blocked', reason: /^signature:browser-deceptive-site-warning$/ }
}

describe('the small internet', () => {
  it('the tables are shares of 100; hosts spread over the stories roughly by them', () => {
    expect(errors).toEqual([])
    expect(FATES.reduce((n, f) => n + f.share, 0)).toBe(100)
    expect(DEAD_PAGES.reduce((n, f) => n + f.share, 0)).toBe(100)
    const counts = new Map<Fate, number>()
    for (let i = 0; i < 4000; i++) { const f = fateOf(`site-${i}.example`); counts.set(f, (counts.get(f) ?? 0) + 1) }
    for (const f of FATES) expect(Math.abs((counts.get(f.fate) ?? 0) / 40 - f.share)).toBeLessThan(4)
  })

  it('reads the host of every probeable target value', () => {
    expect(hostOfValue('https://Login-Acme.sandbox.example:8443/secure?x=1')).toBe('login-acme.sandbox.example')
    expect(hostOfValue('acme-verify.example')).toBe('acme-verify.example')
    expect(hostOfValue('acme-verify.example/path')).toBe('acme-verify.example')
    expect(hostOfValue('203.0.113.7')).toBe('203.0.113.7')
    expect(hostOfValue('phish@acme.example')).toBeNull()
    expect(hostOfValue('+15555550100')).toBeNull()
  })

  it('every dead page answers over loopback and the real classifier recognises it (a domain target, https on 443)', async () => {
    const created = clock.now() - 10 * HOUR
    for (const page of DEAD_PAGES.map(p => p.page)) {
      const host = hostWith('taken_down', page)
      targets.push({ value: host, createdAt: created, downAt: clock.now() - HOUR })
      const obs = await probeTarget('domain', host, opts())
      const verdict = classify(obs, signatures, null)
      expect({ page, ...verdict }).toMatchObject({ page, outcome: VERDICTS[page].outcome, reason: expect.stringMatching(VERDICTS[page].reason) })
      if (!['nxdomain', 'refused'].includes(page)) {
        // port 443 of the name, routed to the small internet's HTTPS server: the self-signed certificate is recorded
        expect(obs.hops[0]?.url).toBe(`https://${host}/`)
        expect(obs.tls).toMatchObject({ issuer: expect.stringContaining('Small Internet'), error: expect.stringMatching(/SELF_SIGNED/) })
        expect(obs.dns).toMatchObject({ code: 'NOERROR', addresses: ['127.0.0.1'] })
      }
    }
  })

  it('an ipv4 target (no DNS) is routed too; one that is down refuses connections', async () => {
    const up = hostWith('stays_up', undefined, true)
    targets.push({ value: up, createdAt: clock.now() - HOUR, downAt: clock.now() })
    expect(classify(await probeTarget('ipv4', up, opts()), signatures, null)).toMatchObject({ outcome: 'live' })
    // an address has no name to lose: its share of NXDOMAIN refuses connections instead
    const gone = hostWith('taken_down', 'refused', true)
    targets.push({ value: `http://${gone}/login`, createdAt: clock.now() - HOUR, downAt: clock.now() })
    expect(classify(await probeTarget('ipv4', gone, opts()), signatures, null)).toMatchObject({ outcome: 'down', reason: expect.stringMatching(/^connection_refused/) })
  })

  it('the kit answers with cosmetic variants (new bytes every time) that are still the same page', async () => {
    const host = hostWith('stays_up')
    targets.push({ value: `http://${host}/secure/login`, createdAt: clock.now(), downAt: null })
    const first = await probeTarget('url', `http://${host}/secure/login`, opts())
    expect(classify(first, signatures, null)).toMatchObject({ outcome: 'live' })
    const digests = new Set([first.bodySha256])
    const texts = new Set([first.text])
    for (let i = 0; i < 6; i++) {
      clock.advance(HOUR + i * 7_777)
      const again = await probeTarget('url', `http://${host}/secure/login`, opts())
      digests.add(again.bodySha256)
      texts.add(again.text)
      expect(classify(again, signatures, first.fingerprint)).toEqual({ outcome: 'live', reason: 'same page as the first live capture' })
    }
    // new bytes and new visible text every time (dates, tokens, counts, case, hyphens), the same page all the same
    expect(digests.size).toBe(7)
    expect(texts.size).toBe(7)
  })

  it('the kit\'s variants are the same page on every host, not just on one', async () => {
    for (let i = 0; i < 300; i++) {
      const host = `variant-${i}.sandbox.example`
      const base = simhash(pageText(phishingPage(host, 1, clock.now())))
      for (let n = 2; n <= 7; n++) expect(samePage(base, simhash(pageText(phishingPage(host, n, clock.now() + n * 61_000))))).toBe(true)
    }
  })

  it('follows the vendor over time: each story on the manual clock', async () => {
    const t0 = clock.now()
    const hosts = {
      takenDown: hostWith('taken_down', 'not_found'),
      early: hostWith('dies_early', 'parked'),
      back: hostWith('comes_back', 'registrar_suspended'),
      up: hostWith('stays_up')
    }
    const cases = Object.fromEntries(Object.entries(hosts).map(([k, host]) => {
      const c: SimTarget = { value: `https://${host}/`, createdAt: t0, downAt: null }
      targets.push(c)
      return [k, c]
    })) as Record<keyof typeof hosts, SimTarget>
    const pages = (): Record<string, string | null> => Object.fromEntries(Object.entries(hosts).map(([k, h]) => [k, net.pageOf(h)]))
    expect(pages()).toEqual({ takenDown: 'live', early: 'live', back: 'live', up: 'live' })
    clock.set(t0 + TIMES.diesEarlyAfterMs)
    expect(pages()).toEqual({ takenDown: 'live', early: 'parked', back: 'live', up: 'live' })
    // the vendors say taken down
    const down = t0 + 5 * HOUR
    clock.set(down)
    for (const c of Object.values(cases)) c.downAt = down
    expect(pages()).toEqual({ takenDown: 'not_found', early: 'parked', back: 'registrar_suspended', up: 'live' })
    clock.set(down + TIMES.backAfterMs)
    expect(pages()).toEqual({ takenDown: 'not_found', early: 'parked', back: 'live', up: 'live' })
    clock.set(down + TIMES.backAfterMs + TIMES.backForMs)
    expect(pages()).toEqual({ takenDown: 'not_found', early: 'parked', back: 'registrar_suspended', up: 'live' })
  })

  it('answers only for names of vendor cases: anything else is NXDOMAIN, an unknown address refuses', async () => {
    expect(net.pageOf('never-reported.example')).toBeNull()
    await expect(net.resolver.resolve4('never-reported.example')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    expect(classify(await probeTarget('domain', 'never-reported.example', opts()), signatures, null)).toMatchObject({ outcome: 'down', reason: expect.stringMatching(/^nxdomain/) })
    expect(net.route('192.0.2.99', 'http:')).toBeNull()
  })

  it('the route is refused outside the sandbox (no loopbackOnly): live probes cannot use it', async () => {
    const host = hostWith('stays_up')
    targets.push({ value: host, createdAt: clock.now(), downAt: null })
    const before = { ...net.stats }
    const obs = await probeTarget('domain', host, opts({ loopbackOnly: false }))
    expect(obs.failure).toMatchObject({ kind: 'refused', detail: expect.stringContaining('sandbox only') })
    // refused before any DNS question or connection
    expect(net.stats).toEqual(before)
  })
})
