/**
 * What a probe means: `live`, `down`, `blocked` or `unknown` with a reason (or `unprobeable`). Network results decide
 * first (NXDOMAIN, refused, reset, timeout are `down`; 404/410/451 too), then the page signatures (suspension,
 * parking, interstitials: a data file, extended by VERIFY_SIGNATURES_FILE), then the page itself against the first
 * live capture (a simhash within SAME_PAGE_BITS is the same page).
 */
import { readFileSync } from 'node:fs'
import builtin from './signatures.json' with { type: 'json' }
import { pageText, samePage } from './page.js'
import type { Observation } from './probe.js'

export type ProbeOutcome = 'live' | 'down' | 'blocked' | 'unknown' | 'unprobeable'

export interface Verdict { outcome: ProbeOutcome, reason: string }

export interface Signature {
  id: string
  outcome: 'down' | 'blocked'
  label: string
  match: { title?: RegExp[], body?: RegExp[], redirectHost?: RegExp[], status?: number[] }
  example: { status: number, title: string | null, html: string, redirectHost?: string }
}

const DOWN_STATUS: ReadonlySet<number> = new Set([404, 410, 451])

function hostOf (url: string): string {
  try { return new URL(url).hostname.toLowerCase() } catch { return '' }
}

function matches (sig: Signature, title: string | null, text: string, offsiteHosts: string[], status: number | null): boolean {
  const { title: t, body, redirectHost, status: st } = sig.match
  if (t !== undefined && !t.some(r => r.test(title ?? ''))) return false
  if (body !== undefined && !body.some(r => r.test(text))) return false
  if (redirectHost !== undefined && !offsiteHosts.some(h => redirectHost.some(r => r.test(h)))) return false
  if (st !== undefined && (status === null || !st.includes(status))) return false
  return true
}

/** The first signature the page matches, or null. */
export function matchSignature (signatures: readonly Signature[], page: { title: string | null, text: string, hops: Observation['hops'], finalStatus: number | null }): Signature | null {
  const first = hostOf(page.hops[0]?.url ?? '')
  const offsite = page.hops.slice(1).map(h => hostOf(h.url)).filter(h => h !== '' && h !== first)
  return signatures.find(s => matches(s, page.title, page.text, offsite, page.finalStatus)) ?? null
}

/** The verdict on one observation; `baseline` is the fingerprint of the first live capture, when there is one. */
export function classify (obs: Observation, signatures: readonly Signature[], baseline: string | null): Verdict {
  const f = obs.failure
  if (f !== null) {
    switch (f.kind) {
      case 'unprobeable': return { outcome: 'unprobeable', reason: f.detail }
      case 'nxdomain':
      case 'no_address':
      case 'connection_refused':
      case 'connection_reset':
      case 'timeout': return { outcome: 'down', reason: `${f.kind}: ${f.detail}` }
      default: return { outcome: 'unknown', reason: `${f.kind}: ${f.detail}` }
    }
  }
  const status = obs.finalStatus ?? 0
  if (DOWN_STATUS.has(status)) return { outcome: 'down', reason: `http_${status}` }
  const sig = matchSignature(signatures, obs)
  if (sig !== null) return { outcome: sig.outcome, reason: `signature:${sig.id}` }
  if (status >= 200 && status < 300) {
    if (baseline === null || obs.fingerprint === null) return { outcome: 'live', reason: `http_${status}` }
    return samePage(baseline, obs.fingerprint)
      ? { outcome: 'live', reason: 'same page as the first live capture' }
      : { outcome: 'unknown', reason: 'answers with a page unlike the first live capture' }
  }
  return { outcome: 'unknown', reason: `http_${status}` }
}

interface RawSignature {
  id?: unknown
  outcome?: unknown
  label?: unknown
  match?: Record<string, unknown>
  example?: { status?: unknown, title?: unknown, html?: unknown, redirectHost?: unknown }
}

function patterns (raw: unknown, where: string, errors: string[]): RegExp[] | undefined {
  if (raw === undefined) return undefined
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every(p => typeof p === 'string')) {
    errors.push(`${where}: must be a non-empty list of regular expressions`)
    return undefined
  }
  const out: RegExp[] = []
  for (const p of raw as string[]) {
    try { out.push(new RegExp(p, 'i')) } catch { errors.push(`${where}: "${p}" is not a regular expression`) }
  }
  return out
}

