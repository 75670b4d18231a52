import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Value } from 'typebox/value'
import { BatchItemPageSchema, BatchPlanSchema, BatchSchema, type Batch, type BatchItem } from '../../src/schemas/batch.js'
import { ProblemSchema } from '../../src/schemas/problem.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { keys } from '../../src/store/keys.js'
import { RedisKvStore } from '../../src/store/redis-kv-store.js'
import { auth, CLOUDFLARE_REPORT_OPTIONS, testGateway, type TestGateway } from '../support/app.js'
import { waitFor } from '../support/wait.js'

let gw: TestGateway
beforeAll(async () => { gw = await testGateway({ store: 'redis', env: { BATCH_CONCURRENCY: '2' } }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { for (const id of PROVIDER_IDS) gw.sandbox.running[id].sim.faults.clear() })

let unique = 0
const url = (): string => `https://batch-acme-${Date.now().toString(36)}-${unique++}.example.net/login`

const post = async (path: string, payload: unknown, headers: Record<string, string> = {}) =>
  await gw.app.inject({ method: 'POST', url: path, headers: { ...auth(), ...headers }, payload: payload as Record<string, unknown> })
const get = async (path: string) => await gw.app.inject({ method: 'GET', url: path, headers: auth() })

function creates (provider: ProviderId): number {
  let n = 0
  for (const [key, count] of gw.sandbox.running[provider].sim.stats.counts) {
    if (/^POST .*(incident\/(tkd|monitor)$|takedown\/(request|social-media)$|abuse-reports\/:)/.test(key)) n += count
  }
  return n
}
const allCreates = (): number => PROVIDER_IDS.reduce((n, id) => n + creates(id), 0)

async function settled (id: string): Promise<Batch> {
  return await waitFor(`batch ${id} settled`, async () => {
    const batch = (await get(`/v1/batches/${id}`)).json<Batch>()
    return batch.counts.pending === 0 && batch
  }, { timeoutMs: 20_000, stepMs: 50 })
}

async function allItems (id: string, outcome?: string): Promise<BatchItem[]> {
  const out: BatchItem[] = []
  let cursor: string | null = null
  do {
    const q = new URLSearchParams({ limit: '7', ...(outcome === undefined ? {} : { outcome }), ...(cursor === null ? {} : { cursor }) })
    const res = await get(`/v1/batches/${id}/items?${q.toString()}`)
    expect(res.statusCode).toBe(200)
    const page = res.json<{ items: BatchItem[], nextCursor: string | null }>()
    expect(Value.Check(BatchItemPageSchema, page)).toBe(true)
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return out
}

function csvForm (csv: string, defaults?: unknown): { payload: string, headers: Record<string, string> } {
  const boundary = '----batch-test-boundary'
  const parts = [`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="targets.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n`]
  if (defaults !== undefined) parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="defaults"\r\n\r\n${JSON.stringify(defaults)}\r\n`)
  return { payload: parts.join('') + `--${boundary}--\r\n`, headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** a form of raw file bytes and a raw `defaults` text */
function fileForm (file: Buffer, defaults?: string): { payload: Buffer, headers: Record<string, string> } {
  const boundary = '----batch-bytes-boundary'
  const parts = [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="targets.csv"\r\nContent-Type: text/csv\r\n\r\n`), file, Buffer.from('\r\n')]
  if (defaults !== undefined) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="defaults"\r\n\r\n${defaults}\r\n`))
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

describe('POST /v1/batches (JSON)', () => {
  it('accepts a batch over three vendors with 202 and Location, and works every item off through the single-create path', async () => {
    const before = { phishfort: creates('phishfort'), bforeai: creates('bforeai'), cloudflare: creates('cloudflare') }
    const targets = [url(), url(), url()]
    const res = await post('/v1/batches', {
      defaults: { comment: 'kit hunt', brand: { id: 501, name: 'Acme Bank' } },
      items: [
        { provider: 'phishfort', target: { type: 'url', value: targets[0] } },
        { provider: 'bforeai', target: { type: 'url', value: targets[1] } },
        { provider: 'cloudflare', target: { type: 'url', value: targets[2] }, providerOptions: CLOUDFLARE_REPORT_OPTIONS },
        { provider: 'phishfort', target: { type: 'email', value: `billing-${unique++}@acme-payments.example` } }
      ]
    })
    expect(res.statusCode).toBe(202)
    const batch = res.json<Batch>()
    expect(Value.Check(BatchSchema, batch)).toBe(true)
    expect(res.headers.location).toBe(`/v1/batches/${batch.id}`)
    expect(batch.total).toBe(4)

    const done = await settled(batch.id)
    expect(done.status).toBe('completed')
    expect(done.counts).toEqual({ created: 4, duplicate: 0, failed: 0, cancelled: 0, pending: 0 })
    expect(done.completedAt).not.toBeNull()
    expect({ phishfort: creates('phishfort'), bforeai: creates('bforeai'), cloudflare: creates('cloudflare') })
      .toEqual({ phishfort: before.phishfort + 2, bforeai: before.bforeai + 1, cloudflare: before.cloudflare + 1 })

    const items = await allItems(batch.id)
    expect(items.map(i => i.outcome)).toEqual(['created', 'created', 'created', 'created'])
    expect(items.map(i => i.provider)).toEqual(['phishfort', 'bforeai', 'cloudflare', 'phishfort'])
    // the case each item names is the vendor's case for that target
    for (const item of items) {
      const c = await get(`/v1/cases/${encodeURIComponent(item.caseId ?? '')}`)
      expect(c.statusCode).toBe(200)
      expect(c.json<{ target: { value: string } }>().target.value).toContain(item.target.value.replace(/\/login$/, ''))
    }
  })

  it('lists every invalid item by index and field path with 400, and sends nothing', async () => {
    const before = allCreates()
    const res = await post('/v1/batches', {
      items: [
        { provider: 'phishfort', target: { type: 'url', value: url() } },
        { provider: 'phishfort', target: { type: 'url', value: 'ftp://files.acme-leak.example/kit.zip' } },
        { provider: 'bforeai', target: { type: 'url', value: url() }, brand: { id: 501 } },
        { target: { type: 'phone', value: '555-0100' } },
        { provider: 'phishfort', target: { type: 'url', value: url() }, colour: 'red' }
      ]
    })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
    const problem = res.json<{ errors: Array<{ path: string }>, detail: string, requestId: string }>()
    expect(Value.Check(ProblemSchema, problem)).toBe(true)
    expect(problem.requestId).not.toBe('')
    expect(problem.errors.map(e => e.path).sort()).toEqual(['/items/1/target/value', '/items/2/comment', '/items/3/target/value', '/items/4/colour'])
    expect(problem.detail).toMatch(/^4 of 5 items are invalid, nothing was sent/)
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(allCreates()).toBe(before)
  })

  it('with skipInvalid accepts the valid items and reports the rejected ones', async () => {
    const res = await post('/v1/batches?skipInvalid=true', {
      defaults: { provider: 'phishfort' },
      items: [{ target: { type: 'url', value: url() } }, { target: { type: 'url', value: 'ftp://x.example/' } }, { target: { type: 'domain', value: `acme-${unique++}.example.org` } }]
    })
    expect(res.statusCode).toBe(202)
    const batch = res.json<Batch>()
    expect(batch.total).toBe(2)
    expect(batch.rejected).toEqual([{ index: 1, row: null, errors: [{ path: '/target/value', message: 'must use http or https' }] }])
    const done = await settled(batch.id)
    expect(done.counts.created).toBe(2)
    expect((await allItems(batch.id)).map(i => i.index)).toEqual([0, 2])
  })

  it('folds duplicate targets inside one batch and names open cases the vendor already has', async () => {
    const existing = await post('/v1/cases', { provider: 'phishfort', target: { type: 'url', value: url() }, comment: 'filed earlier' })
    expect(existing.statusCode).toBe(201)
    const existingCase = existing.json<{ id: string, target: { value: string } }>()
    const before = creates('phishfort')
    const twice = url()
    const res = await post('/v1/batches', {
      defaults: { provider: 'phishfort' },
      items: [
        { target: { type: 'url', value: twice } },
        { target: { type: 'url', value: twice.replace('https://batch-acme', 'https://BATCH-ACME') } },
        { target: { type: 'url', value: existingCase.target.value } }
      ]
    })
    expect(res.statusCode).toBe(202)
    const done = await settled(res.json<Batch>().id)
    expect(done.counts).toEqual({ created: 1, duplicate: 2, failed: 0, cancelled: 0, pending: 0 })
    expect(creates('phishfort')).toBe(before + 1)
    const dups = await allItems(done.id, 'duplicate')
    expect(dups.map(d => [d.index, d.duplicateOf, d.existing])).toEqual([[1, 0, null], [2, null, existingCase.id]])
  })

  it('answers the plan per item with dryRun and stores and sends nothing', async () => {
    const before = allCreates()
    const target = url()
    const res = await post('/v1/batches?dryRun=true', {
      items: [{ target: { type: 'url', value: target } }, { target: { type: 'email', value: 'x@acme-pay.example' } }, { target: { type: 'url', value: target } }]
    })
    expect(res.statusCode).toBe(200)
    const plan = res.json<{ items: Array<{ index: number, duplicateOf: number | null, plan: { provider: string, routedBy: string, request: { path: string } } }> }>()
    expect(Value.Check(BatchPlanSchema, plan)).toBe(true)
    expect(plan.items.map(i => [i.index, i.plan.provider, i.plan.routedBy, i.duplicateOf])).toEqual([
      [0, 'phishfort', 'rule', null], [1, 'phishfort', 'rule', null], [2, 'phishfort', 'rule', 0]
    ])
    expect(plan.items[0]?.plan.request.path).toBe('/v1/incident/tkd')
    expect(allCreates()).toBe(before)
  })

  it('replays the same batch for the same Idempotency-Key and body, and refuses another body', async () => {
    const body = { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: url() } }] }
    const key = `batch-key-${unique++}`
    const first = await post('/v1/batches', body, { 'idempotency-key': key })
    const second = await post('/v1/batches', body, { 'idempotency-key': key })
    expect(first.statusCode).toBe(202)
    expect(second.statusCode).toBe(202)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(second.json<Batch>().id).toBe(first.json<Batch>().id)
    const other = await post('/v1/batches', { ...body, items: [{ target: { type: 'url', value: url() } }] }, { 'idempotency-key': key })
    expect(other.statusCode).toBe(422)
    await settled(first.json<Batch>().id)
  })

  it('records a vendor failure as a failed item with the problem', async () => {
    gw.sandbox.running.phishfort.sim.faults.add({ method: 'POST', path: 'incident/tkd$', status: 400 })
    const res = await post('/v1/batches', { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: url() } }] })
    const done = await settled(res.json<Batch>().id)
    expect(done.counts.failed).toBe(1)
    const [item] = await allItems(done.id)
    expect(item?.problem).toMatchObject({ status: 422, code: 'GW_ERR_PROVIDER_REJECTED', provider: 'phishfort', providerStatus: 400 })
  })

  it('retries an item the vendor refused with 429 (nothing was created) and creates it once', async () => {
    gw.sandbox.running.phishfort.sim.faults.add({ method: 'POST', path: 'incident/tkd$', status: 429, retryAfter: 1, times: 1 })
    const target = url()
    const res = await post('/v1/batches', { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: target } }] })
    const done = await settled(res.json<Batch>().id)
    expect(done.counts).toMatchObject({ created: 1, failed: 0 })
    const found = await get(`/v1/cases?provider=phishfort&q=${encodeURIComponent(new URL(target).hostname)}`)
    expect(found.json<{ items: unknown[] }>().items).toHaveLength(1)
  })

  it('retries a create PhishFort answered 503 with Retry-After after the wait, and files the case once', async () => {
    gw.sandbox.running.phishfort.sim.faults.add({ method: 'POST', path: 'incident/tkd$', status: 503, retryAfter: 1, times: 1 })
    const before = creates('phishfort')
    const target = url()
    const res = await post('/v1/batches', { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: target } }] })
    const done = await settled(res.json<Batch>().id)
    expect(done.counts).toMatchObject({ created: 1, failed: 0 })
    // the 503 and the create that followed it
    expect(creates('phishfort')).toBe(before + 2)
    const found = await get(`/v1/cases?provider=phishfort&q=${encodeURIComponent(new URL(target).hostname)}`)
    expect(found.json<{ items: unknown[] }>().items).toHaveLength(1)
  })

  it('needs the write scope to submit or cancel and the read scope to look', async () => {
    const body = { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: url() } }] }
    expect((await gw.app.inject({ method: 'POST', url: '/v1/batches', headers: auth('reader-secret-key'), payload: body })).statusCode).toBe(403)
    expect((await gw.app.inject({ method: 'POST', url: '/v1/batches', payload: body })).statusCode).toBe(401)
    const res = await post('/v1/batches', body)
    const id = res.json<Batch>().id
    expect((await gw.app.inject({ method: 'GET', url: `/v1/batches/${id}`, headers: auth('reader-secret-key') })).statusCode).toBe(200)
    expect((await gw.app.inject({ method: 'POST', url: `/v1/batches/${id}/cancel`, headers: auth('reader-secret-key') })).statusCode).toBe(403)
    await settled(id)
  })

  it('refuses more items than BATCH_MAX_ITEMS with 413, an unknown batch with 404 and a foreign cursor with 400', async () => {
    const big = await post('/v1/batches', { items: Array.from({ length: 1001 }, () => ({ target: { type: 'url', value: url() } })) })
    expect(big.statusCode).toBe(413)
    expect((await get('/v1/batches/b_nosuchbatch00')).statusCode).toBe(404)
    const res = await post('/v1/batches', { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: url() } }] })
    const id = res.json<Batch>().id
    expect((await get(`/v1/batches/${id}/items?cursor=i999`)).statusCode).toBe(400)
    await settled(id)
  })
})

describe('POST /v1/batches (CSV)', () => {
  /** 20 data rows (lines 2-21); line 17 holds an ftp:// URL */
  function csvWithBadRow17 (): string {
    const lines = ['target,type,comment']
    for (let line = 2; line <= 21; line++) {
      if (line === 17) lines.push('ftp://files.acme-leak.example/kit.zip,,kit download')
      else if (line % 5 === 0) lines.push(`"acme-${unique++}.example.org",domain,"lookalike, registered yesterday"`)
      else lines.push(`${url()},,phishing page`)
    }
    return lines.join('\r\n') + '\r\n'
  }

  it('names row 17 when it holds an ftp:// URL, and sends nothing', async () => {
    const before = allCreates()
    const form = csvForm(csvWithBadRow17(), { provider: 'phishfort' })
    const res = await gw.app.inject({ method: 'POST', url: '/v1/batches', ...form })
    expect(res.statusCode).toBe(400)
    const problem = res.json<{ errors: Array<{ path: string, message: string }>, detail: string }>()
    expect(problem.errors).toEqual([{ path: '/rows/17/target/value', message: 'must use http or https' }])
    expect(problem.detail).toContain('row 17:')
    expect(allCreates()).toBe(before)
  })

  it('with skipInvalid accepts the other 19 rows and reports row 17 in rejected', async () => {
    const form = csvForm(csvWithBadRow17(), { provider: 'phishfort' })
    const res = await gw.app.inject({ method: 'POST', url: '/v1/batches?skipInvalid=true', ...form })
    expect(res.statusCode).toBe(202)
    const batch = res.json<Batch>()
    expect(batch.total).toBe(19)
    expect(batch.rejected).toEqual([{ index: 15, row: 17, errors: [{ path: '/target/value', message: 'must use http or https' }] }])
    const done = await settled(batch.id)
    expect(done.counts.created).toBe(19)
    const items = await allItems(batch.id)
    expect(items.map(i => i.row)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21])
    expect(items.find(i => i.row === 5)?.target).toMatchObject({ type: 'domain' })
  })

  it('refuses a CSV without a target column or with an unknown column', async () => {
    for (const [csv, path] of [['url\nhttps://a.example/\n', '/file/header'], ['target,colour\nhttps://a.example/,red\n', '/file/header/colour']] as const) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/batches', ...csvForm(csv) })
      expect(res.statusCode).toBe(400)
      expect(res.json<{ errors: Array<{ path: string }> }>().errors[0]?.path).toBe(path)
    }
  })

  it('answers a 953,819-row CSV with 413 as soon as row 1,001 arrives', async () => {
    const rows = Array.from({ length: 953_819 }, (_v, i) => `a${i}.io`)
    const file = Buffer.from(`target\n${rows.join('\n')}\n`)
    expect(file.length).toBeGreaterThan(10_000_000)
    const res = await gw.app.inject({ method: 'POST', url: '/v1/batches', ...fileForm(file) })
    expect(res.statusCode).toBe(413)
    expect(res.json<{ detail: string }>().detail).toContain('at most 1000 items (BATCH_MAX_ITEMS) and this CSV has more rows (line 1002 is row 1001)')
  })

  it('checks the defaults field like a JSON body: 50,000 levels deep is a 400, in a dry run and in a submit; over the field size a 413', async () => {
    const before = allCreates()
    const deep = '{"providerOptions":' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + '}'
    for (const q of ['?dryRun=true', '']) {
      const res = await gw.app.inject({ method: 'POST', url: `/v1/batches${q}`, ...fileForm(Buffer.from(`target\n${url()}\n`), deep) })
      expect(res.statusCode).toBe(400)
      expect(res.json<{ errors: Array<{ path: string }> }>().errors).toEqual([{ path: '/defaults', message: 'nests more than 32 levels' }])
    }
    // a value longer than a form field may be is a 413, not JSON cut short
    const long = await gw.app.inject({ method: 'POST', url: '/v1/batches', ...fileForm(Buffer.from(`target\n${url()}\n`), JSON.stringify({ comment: 'x'.repeat(1_100_000) })) })
    expect(long.statusCode).toBe(413)
    expect(long.json<{ detail: string }>().detail).toBe('The "defaults" field may hold at most 1048576 bytes')
    expect(allCreates()).toBe(before)
  })

  it('reads UTF-8 with or without a byte-order mark and UTF-16 by its byte-order mark, keeping "café" intact', async () => {
    const csv = `target,comment\n${url()},café phishing kit\n`
    const utf16be = Buffer.from(`\ufeff${csv}`, 'utf16le').swap16()
    for (const file of [Buffer.from(csv), Buffer.from(`\ufeff${csv}`), Buffer.from(`\ufeff${csv}`, 'utf16le'), utf16be]) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/batches?dryRun=true', ...fileForm(file, '{"provider":"phishfort"}') })
      expect(res.statusCode).toBe(200)
      const plan = res.json<{ items: Array<{ row: number, plan: { request: { body: unknown } } }> }>()
      expect(plan.items.map(i => i.row)).toEqual([2])
      expect(JSON.stringify(plan.items[0]?.plan.request.body)).toContain('café phishing kit')
    }
  })

  it('refuses a Latin-1 byte with 400 naming its line and byte offset, and sends nothing', async () => {
    const before = allCreates()
    const head = Buffer.from(`target,comment\n${url()},kit\n${url()},caf`)
    const file = Buffer.concat([head, Buffer.from([0xe9]), Buffer.from(' kit\n')])
    const res = await gw.app.inject({ method: 'POST', url: '/v1/batches', ...fileForm(file, '{"provider":"phishfort"}') })
    expect(res.statusCode).toBe(400)
    const problem = res.json<{ detail: string, errors: Array<{ path: string, message: string }> }>()
    expect(problem.errors).toEqual([{ path: '/file/rows/3', message: `has the byte 0xE9 at byte offset ${head.length}, which is not UTF-8` }])
    expect(problem.detail).toContain('line 3')
    expect(allCreates()).toBe(before)
  })

  it('reads semicolon- and tab-separated files, and names the separator it read when no target column is found', async () => {
    for (const sep of [';', '\t']) {
      const targets = [url(), url()]
      const file = Buffer.from(['target', 'comment'].join(sep) + '\n' + targets.map(t => [t, 'kit, with a comma'].join(sep)).join('\n') + '\n')
      const res = await gw.app.inject({ method: 'POST', url: '/v1/batches?dryRun=true', ...fileForm(file, '{"provider":"phishfort"}') })
      expect(res.statusCode).toBe(200)
      expect(res.json<{ items: unknown[] }>().items).toHaveLength(2)
    }
    const res = await gw.app.inject({ method: 'POST', url: '/v1/batches', ...fileForm(Buffer.from(`target|comment\n${url()}|kit\n`)) })
    expect(res.statusCode).toBe(400)
    expect(res.json<{ detail: string }>().detail).toContain('(read as comma-separated: "target|comment")')
  })
})

describe('batch workers', () => {
  it('leaves an item another worker holds, and adopts the case an interrupted attempt created instead of filing a second one', async () => {
    // an attempt that died after sending: the vendor has the case, the item is still pending with its sent marker
    const target = url()
    const made = await post('/v1/cases', { provider: 'phishfort', target: { type: 'url', value: target }, comment: 'sent by the attempt that died' })
    const caseId = made.json<{ id: string }>().id
    const res = await post('/v1/batches?dryRun=true', { items: [{ provider: 'phishfort', target: { type: 'url', value: target } }] })
    expect(res.statusCode).toBe(200)
    const id = 'b_interruptedbatch01'
    const now = gw.clock.now()
    await gw.store.set(keys.batch(id, 'item:0'), JSON.stringify({
      index: 0,
      row: null,
      body: { provider: 'phishfort', target: { type: 'url', value: target } },
      provider: 'phishfort',
      outcome: 'pending',
      caseId: null,
      existing: null,
      duplicateOf: null,
      problem: null,
      attempts: 0,
      updatedAt: now
    }), { ttlMs: 60_000 })
    await gw.store.set(keys.batch(id), JSON.stringify({ id, createdBy: 'ops', createdAt: now, expiresAt: now + 60_000, total: 1, folded: 0, rejected: [] }), { ttlMs: 60_000 })
    await gw.store.set(keys.batch(id, 'sent:0'), String(now), { ttlMs: 60_000 })
    const before = creates('phishfort')
    // while another worker holds the item's claim, this one leaves it and looks again later
    await gw.store.set(keys.batch(id, 'claim:0'), 'another-worker', { ttlMs: 60_000 })
    expect(await gw.app.batches.runItem({ batchId: id, index: 0 })).toMatchObject({ retryInMs: expect.any(Number) })
    await gw.store.del(keys.batch(id, 'claim:0'))
    expect(await gw.app.batches.runItem({ batchId: id, index: 0 })).toBeNull()
    expect(creates('phishfort')).toBe(before)
    const [item] = await allItems(id)
    expect(item).toMatchObject({ outcome: 'created', caseId })
    expect((await get(`/v1/batches/${id}`)).json<Batch>().status).toBe('completed')
  })

  it('cancels the pending items of a running batch', async () => {
    // slow vendor: the two workers are busy while the cancel arrives
    gw.sandbox.running.phishfort.sim.faults.add({ method: 'POST', path: 'incident/tkd$', latencyMs: 300 })
    const res = await post('/v1/batches', { defaults: { provider: 'phishfort' }, items: Array.from({ length: 8 }, () => ({ target: { type: 'url', value: url() } })) })
    const id = res.json<Batch>().id
    const cancelled = await post(`/v1/batches/${id}/cancel`, {})
    expect(cancelled.statusCode).toBe(200)
    expect(cancelled.json<Batch>().status).toBe('cancelled')
    const done = await settled(id)
    expect(done.status).toBe('cancelled')
    expect(done.counts.cancelled).toBeGreaterThanOrEqual(4)
    expect(done.counts.created + done.counts.cancelled).toBe(8)
    // cancelling again changes nothing
    expect((await post(`/v1/batches/${id}/cancel`, {})).json<Batch>().counts).toEqual(done.counts)
  })
})

describe('batch answers that are not the store\'s fault', () => {
  it('answers a batch record that does not parse with 500, never with "the batch store is unreachable"', async () => {
    const id = 'b_unreadablebatch01'
    await gw.store.set(keys.batch(id), '{"id":"b_unreadablebatch01","total":', { ttlMs: 60_000 })
    const res = await get(`/v1/batches/${id}`)
    expect(res.statusCode).toBe(500)
    expect(res.json<{ code: string, detail: string }>()).toMatchObject({ code: 'GW_ERR_INTERNAL' })
    expect(res.json<{ detail: string }>().detail).not.toContain('unreachable')
  })

  it('still answers 503 with Retry-After when the store is down', async () => {
    const down = new RedisKvStore('redis://127.0.0.1:1', { keyPrefix: 'down:', retryStrategy: () => null })
    const mem = await testGateway({ appOptions: { store: down } })
    try {
      const submitted = await mem.app.inject({ method: 'POST', url: '/v1/batches', headers: auth(), payload: { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: url() } }] } })
      const read = await mem.app.inject({ method: 'GET', url: '/v1/batches/b_somebatch0001', headers: auth() })
      for (const res of [submitted, read]) {
        expect(res.statusCode).toBe(503)
        expect(res.headers['retry-after']).toBe('1')
        expect(res.json<{ detail: string }>().detail).toMatch(/^The batch store is unreachable/)
      }
    } finally {
      await mem.close()
      await down.close()
    }
  })
})

describe('batch retention', () => {
  it('keeps a batch BATCH_RETENTION_DAYS, then answers 404', async () => {
    const mem = await testGateway({ env: { BATCH_RETENTION_DAYS: '2' } })
    try {
      const res = await mem.app.inject({ method: 'POST', url: '/v1/batches', headers: auth(), payload: { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: url() } }] } })
      const batch = res.json<Batch>()
      expect(batch.expiresAt).toBe(new Date(mem.clock.now() + 2 * 86_400_000).toISOString())
      mem.clock.advance(2 * 86_400_000 - 1000)
      expect((await mem.app.inject({ method: 'GET', url: `/v1/batches/${batch.id}`, headers: auth() })).statusCode).toBe(200)
      mem.clock.advance(2000)
      const gone = await mem.app.inject({ method: 'GET', url: `/v1/batches/${batch.id}/items`, headers: auth() })
      expect(gone.statusCode).toBe(404)
      expect(gone.json<{ detail: string }>().detail).toContain('kept 2 days')
    } finally {
      await mem.close()
    }
  })
})

describe('GET /v1/batches', () => {
  let own: TestGateway
  const ALICE = 'alice-batch-key-0123456789abcdef'
  const BOB = 'bob-batch-key-0123456789abcdefgh'
  beforeAll(async () => { own = await testGateway({ store: 'redis', env: { GATEWAY_API_KEYS: `alice:${ALICE}:read+write,bob:${BOB}:read+write` } }) })
  afterAll(async () => { await own.close() })
  const as = async (key: string, method: 'GET' | 'POST', path: string, payload?: unknown) =>
    await own.app.inject({ method, url: path, headers: auth(key), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
  const submit = async (key: string): Promise<string> => {
    const res = await as(key, 'POST', '/v1/batches', { defaults: { provider: 'phishfort' }, items: [{ target: { type: 'url', value: url() } }] })
    expect(res.statusCode, res.body).toBe(202)
    return res.json<Batch>().id
  }

  it('lists the calling key\'s batches newest first, page by page, and filters by status', async () => {
    const submitted: string[] = []
    for (let i = 0; i < 4; i++) submitted.push(await submit(ALICE))
    // the last one stays pending (the vendor answers 429 for a minute), then is cancelled
    own.sandbox.running.phishfort.sim.faults.add({ method: 'POST', path: 'incident/tkd$', status: 429, retryAfter: 60 })
    const stuck = await submit(ALICE)
    submitted.push(stuck)
    expect((await as(ALICE, 'POST', `/v1/batches/${stuck}/cancel`)).json<Batch>().status).toBe('cancelled')
    const bobs = await submit(BOB)

    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await as(ALICE, 'GET', `/v1/batches?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json<{ items: Batch[], nextCursor: string | null }>()
      for (const b of page.items) expect(Value.Check(BatchSchema, b)).toBe(true)
      seen.push(...page.items.map(b => b.id))
      cursor = page.nextCursor
      pages++
    } while (cursor !== null && pages < 10)
    expect(seen).toEqual([...submitted].reverse())
    expect(pages).toBe(3)

    const cancelled = (await as(ALICE, 'GET', '/v1/batches?status=cancelled')).json<{ items: Batch[] }>().items
    expect(cancelled.map(b => b.id)).toEqual([stuck])
    const bobList = (await as(BOB, 'GET', '/v1/batches')).json<{ items: Batch[], nextCursor: string | null }>()
    expect(bobList).toMatchObject({ items: [{ id: bobs, createdBy: 'bob' }], nextCursor: null })
    const bad = await as(ALICE, 'GET', '/v1/batches?cursor=i3')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().code).toBe('GW_ERR_BAD_CURSOR')
    expect((await as(ALICE, 'GET', '/v1/batches?status=done')).json().errors[0].message).toMatch(/queued, running, completed, cancelled/)
  })
})
