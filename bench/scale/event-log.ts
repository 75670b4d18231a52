/**
 * The event log on Redis: appends per second (the observe step every source goes through: compare, record, log,
 * timeline, snapshot, and the milestone row its listener writes), Redis memory per tracked case over the bench's own
 * keys (MEMORY USAGE), and what trimming by time costs (the same appends once the whole log is past its retention).
 */
import type { Redis } from 'ioredis'
import type { ManualClock } from '../../src/clock.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { scaleCase, STEPS, templates } from './cases.js'
import { cpuMs, fmt, gateway, memoryOf, writeCalls, type Row } from './env.js'

const CONCURRENCY = 64

/** observe steps for cases [from, to) at `step`, CONCURRENCY at a time; returns appends per second */
async function appendAll (observe: (k: number) => Promise<unknown>, from: number, to: number): Promise<number> {
  let next = from
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < to) await observe(next++)
  }))
  return (to - from) / ((performance.now() - t0) / 1000)
}

async function settled (raw: Redis, pattern: string): Promise<{ bytes: number, keys: number }> {
  // the milestone rows are written by a listener after each observe step: wait until they stop moving
  let last = await memoryOf(raw, pattern)
  for (let i = 0; i < 50; i++) {
    await new Promise(resolve => setTimeout(resolve, 200))
    const now = await memoryOf(raw, pattern)
    if (now.bytes === last.bytes && now.keys === last.keys) return now
    last = now
  }
  return last
}

export async function eventLogSection (o: { redisUrl: string, prefix: string, clock: ManualClock, sandbox: Sandbox, raw: Redis, cases: number }): Promise<Row[]> {
  const gw = await gateway({ redisUrl: o.redisUrl, prefix: o.prefix, clock: o.clock, sandbox: o.sandbox })
  try {
    const tpl = await templates(gw.app)
    const service = gw.app.events.service
    const tag = `el${process.pid}`
    let events = 0
    const observe = (step: number) => async (k: number): Promise<void> => {
      if (await service.observe(scaleCase(tpl, tag, k, step), 'poll', false) !== null) events++
    }
    // each tracked case: created, moved on, taken down (three events, as a typical case's life in the log)
    const rates: number[] = []
    const c0 = cpuMs()
    const w0 = writeCalls()
    for (let step = 0; step < STEPS.length; step++) rates.push(await appendAll(observe(step), 0, o.cases))
    const cpuPerAppend = (cpuMs() - c0) * 1000 / (STEPS.length * o.cases)
    const writesPerAppend = (writeCalls() - w0) / (STEPS.length * o.cases)
    const recorded = events
    // the same cases observed again unchanged: what most observe steps of a watcher's sync are
    const u0 = cpuMs()
    const unchangedRate = await appendAll(observe(STEPS.length - 1), 0, o.cases)
    const cpuPerUnchanged = (cpuMs() - u0) * 1000 / o.cases
    const rate = (STEPS.length * o.cases) / rates.reduce((a, r) => a + o.cases / r, 0)
    const ev = `${o.prefix}tgw:v1:{ev}:`
    const snap = await memoryOf(o.raw, `${ev}snap:${'*'}`)
    // a timeline: a list per case (`line:`), or a stream per case (`tl:`) as written before
    const lines = await memoryOf(o.raw, `${ev}line:${'*'}`)
    const streams = await memoryOf(o.raw, `${ev}tl:${'*'}`)
    const tl = { bytes: lines.bytes + streams.bytes }
    const ms = await settled(o.raw, `${o.prefix}tgw:v1:ms:*`)
    const open = await memoryOf(o.raw, `${ev}open`)
    // the target index the targets feature writes per recorded event (not in the target above; the bench's cases
    // share the 100 templates' hosts, so its host and domain sets are fewer and larger than a real programme's)
    const index = await memoryOf(o.raw, `${o.prefix}tgw:v1:tgt:*`)
    const log = await memoryOf(o.raw, `${ev}log`)
    const perCase = (snap.bytes + tl.bytes + ms.bytes + open.bytes) / o.cases
    const xlen = await o.raw.xlen(`${ev}log`)

    // trimming: the clock past the retention, the same number of new cases appended; each XADD trims with MINID ~
    o.clock.advance(gw.eventStore.o.retention.retentionMs + 86_400_000)
    const trimmedRate = await appendAll(observe(0), o.cases, 2 * o.cases)
    const xlenAfter = await o.raw.xlen(`${ev}log`)
    return [
      { section: 'event log', metric: `appends per second (observe step, ${CONCURRENCY} at a time, ${fmt(recorded)} events)`, target: '≥ 5,000/s', measured: `${fmt(rate)}/s (created ${fmt(rates[0]!)}, changed ${fmt(rates[1]!)}, terminal ${fmt(rates[2]!)}); ${fmt(cpuPerAppend)} µs CPU per append; ${fmt(writesPerAppend, 1)} write system calls per append`, met: rate >= 5000 },
      { section: 'event log', metric: 'observe steps of unchanged cases per second (a watcher\'s sync)', target: '', measured: `${fmt(unchangedRate)}/s; ${fmt(cpuPerUnchanged)} µs CPU each`, met: null },
      { section: 'event log', metric: `Redis per tracked case (${fmt(o.cases)} cases, 3 events each)`, target: '≤ 1.5 KB', measured: `${fmt(perCase / 1024, 2)} KB: snapshot ${fmt(snap.bytes / o.cases)} B, timeline ${fmt(tl.bytes / o.cases)} B, analytics row ${fmt(ms.bytes / o.cases)} B, open set ${fmt(open.bytes / o.cases)} B`, met: perCase <= 1536 },
      { section: 'event log', metric: 'target index per tracked case (targets feature, besides the above)', target: '', measured: `${fmt(index.bytes / o.cases)} B`, met: null },
      { section: 'event log', metric: 'global log per event (kept for the retention)', target: '', measured: `${fmt(log.bytes / Math.max(1, xlen))} B (${fmt(xlen)} entries)`, met: null },
      { section: 'event log', metric: 'appends per second while trimming (whole log past retention)', target: '', measured: `${fmt(trimmedRate)}/s; log ${fmt(xlen)} → ${fmt(xlenAfter)} entries`, met: null }
    ]
  } finally {
    await gw.close()
  }
}
