/**
 * GET /v1/cases/export over the simulators: the same cases as walking GET /v1/cases, as RFC 4180 CSV (parsed back
 * with csv-parse) or NDJSON, with the listing's filters; a formula from vendor data comes out neutralised; bad
 * filters and failing providers are problems before any byte of the file.
 */
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Writable } from 'node:stream'
import { attachment, csvCell, EVENT_COLUMNS, tabularStream, type ExportEvent } from '../../src/features/reporting/export.js'
import { auth, CLOUDFLARE_REPORT_OPTIONS, testGateway, type TestGateway } from '../support/app.js'

let gw: TestGateway

beforeAll(async () => { gw = await testGateway({ count: 150 }) })
afterAll(async () => { await gw?.close() })

async function listAll (query: string): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = []
  let cursor: string | null = null
  do {
    const url: string = `/v1/cases?${query}&limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const res = await gw.app.inject({ method: 'GET', url, headers: auth() })
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json()
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}

describe('case export', () => {
  it('streams every listed case as CSV with a header row, parsed back by a real CSV parser', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/v1/cases/export?format=csv', headers: auth('reader-secret-key') })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present')
    expect(res.headers['content-disposition']).toBe('attachment; filename="cases-20261101T000000Z.csv"')
    expect(res.body.endsWith('\r\n')).toBe(true)
    const rows: Array<Record<string, string>> = parse(res.body, { columns: true })
    const listed = await listAll('')
    expect(rows.length).toBe(listed.length)
    expect(rows.length).toBeGreaterThan(300)
    expect(rows.map(r => r.id)).toEqual(listed.map(c => c.id))
    const byId = new Map(listed.map(c => [c.id, c]))
    for (const row of rows) {
      const c = byId.get(row.id)!
      expect(row.targetValue).toBe(csvCell(c.target.value).replace(/^"|"$/g, '').replaceAll('""', '"'))
      expect(row.status).toBe(c.status)
      expect(row.createdAt).toBe(c.createdAt)
      expect(row.terminal).toBe(String(c.terminal))
    }
  })

  it('applies the listing filters and writes NDJSON, one case a line', async () => {
    const query = 'provider=phishfort,bforeai&status=in_progress,taken_down&targetType=url'
    const res = await gw.app.inject({ method: 'GET', url: `/v1/cases/export?format=ndjson&${query}`, headers: auth() })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8')
    expect(res.headers['content-disposition']).toMatch(/filename="cases-\w+\.ndjson"/)
    const lines = res.body.split('\n')
    expect(lines.pop()).toBe('')
    const cases = lines.map(l => JSON.parse(l))
    expect(cases).toEqual(await listAll(query))
    expect(cases.length).toBeGreaterThan(0)
    for (const c of cases) {
      expect(['phishfort', 'bforeai']).toContain(c.provider)
      expect(['in_progress', 'taken_down']).toContain(c.status)
    }
  })

  it('neutralises a formula that came from vendor data', async () => {
    const created = await gw.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth(),
      payload: {
        provider: 'cloudflare',
        target: { type: 'url', value: 'https://formula-test.example.org/' },
        brand: { name: '=HYPERLINK("x")' },
        providerOptions: CLOUDFLARE_REPORT_OPTIONS
      }
    })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json().brand.name).toBe('=HYPERLINK("x")')
    const res = await gw.app.inject({ method: 'GET', url: '/v1/cases/export?provider=cloudflare&q=formula-test', headers: auth() })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain(',"\'=HYPERLINK(""x"")",')
    const [row] = parse(res.body, { columns: true }) as Array<Record<string, string>>
    expect(row!.brandName).toBe('\'=HYPERLINK("x")')
  })

  it('quotes and neutralises cells per RFC 4180 and the OWASP list', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"\r\nbye')).toBe('"say ""hi""\r\nbye"')
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}1+1`).startsWith(`'${lead}`) || csvCell(`${lead}1+1`).startsWith(`"'${lead}`)).toBe(true)
    expect(csvCell(-5)).toBe('-5')
    expect(csvCell(null)).toBe('')
    expect(csvCell(true)).toBe('true')
  })

  it('answers a bad filter or failing providers with a problem, before any byte of the file', async () => {
    const bad = await gw.app.inject({ method: 'GET', url: '/v1/cases/export?format=xlsx', headers: auth() })
    expect(bad.statusCode).toBe(400)
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/)
    const badProvider = await gw.app.inject({ method: 'GET', url: '/v1/cases/export?provider=acme', headers: auth() })
    expect(badProvider.statusCode).toBe(400)

    gw.sandbox.running.bforeai.sim.faults.add({ status: 500, times: 50 })
    try {
      const res = await gw.app.inject({ method: 'GET', url: '/v1/cases/export', headers: auth() })
      expect(res.statusCode).toBeGreaterThanOrEqual(502)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json()).toMatchObject({ provider: 'bforeai' })
      expect(res.json().detail).toMatch(/export stopped/)
    } finally {
      gw.sandbox.running.bforeai.sim.faults.clear()
    }
  })

  it('pulls the next batch only when the reader has taken the previous one (backpressure)', async () => {
    let pulled = 0
    async function * batches (): AsyncGenerator<Array<{ n: number }>> {
      for (let i = 0; i < 1000; i++) {
        pulled++
        yield Array.from({ length: 100 }, (_, n) => ({ n: i * 100 + n }))
      }
    }
    const stream = tabularStream(batches(), 'csv', [{ header: 'n', get: r => r.n }])
    // a stalled client: a socket-like sink that takes one chunk and then nothing
    let release: (() => void) | null = null
    const sink = new Writable({ highWaterMark: 1024, write (_chunk, _enc, done) { release = done } })
    stream.pipe(sink)
    await new Promise(resolve => setTimeout(resolve, 100))
    // one batch being written, one queued in the sink, one in the stream's buffer, one the walk is preparing: of 1,000
    expect(pulled).toBeLessThanOrEqual(4)
    // the client reads again: the walk goes on to the end
    let rows = 0
    const finished = new Promise(resolve => sink.on('finish', resolve))
    sink._write = (chunk: Buffer, _enc, done) => { rows += chunk.toString().split('\r\n').length - 1; done() }
    ;(release as (() => void) | null)?.()
    await finished
    expect(pulled).toBe(1000)
    expect(rows).toBeGreaterThan(99_000)
  })

  it('writes case-change events from any async iterable with the event columns', async () => {
    const listed = await listAll('provider=phishfort')
    const c = listed[0]!
    async function * log (): AsyncGenerator<ExportEvent[]> {
      yield [{ id: '1-0', type: 'case.created', sequence: 1, occurredAt: null, observedAt: '2026-11-01T00:00:00.000Z', observedVia: 'poll', case: c as ExportEvent['case'], previous: null }]
      yield [{ id: '2-0', type: 'case.status_changed', sequence: 2, occurredAt: '2026-11-01T01:00:00.000Z', observedAt: '2026-11-01T01:05:00.000Z', observedVia: 'webhook', case: { ...c, target: { ...c.target, value: '@evil' } } as ExportEvent['case'], previous: { status: 'received', providerStatus: 'pending_review' } }]
    }
    let text = ''
    for await (const chunk of tabularStream(log(), 'csv', EVENT_COLUMNS)) text += String(chunk)
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>
    expect(rows.map(r => [r.id, r.type, r.caseId, r.sequence, r.previousStatus, r.observedVia])).toEqual([
      ['1-0', 'case.created', c.id, '1', '', 'poll'],
      ['2-0', 'case.status_changed', c.id, '2', 'received', 'webhook']
    ])
    expect(rows[1]!.targetValue).toBe("'@evil")
    expect(attachment('events', 'ndjson', Date.parse('2026-11-30T01:02:03.456Z'))).toBe('attachment; filename="events-20261130T010203Z.ndjson"')
  })

  it('needs a gateway key', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/v1/cases/export' })
    expect(res.statusCode).toBe(401)
  })
})
