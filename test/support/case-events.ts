/**
 * Case events for webhook tests, recorded through the events engine's own observe step: cases that vary in provider,
 * status and target type, observed round after round so the log holds case.created, case.status_changed and
 * case.reopened events.
 */
import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import type { EventService } from '../../src/events/service.js'
import type { Case } from '../../src/schemas/case.js'
import type { CaseEvent } from '../../src/schemas/event.js'
import type { UnifiedStatus } from '../../src/schemas/unified-status.js'
import { auth } from './app.js'

const PROVIDERS = ['bforeai', 'phishfort', 'cloudflare'] as const
const STATUSES: ReadonlyArray<readonly [UnifiedStatus, boolean]> = [
  ['received', false], ['in_review', false], ['in_progress', false], ['mitigated', false], ['taken_down', true], ['failed', true], ['closed', true]
]
const TARGETS = ['url', 'domain', 'email', 'social'] as const

export function testCase (k: number, statusIndex: number, tag: string): Case {
  const provider = PROVIDERS[k % 3]!
  const [status, terminal] = STATUSES[statusIndex % STATUSES.length]!
  const type = TARGETS[(k * 5) % TARGETS.length]!
  const id = `${tag}-${k}`
  return {
    id: `${provider}:${id}`,
    provider,
    providerCaseId: id,
    target: { type, value: type === 'email' ? `ceo-${k}@phish.example` : `https://phish-${k}.example/login`, domain: type === 'email' ? null : `phish-${k}.example` },
    status,
    terminal,
    providerStatus: status,
    brand: { id: null, name: 'Acme Bank' },
    threat: { class: 'phishing', name: null, platform: null },
    reportedBy: 'soc@acme.example',
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: null,
    links: { self: `/v1/cases/${provider}:${id}`, provider: null }
  } as Case
}

/**
 * Records `n` events over `cases` cases: round 0 creates each case, every later round moves it to another status
 * (3 steps further in the table, so a terminal case going back to an open status is a case.reopened).
 */
export async function recordEvents (events: EventService, n: number, opts: { cases?: number, tag?: string } = {}): Promise<CaseEvent[]> {
  const cases = opts.cases ?? Math.max(1, Math.ceil(n / 4))
  const tag = opts.tag ?? `c${Math.random().toString(36).slice(2, 8)}`
  const out: CaseEvent[] = []
  for (let i = 0; i < n; i++) {
    const k = i % cases
    const round = Math.floor(i / cases)
    const event = await events.observe(testCase(k, k + round * 3, tag), 'gateway', false)
    if (event === null) throw new Error(`observe recorded nothing for case ${k} round ${round}`)
    out.push(event)
  }
  return out
}

/** Every event `GET /v1/events` gives with `query` (`&name=value...`), following `next` page after page to the end. */
export async function followFeed (app: FastifyInstance, query = '', limit = 50): Promise<CaseEvent[]> {
  const out: CaseEvent[] = []
  let after: string | null = null
  for (;;) {
    const res = await app.inject({ url: `/v1/events?limit=${limit}${query}${after === null ? '' : `&after=${after}`}`, headers: auth() })
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json() as { items: CaseEvent[], next: string | null }
    out.push(...page.items)
    if (page.items.length === 0 || page.next === after) return out
    after = page.next
  }
}
