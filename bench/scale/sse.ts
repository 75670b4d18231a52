/**
 * SSE at size: N stream clients (bench/scale/sse-clients.ts, a process of their own) on one replica listening on
 * loopback, events appended at a steady rate through the observe step; measured: delivery delay from append to the
 * client p50 / p99, and the replica's RSS before the clients, with them connected, and after the events.
 */
import { systemClock } from '../../src/clock.js'
import type { Sandbox } from '../../src/simulators/sandbox.js'
import { readyLine, startProcess, stopProcess } from '../procs.js'
import { scaleCase, templates } from './cases.js'
import { cpuMs, fmt, gateway, KEY, rssMb, type Row } from './env.js'

export async function sseSection (o: { redisUrl: string, prefix: string, sandbox: Sandbox, clients: number, events: number, ratePerSecond: number }): Promise<Row[]> {
  const gw = await gateway({ redisUrl: o.redisUrl, prefix: o.prefix, clock: systemClock, sandbox: o.sandbox })
  try {
    const tpl = await templates(gw.app)
    await gw.app.listen({ port: 0, host: '127.0.0.1' })
    const port = (gw.app.server.address() as { port: number }).port
    const before = rssMb()
    // the bench's cases carry this tag in their ids; the clients count only their events (scaleCase, sse-clients.ts)
    const tag = `sse${process.pid}`
    const clients = startProcess('sse-clients', process.execPath, ['--import', 'tsx', 'bench/scale/sse-clients.ts', `http://127.0.0.1:${port}/v1/events/stream`, KEY, String(o.clients), String(o.events), `:${tag}-`], {
      env: process.env, cwd: process.cwd(), stdout: 'pipe'
    })
    try {
      await readyLine(clients, 120_000)
      const connected = rssMb()
      const done = new Promise<{ received: number, complete: number, failed: number, p50: number, p99: number, max: number }>((resolve, reject) => {
        let buf = ''
        clients.child.stdout?.on('data', (chunk: string) => {
          buf += chunk
          for (const line of buf.split('\n')) if (line.startsWith('{"done"')) resolve(JSON.parse(line))
        })
        clients.exited.then(code => reject(new Error(`the stream clients exited (${code}) before they reported\n${clients.stderrTail()}`)), () => {})
      })
      const c0 = cpuMs()
      const every = 1000 / o.ratePerSecond
      const t0 = performance.now()
      for (let k = 0; k < o.events; k++) {
        const wait = t0 + k * every - performance.now()
        if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
        gw.app.events.service.observe(scaleCase(tpl, tag, k, 0), 'poll', false).catch((err: unknown) => { console.error(`append failed: ${(err as Error).message}`) })
      }
      const timer = setTimeout(() => { clients.child.kill('SIGUSR2') }, 60_000)
      const r = await done
      clearTimeout(timer)
      const after = rssMb()
      const cpuPerDelivery = (cpuMs() - c0) * 1000 / Math.max(1, r.received)
      const deliveries = o.clients * o.events
      return [
        { section: 'SSE', metric: `delivery append → client p50 / p99 (${fmt(o.clients)} clients, ${o.events} events at ${o.ratePerSecond}/s)`, target: 'p99 ≤ 250 ms', measured: `${r.p50} / ${r.p99} ms (max ${r.max}); ${fmt(r.received)}/${fmt(deliveries)} delivered${r.failed > 0 ? `, ${r.failed} failed` : ''}; ${fmt(cpuPerDelivery, 1)} µs replica CPU per delivery`, met: r.p99 <= 250 && r.received === deliveries },
        { section: 'SSE', metric: 'replica RSS: before → clients connected → after the events', target: '', measured: `${fmt(before)} → ${fmt(connected)} → ${fmt(after)} MB (+${fmt(connected - before)} MB connected, ${fmt((connected - before) * 1024 / o.clients, 1)} KB per client)`, met: null }
      ]
    } finally {
      await stopProcess(clients, 2000)
    }
  } finally {
    await gw.close()
  }
}
