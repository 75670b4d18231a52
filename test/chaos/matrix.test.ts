/**
 * Chaos matrix: every vendor × fault × operation (list, get, create) through the real gateway, the simulators and
 * our TCP proxy. Each cell checks the gateway's answer (status, problem code, the provider named, `partial` for
 * lists), that nothing turns into a 500, and that a create reaches the vendor exactly as often as the client sent
 * it. The expected-vs-observed table goes to test-artifacts/chaos-table.md.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { FaultRule } from '../../src/simulators/faults.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { PROVIDER_IDS, type ProviderId } from '../../src/schemas/provider.js'
import { auth } from '../support/app.js'
import { chaosGateway, writeArtifact, type ChaosGateway } from '../support/chaos.js'
import type { ProxyMode } from '../support/tcp-proxy.js'

const TIMEOUT_MS = 1500
const ENV = {
  ...Object.fromEntries(PROVIDER_IDS.map(id => [`${id.toUpperCase()}_TIMEOUT_MS`, String(TIMEOUT_MS)])),
  // the matrix looks at single faults; the breaker has its own tests (test/connectors/resilience.test.ts)
  CIRCUIT_FAILURE_THRESHOLD: '1000'
}

type Op = 'list' | 'get' | 'create'
const OPS: Op[] = ['list', 'get', 'create']

interface Expected {
  status: number
  code?: string
  /** list: status of the failed provider's entry in `errors` (absent = no error) */
  errStatus?: number
  retryAfter?: string
  /** create: vendor submit requests the simulator received */
  attempts?: number
}

interface Fault {
  name: string
  /** sets the fault for one operation's method */
  arm: (gw: ChaosGateway, vendor: ProviderId, method: 'GET' | 'POST') => void
  expect: Record<Op, Expected>
  /** create: how many times the client sends the create (a client retry after a 503) */
  creates?: number
}

const sim = (rule: Omit<FaultRule, 'method'>) => (gw: ChaosGateway, vendor: ProviderId, method: string) => {
  gw.sims.running[vendor].sim.faults.add({ ...rule, method })
}
const proxy = (mode: ProxyMode) => (gw: ChaosGateway, vendor: ProviderId, method: string) => {
  gw.proxies[vendor].mode = { ...mode, method } as ProxyMode
}

const UNAVAILABLE = 'GW_ERR_PROVIDER_UNAVAILABLE'
const TIMEOUT = 'GW_ERR_PROVIDER_TIMEOUT'
const ERROR = 'GW_ERR_PROVIDER_ERROR'

const FAULTS: Fault[] = [
  {
    name: '429 + Retry-After: 30',
    arm: sim({ status: 429, retryAfter: 30 }),
    expect: {
      list: { status: 200, errStatus: 503 },
      get: { status: 503, code: UNAVAILABLE, retryAfter: '30' },
      create: { status: 503, code: UNAVAILABLE, retryAfter: '30', attempts: 1 }
    }
  },
  {
    name: '503 burst, then recovery (reads: 2×, create: 1× then client retry)',
    arm: (gw, vendor, method) => { gw.sims.running[vendor].sim.faults.add({ method, status: 503, times: method === 'GET' ? 2 : 1 }) },
    expect: {
      list: { status: 200 },
      get: { status: 200 },
      create: { status: 201, attempts: 2 }
    },
    creates: 2
  },
  {
    name: `hang past the deadline (${TIMEOUT_MS} ms)`,
    arm: sim({ hang: true }),
    expect: {
      list: { status: 200, errStatus: 504 },
      get: { status: 504, code: TIMEOUT },
      create: { status: 504, code: TIMEOUT, attempts: 1 }
    }
  },
  {
    name: 'malformed JSON (200)',
    arm: sim({ malformed: true }),
    expect: {
      list: { status: 200, errStatus: 502 },
      get: { status: 502, code: ERROR },
      create: { status: 502, code: ERROR, attempts: 1 }
    }
  },
  {
    name: 'connection reset before any answer',
    arm: sim({ reset: true }),
    expect: {
      list: { status: 200, errStatus: 503 },
      get: { status: 503, code: UNAVAILABLE },
      create: { status: 503, code: UNAVAILABLE, attempts: 1 }
    }
  },
  {
    name: 'connection reset mid-response (proxy, after 60 bytes)',
    arm: proxy({ kind: 'reset', afterBytes: 60 }),
    expect: {
      list: { status: 200, errStatus: 503 },
      get: { status: 503, code: UNAVAILABLE },
      create: { status: 503, code: UNAVAILABLE, attempts: 1 }
    }
  },
  {
    name: 'slow drip within the deadline (proxy, 512 B / 10 ms)',
    arm: proxy({ kind: 'drip', chunkBytes: 512, intervalMs: 10 }),
    expect: {
      list: { status: 200 },
      get: { status: 200 },
      create: { status: 201, attempts: 1 }
    }
  },
  {
    // slow enough that even an answer of a status line and headers alone (~180 B, a plain-text body) misses the deadline
    name: 'slow drip past the deadline (proxy, 16 B / 200 ms)',
    arm: proxy({ kind: 'drip', chunkBytes: 16, intervalMs: 200 }),
    expect: {
      list: { status: 200, errStatus: 504 },
      get: { status: 504, code: TIMEOUT },
      create: { status: 504, code: TIMEOUT, attempts: 1 }
    }
  }
]