/** Checks and compiles a signatures document; every problem is listed, with `source` naming the file. */
export function parseSignatures (doc: unknown, source: string): { signatures: Signature[], errors: string[] } {
  const errors: string[] = []
  const list = (doc as { signatures?: unknown } | null)?.signatures
  if (!Array.isArray(list)) return { signatures: [], errors: [`${source}: must be an object with a "signatures" list`] }
  const signatures: Signature[] = []
  list.forEach((r: RawSignature, i) => {
    const at = `${source} signatures[${i}]`
    if (typeof r.id !== 'string' || !/^[a-z0-9-]{1,64}$/.test(r.id)) { errors.push(`${at}.id: must be 1-64 of a-z 0-9 -`); return }
    const where = `${source} ${r.id}`
    if (r.outcome !== 'down' && r.outcome !== 'blocked') errors.push(`${where}.outcome: must be down or blocked`)
    const m = r.match ?? {}
    const match: Signature['match'] = {
      title: patterns(m.title, `${where}.match.title`, errors),
      body: patterns(m.body, `${where}.match.body`, errors),
      redirectHost: patterns(m.redirectHost, `${where}.match.redirectHost`, errors)
    }
    if (m.status !== undefined) {
      if (Array.isArray(m.status) && m.status.every(s => Number.isInteger(s))) match.status = m.status as number[]
      else errors.push(`${where}.match.status: must be a list of HTTP statuses`)
    }
    if (match.title === undefined && match.body === undefined && match.redirectHost === undefined) errors.push(`${where}.match: needs title, body or redirectHost`)
    const ex = r.example
    if (ex === undefined || typeof ex.html !== 'string' || !Number.isInteger(ex.status)) {
      errors.push(`${where}.example: every signature needs an example page ({ status, html })`)
      return
    }
    const example: Signature['example'] = { status: ex.status as number, title: typeof ex.title === 'string' ? ex.title : null, html: ex.html }
    if (typeof ex.redirectHost === 'string') example.redirectHost = ex.redirectHost
    signatures.push({ id: r.id, outcome: r.outcome as Signature['outcome'], label: typeof r.label === 'string' ? r.label : r.id, match, example })
  })
  return { signatures, errors }
}

/** The hops an example page is seen through: the target, then the off-site landing host when it names one. */
export function exampleHops (sig: Signature): Observation['hops'] {
  const first = { url: 'https://login-acme.example/', status: sig.example.redirectHost === undefined ? sig.example.status : 302 }
  return sig.example.redirectHost === undefined ? [first] : [first, { url: `https://${sig.example.redirectHost}/`, status: sig.example.status }]
}

/** The signature an example page of `sig` is recognised as, among `all` (first match wins). */
export function exampleMatch (sig: Signature, all: readonly Signature[]): Signature | null {
  return matchSignature(all, { title: sig.example.title, text: pageText(sig.example.html), hops: exampleHops(sig), finalStatus: sig.example.status })
}

/**
 * The shipped signatures, then VERIFY_SIGNATURES_FILE's (an id already shipped is replaced). Each example must be
 * recognised as its own signature, so a file whose patterns miss their own example is refused at start.
 */
export function loadSignatures (file: string | null): { signatures: Signature[], errors: string[] } {
  const shipped = parseSignatures(builtin, 'built-in signatures')
  let extra: { signatures: Signature[], errors: string[] } = { signatures: [], errors: [] }
  if (file !== null) {
    let doc: unknown
    try { doc = JSON.parse(readFileSync(file, 'utf8')) } catch (err) {
      return { signatures: [], errors: [`VERIFY_SIGNATURES_FILE ${file}: ${(err as Error).message}`] }
    }
    extra = parseSignatures(doc, `VERIFY_SIGNATURES_FILE ${file}`)
  }
  const ids = new Set(extra.signatures.map(s => s.id))
  const signatures = [...extra.signatures, ...shipped.signatures.filter(s => !ids.has(s.id))]
  const errors = [...shipped.errors, ...extra.errors]
  for (const s of signatures) {
    const got = exampleMatch(s, signatures)
    if (got?.id !== s.id) errors.push(`signature ${s.id}: its example page is recognised as ${got === null ? 'nothing' : got.id}`)
  }
  return { signatures, errors }
}
