/**
 * Verification at size: N monitored cases on one replica (the monitor and its Redis store), their targets on loopback
 * fixture sites reached through an injected resolver (every name answers 127.0.0.1; nothing leaves the machine).
 * Measured: probes per second the replica sustains (probe, classify, history and record written: the monitor's
 * probeNow), Redis memory per monitored case (its record and due-set entry, each probe's history entry, and one case's
 * history filled to VERIFY_HISTORY_LIMIT), and what the schedule costs a day for N cases at the configured cadence.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ManualClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config.js'
import type { DnsResolver } from '../../src/features/verification/resolver.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { cpuMs, fmt, gateway, memoryOf, type Row } from './env.js'
import type { Redis } from 'ioredis'

const SITES = 4
const CONCURRENCY = 32
const DAY = 86_400_000

/** a phishing-kit sized login page (~12 KB) */
const PAGE = '<!doctype html><html><head><title>Acme Bank - Sign in</title></head><body><form action="/login" method="post">' +
  '<label>Customer number</label><input name="user"><label>Password</label><input type="password" name="pass">' +
  `${'<p>Secure online banking: sign in to review your accounts, payments and statements.</p>'.repeat(140)}</form></body></html>`

const perDayOf = (cases: number, everyMs: number): number => cases * DAY / everyMs

const loopbackResolver: DnsResolver = {
  resolve4: async () => ['127.0.0.1'],
  resolve6: async () => [],
  resolveCname: async () => []
}

export async function probesSection (o: { redisUrl: string, prefix: string, clock: ManualClock, sandbox: Sandbox, raw: Redis, cases: number, probes: number }): Promise<Row[]> {
  const sites: Server[] = []
  for (let i = 0; i < SITES; i++) {
    const s = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE) })
    await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
    sites.push(s)
  }
  const gw = await gateway({ redisUrl: o.redisUrl, prefix: o.prefix, clock: o.clock, sandbox: o.sandbox, app: { verifyResolver: loopbackResolver } })
  try {
    const { monitor } = gw.app.verification
    const created = new Date(o.clock.now()).toISOString()
    const ids: string[] = []
    for (let k = 0; k < o.cases; k++) {
      const port = (sites[k % SITES]!.address() as AddressInfo).port
      ids.push(`phishfort:scale-v${k}`)
      await monitor.track({ id: ids[k]!, provider: 'phishfort', target: { type: 'url', value: `http://login-${k}.acme-scale.test:${port}/signin` }, createdAt: created })
    }
    const vf = `${o.prefix}tgw:v1:verify:{vf}:`
    const tracked = await memoryOf(o.raw, `${vf}*`)

    // probes: the first cases, CONCURRENCY at a time
    const n = Math.min(o.probes, o.cases)
    let next = 0
    let failed = 0
    const t0 = performance.now()
    const c0 = cpuMs()
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const check = await monitor.probeNow(ids[next++]!)
        if (check?.outcome !== 'live') failed++
      }
    }))
    const secs = (performance.now() - t0) / 1000
    const cpuPerProbe = (cpuMs() - c0) / n
    const probed = await memoryOf(o.raw, `${vf}*`)
    const perCheck = (probed.bytes - tracked.bytes) / n

    const c = loadConfig({ SANDBOX: 'true' }).verify
    const limit = c.historyLimit
    // one case's history filled to the limit (and one more, so the oldest is trimmed): bytes per check in a full list
    for (let i = 1; i <= limit; i++) { o.clock.advance(60_000); await monitor.probeNow(ids[0]!) }
    const full = Number(await o.raw.call('MEMORY', 'USAGE', `${vf}checks:${ids[0]!}`, 'SAMPLES', '0'))
    const recordBytes = Number(await o.raw.call('MEMORY', 'USAGE', `${vf}case:${ids[0]!}`, 'SAMPLES', '0'))
    const historyDays = Math.min(limit, perDayOf(o.cases, c.openIntervalMs) / o.cases * 30)
    const perDay = o.cases * DAY / c.openIntervalMs
    const ticks = DAY / c.tickMs
    return [
      { section: 'verification', metric: `probes per second, one replica (${fmt(n)} probes, ${CONCURRENCY} at a time, ${SITES} loopback sites)`, target: `≥ ${fmt(c.probesPerMinute / 60, 1)}/s (VERIFY_PROBES_PER_MINUTE ${c.probesPerMinute})`, measured: `${fmt(n / secs)}/s, ${fmt(cpuPerProbe, 2)} ms CPU per probe (fixture sites included)${failed > 0 ? `; ${failed} not live` : ''}`, met: failed === 0 && n / secs >= c.probesPerMinute / 60 },
      { section: 'verification', metric: 'Redis per monitored case: record + due entry, + per check kept', target: '', measured: `${fmt(tracked.bytes / o.cases)} B + ${fmt(perCheck)} B for a first check; a full history (${limit}, VERIFY_HISTORY_LIMIT) ${fmt(full)} B (${fmt(full / limit)} B per check), record ${fmt(recordBytes)} B: ${fmt((tracked.bytes / o.cases + full) / 1024, 1)} KB per case; expires VERIFY_RETENTION_DAYS (${c.retentionDays}) after its verification ends`, met: null },
      { section: 'verification', metric: `schedule for ${fmt(o.cases)} monitored cases, a day`, target: `≤ ${fmt(c.probesPerMinute * 60 * 24)} probes (the budget)`, measured: `${fmt(perDay)} probes (every ${c.openIntervalMs / 3_600_000} h), ${fmt(ticks)} ticks per replica (one repeatable job, no per-case timer); ${fmt((tracked.bytes + full / limit * o.cases * historyDays) / 1024 / 1024, 1)} MB in Redis after 30 days`, met: perDay <= c.probesPerMinute * 60 * 24 }
    ]
  } finally {
    await gw.close()
    for (const s of sites) { s.closeAllConnections(); await new Promise(resolve => s.close(resolve)) }
  }
}