let unique = 0
function createBody (vendor: ProviderId): Record<string, unknown> {
  const target = { type: 'url', value: `https://login-acme-${Date.now().toString(36)}-${unique++}.example.net/secure` }
  return PROVIDER_MODULES[vendor].exampleCreate({ type: 'url', value: target.value })
}

/** vendor submit requests (the create endpoints) the simulator received */
function submits (gw: ChaosGateway, vendor: ProviderId): number {
  const stats = gw.sims.running[vendor].sim.stats
  return PROVIDER_MODULES[vendor].submitRoutes.reduce((n, route) => n + (stats.counts.get(route) ?? 0), 0)
}

interface Observed { status: number, code: string | null, provider: string | null, errStatus: number | null, partial: boolean | null, retryAfter: string | null, attempts: number | null, ms: number, otherItems: boolean }

const rows: string[][] = []

async function runCell (gw: ChaosGateway, vendor: ProviderId, fault: Fault, op: Op, caseId: string): Promise<Observed> {
  const method = op === 'create' ? 'POST' : 'GET'
  fault.arm(gw, vendor, method)
  const before = submits(gw, vendor)
  const started = Date.now()
  let res
  try {
    if (op === 'list') {
      res = await gw.app.inject({ method: 'GET', url: '/v1/cases?limit=20', headers: auth() })
    } else if (op === 'get') {
      res = await gw.app.inject({ method: 'GET', url: `/v1/cases/${encodeURIComponent(caseId)}`, headers: auth() })
    } else {
      const sends = fault.creates ?? 1
      for (let i = 0; i < sends; i++) {
        res = await gw.app.inject({ method: 'POST', url: '/v1/cases', headers: auth(), payload: createBody(vendor) })
        if (res.statusCode < 300) break
      }
    }
  } finally {
    gw.sims.running[vendor].sim.faults.clear()
    gw.proxies[vendor].mode = { kind: 'pass' }
  }
  const ms = Date.now() - started
  const r = res!
  const body = r.json() as Record<string, unknown>
  const errors = Array.isArray(body.errors) ? body.errors as Array<{ provider: string, status: number }> : []
  const mine = errors.find(e => e.provider === vendor)
  const items = Array.isArray(body.items) ? body.items as Array<{ provider: string }> : []
  return {
    status: r.statusCode,
    code: typeof body.code === 'string' ? body.code : null,
    provider: typeof body.provider === 'string' ? body.provider : (mine?.provider ?? null),
    errStatus: mine?.status ?? null,
    partial: typeof body.partial === 'boolean' ? body.partial : null,
    retryAfter: typeof r.headers['retry-after'] === 'string' ? r.headers['retry-after'] : null,
    attempts: op === 'create' ? submits(gw, vendor) - before : null,
    ms,
    otherItems: items.some(i => i.provider !== vendor)
  }
}

function describeExpected (e: Expected, op: Op): string {
  if (op === 'list') return e.errStatus === undefined ? '200, partial: false' : `200, partial: true, errors[${e.errStatus}]`
  return [String(e.status), e.code, e.retryAfter === undefined ? undefined : `Retry-After ${e.retryAfter}`, e.attempts === undefined ? undefined : `${e.attempts} submit(s)`].filter(Boolean).join(', ')
}

