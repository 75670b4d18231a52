/**
 * The stream clients of the scale bench's SSE section, in a process of their own (their sockets and parsing are not
 * the gateway's memory or CPU): N connections to GET /v1/events/stream, each counting its events and the delay from
 * the event's observedAt (the moment the gateway recorded it) to arrival. Prints `{"ready":true}` once every stream
 * is open, and `{"done":true,...}` with the delays once every client has `expect` events (or on SIGUSR2). With `match`,
 * only the events whose message holds it are counted: the replica's own watcher appends events of its sandbox's cases
 * to the same stream, and those are not the bench's.
 *
 * argv: url key clients expect [match]
 */
import { request } from 'node:http'

const [url = '', key = '', clientsArg = '1000', expectArg = '0', match = ''] = process.argv.slice(2)
const CLIENTS = Number(clientsArg)
const EXPECT = Number(expectArg)
const OBSERVED = /"observedAt":"([^"]+)"/

const delays: number[] = []
const counts = new Array<number>(CLIENTS).fill(0)
let open = 0
let complete = 0
let failed = 0

function report (): void {
  delays.sort((a, b) => a - b)
  const q = (p: number): number => delays[Math.min(delays.length - 1, Math.max(0, Math.ceil(p * delays.length) - 1))] ?? -1
  process.stdout.write(JSON.stringify({ done: true, received: delays.length, complete, failed, p50: q(0.5), p99: q(0.99), max: q(1) }) + '\n')
  process.exit(0)
}

for (let i = 0; i < CLIENTS; i++) {
  const req = request(url, { agent: false, headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } }, res => {
    if (res.statusCode !== 200) { failed++; res.resume(); return }
    res.setEncoding('utf8')
    let buf = ''
    let first = true
    res.on('data', (chunk: string) => {
      if (first) {
        first = false
        if (++open === CLIENTS) process.stdout.write('{"ready":true}\n')
      }
      buf += chunk
      let end: number
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const message = buf.slice(0, end)
        buf = buf.slice(end + 2)
        const m = OBSERVED.exec(message)
        if (m === null || !message.includes(match)) continue
        delays.push(Date.now() - Date.parse(m[1] as string))
        if (++counts[i]! === EXPECT && ++complete === CLIENTS) report()
      }
    })
  })
  req.on('error', () => { failed++ })
  req.end()
}
process.on('SIGUSR2', report)
