import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { ManualClock } from '../../src/clock.js'
import { ConnectorError, type DetectionQuery, type ProviderConnector } from '../../src/connectors/connector.js'
import { encodeDetectionId } from '../../src/domain/detection-id.js'
import { compareKeys } from '../../src/domain/merge.js'
import type { Logger } from '../../src/logger.js'
import type { Detection } from '../../src/schemas/detection.js'
import type { ProviderId } from '../../src/schemas/provider.js'
import { DetectionService } from '../../src/features/detections/service.js'
import { howToTurnOn, PROVIDER_MODULES } from '../../src/providers/registry.js'
import { ProviderSet } from '../../src/services/provider-set.js'
import { CaseWriteService } from '../../src/services/writes.js'
import { DEFAULT_ROUTING } from '../../src/config.js'
import { keys } from '../../src/store/keys.js'
import { MemoryKvStore } from '../../src/store/memory-kv-store.js'
import { NO_CAPABILITIES } from '../support/fake-connector.js'

const log = pino({ level: 'silent' }) as unknown as Logger
const signal = new AbortController().signal

function detection (provider: ProviderId, n: string, at: number): Detection {
  const id = encodeDetectionId(provider, provider === 'bforeai' ? 'attack' : 'domain-match', n)
  return {
    id,
    provider,
    kind: provider === 'bforeai' ? 'attack' : 'domain-match',
    target: { type: 'domain', value: `${n}.example`, domain: `${n}.example` },
    source: null,
    score: null,
    similarity: null,
    detectedAt: new Date(at).toISOString(),
    matched: { queryId: null, queryTag: null, asset: null },
    caseId: null,
    links: { self: `/v1/detections/${id}`, takedown: `/v1/detections/${id}/takedown`, case: null }
  }
}

/** an in-memory vendor of detections with offset tokens, newest first */
class FakeDetections implements ProviderConnector {
  readonly capabilities = { ...NO_CAPABILITIES, detections: true }
  failWith: 'unavailable' | null = null
  calls = 0
  readonly items: Detection[]
  constructor (readonly id: ProviderId, items: Detection[]) {
    this.items = [...items].sort((a, b) => Date.parse(b.detectedAt) - Date.parse(a.detectedAt))
  }

  async listDetections (q: DetectionQuery) {
    this.calls++
    if (this.failWith !== null) throw new ConnectorError(this.id, this.failWith, 'injected', { upstreamStatus: 503 })
    const offset = q.pageToken === null ? 0 : Number(q.pageToken)
    const next = offset + q.pageSize < this.items.length ? String(offset + q.pageSize) : null
    return { items: this.items.slice(offset, offset + q.pageSize), next }
  }

  async getDetection () { return null }
  async listCases (): Promise<never> { throw new Error('unused') }
  async getCase (): Promise<never> { throw new Error('unused') }
  async listReference () { return null }
}

function service (connectors: FakeDetections[], store = new MemoryKvStore(new ManualClock())): DetectionService {
  const set = new ProviderSet(connectors.map(c => ({ id: c.id, mode: 'sandbox' as const, connector: c, timeoutMs: 1000, lastError: null, ids: PROVIDER_MODULES[c.id].ids })), howToTurnOn, new ManualClock())
  return new DetectionService(set, store, new CaseWriteService(set, DEFAULT_ROUTING), 'secret-0123456789')
}

async function walk (s: DetectionService, limit: number, extra: { since?: string, until?: string } = {}): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  for (let i = 0; i < 5000; i++) {
    const page = await s.list({ limit, ...extra, ...(cursor === null ? {} : { cursor }) }, signal, log)
    expect(page.items.length).toBeLessThanOrEqual(limit)
    ids.push(...page.items.map(d => d.id))
    cursor = page.nextCursor
    if (cursor === null) return ids
  }
  throw new Error('walk did not end')
}

const base = Date.parse('2026-01-01T00:00:00Z')
const sorted = (all: Detection[]) => [...all].sort((a, b) => compareKeys([Date.parse(a.detectedAt), a.id], [Date.parse(b.detectedAt), b.id])).map(d => d.id)

describe('DetectionService.list', () => {
  it('walking every page with any limit returns every detection once, newest first, ties by id (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 60 }), fc.integer({ min: 1, max: 100 }),
      async (b, c, limit) => {
        const connectors = [
          new FakeDetections('bforeai', b.map((m, i) => detection('bforeai', String(1000 + i), base + m * 60_000))),
          new FakeDetections('cloudflare', c.map((m, i) => detection('cloudflare', `q1:d${i}`, base + m * 60_000)))
        ]
        expect(await walk(service(connectors), limit)).toEqual(sorted(connectors.flatMap(x => x.items)))
      }), { numRuns: 60 })
  })

  it('applies since/until to detectedAt and binds the cursor to them', async () => {
    const cf = new FakeDetections('cloudflare', Array.from({ length: 30 }, (_, i) => detection('cloudflare', `q:${i}`, base + i * 3_600_000)))
    const s = service([cf])
    const ids = await walk(s, 4, { since: new Date(base + 10 * 3_600_000).toISOString(), until: new Date(base + 20 * 3_600_000).toISOString() })
    expect(ids).toEqual(sorted(cf.items.filter(d => { const t = Date.parse(d.detectedAt); return t >= base + 10 * 3_600_000 && t < base + 20 * 3_600_000 })))
    const first = await s.list({ limit: 2, since: new Date(base).toISOString() }, signal, log)
    await expect(s.list({ limit: 2, cursor: first.nextCursor! }, signal, log)).rejects.toMatchObject({ code: 'GW_ERR_BAD_CURSOR' })
  })

  it('one provider failing gives partial results naming it; all failing is a 503', async () => {
    const bf = new FakeDetections('bforeai', [detection('bforeai', '1', base)])
    const cf = new FakeDetections('cloudflare', [detection('cloudflare', 'q:a', base + 1)])
    const s = service([bf, cf])
    cf.failWith = 'unavailable'
    const page = await s.list({ limit: 10 }, signal, log)
    expect(page.items.map(d => d.id)).toEqual(['bforeai:attack:1'])
    expect(page.partial).toBe(true)
    expect(page.errors).toMatchObject([{ provider: 'cloudflare', status: 503 }])
    expect(page.nextCursor).not.toBeNull() // cloudflare is retried from where it stood
    bf.failWith = 'unavailable'
    await expect(s.list({ limit: 10 }, signal, log)).rejects.toMatchObject({ code: 'GW_ERR_PROVIDER_UNAVAILABLE' })
  })

  it('fills caseId from the remembered detection → case link', async () => {
    const store = new MemoryKvStore(new ManualClock())
    const cf = new FakeDetections('cloudflare', [detection('cloudflare', 'q:a', base), detection('cloudflare', 'q:b', base + 1)])
    await store.set(keys.detectionCase('cloudflare:domain-match:q%3Aa'), 'phishfort:abc', { ttlMs: 60_000 })
    const page = await service([cf], store).list({ limit: 10 }, signal, log)
    expect(page.items.map(d => [d.id, d.caseId, d.links.case])).toEqual([
      ['cloudflare:domain-match:q%3Ab', null, null],
      ['cloudflare:domain-match:q%3Aa', 'phishfort:abc', '/v1/cases/phishfort:abc']
    ])
  })

  it('rejects a provider filter naming a provider without detections', async () => {
    await expect(service([new FakeDetections('cloudflare', [])]).list({ limit: 10, provider: 'nosuch' }, signal, log)).rejects.toMatchObject({ code: 'GW_ERR_VALIDATION' })
  })
})