function describeObserved (o: Observed, op: Op): string {
  if (op === 'list') return o.partial === true ? `${o.status}, partial: true, errors[${o.errStatus ?? '?'}]` : `${o.status}, partial: ${String(o.partial)}`
  return [String(o.status), o.code, o.retryAfter === null ? undefined : `Retry-After ${o.retryAfter}`, o.attempts === null ? undefined : `${o.attempts} submit(s)`].filter(Boolean).join(', ')
}

const VENDORS: readonly ProviderId[] = PROVIDER_IDS

describe.concurrent('chaos matrix: vendor × fault × operation', () => {
  for (const vendor of VENDORS) {
    it(`${vendor}: every fault gives the documented answer, never a 500, never a repeated create`, async () => {
      const gw = await chaosGateway(ENV)
      try {
        // warm-up (first connections, JIT) while one gateway per vendor starts at once on two cores
        let first = await gw.app.inject({ method: 'GET', url: `/v1/cases?provider=${vendor}&limit=1`, headers: auth() })
        for (let i = 0; i < 4 && first.statusCode !== 200; i++) {
          first = await gw.app.inject({ method: 'GET', url: `/v1/cases?provider=${vendor}&limit=1`, headers: auth() })
        }
        expect(first.statusCode).toBe(200)
        const caseId = first.json().items[0].id as string
        const failures: string[] = []
        for (const fault of FAULTS) {
          for (const op of OPS) {
            const want = fault.expect[op]
            const got = await runCell(gw, vendor, fault, op, caseId)
            const problems: string[] = []
            if (got.status === 500) problems.push('unexpected 500')
            if (got.status !== want.status) problems.push(`status ${got.status} ≠ ${want.status}`)
            if (want.code !== undefined && got.code !== want.code) problems.push(`code ${String(got.code)} ≠ ${want.code}`)
            if (want.code !== undefined && got.provider !== vendor) problems.push(`provider ${String(got.provider)} not named`)
            if (want.retryAfter !== undefined && got.retryAfter !== want.retryAfter) problems.push(`Retry-After ${String(got.retryAfter)} ≠ ${want.retryAfter}`)
            if (op === 'list') {
              const partial = want.errStatus !== undefined
              if (got.partial !== partial) problems.push(`partial ${String(got.partial)} ≠ ${String(partial)}`)
              if (partial && got.errStatus !== want.errStatus) problems.push(`errors[].status ${String(got.errStatus)} ≠ ${want.errStatus}`)
              if (!got.otherItems) problems.push('no items from the other vendors')
            }
            if (want.attempts !== undefined && got.attempts !== want.attempts) problems.push(`submits ${String(got.attempts)} ≠ ${want.attempts}`)
            const ok = problems.length === 0
            rows.push([vendor, fault.name, op, describeExpected(want, op), describeObserved(got, op), `${got.ms}`, ok ? 'ok' : `FAIL: ${problems.join('; ')}`])
            if (!ok) failures.push(`${vendor} / ${fault.name} / ${op}: ${problems.join('; ')}`)
          }
        }
        expect(failures).toEqual([])
      } finally {
        await gw.close()
      }
    }, 60_000)
  }
})

afterAll(() => {
  const order = (v: string): number => VENDORS.indexOf(v as ProviderId)
  const faultOrder = (f: string): number => FAULTS.findIndex(x => x.name === f)
  rows.sort((a, b) => order(a[0]!) - order(b[0]!) || faultOrder(a[1]!) - faultOrder(b[1]!) || OPS.indexOf(a[2] as Op) - OPS.indexOf(b[2] as Op))
  writeArtifact('chaos-table.md', 'Chaos matrix: expected vs observed', ['vendor', 'fault', 'op', 'expected', 'observed', 'ms', 'result'], rows, [
    `Deadline per vendor call: ${TIMEOUT_MS} ms. list = GET /v1/cases?limit=20 (every vendor, one faulted); get = GET /v1/cases/{id}; create = POST /v1/cases.`,
    'Reads are retried (max 2, backoff with jitter, Retry-After honoured when it fits the deadline); writes are never repeated once they may have reached the vendor.',
    '"submit(s)" = create requests the vendor simulator received for the client\'s create(s).'
  ])
})
