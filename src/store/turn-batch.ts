/**
 * Background writes of many callers in one socket write: the commands queued during one turn of the event loop leave
 * as one ioredis pipeline when the turn ends (setImmediate). For the work each recorded event sets off (its milestone
 * row, its target index entries, its service-level timers): with 64 events recorded at once, one write each turn
 * instead of several per event; on loopback every write is a system call that also runs Redis's side of TCP.
 *
 * Only the writes queued here wait for the end of the turn: a request's reads on the same client are sent at once
 * as before (this is not ioredis auto-pipelining, which holds every command of the client). A pipeline is not a
 * transaction; each command keeps its own result, error and command timeout. On a Cluster the keys of one pipeline
 * must share a slot, so there each command is sent on its own.
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis'

interface Queued {
  name: string
  args: Array<string | number | Buffer>
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

type Sender = (...args: Array<string | number | Buffer>) => Promise<unknown>

export class TurnBatch {
  readonly #client: Redis | Cluster
  #queued: Queued[] = []
  #scheduled = false

  constructor (client: Redis | Cluster) {
    this.#client = client
  }

  /**
   * Sends command `name` (a Redis command, or a script the client defines with defineCommand; a `…Buffer` variant for
   * Buffer replies) with the others queued in this turn; resolves to its reply.
   */
  async send<T> (name: string, ...args: Array<string | number | Buffer>): Promise<T> {
    if (this.#client.isCluster) return await (this.#client as unknown as Record<string, Sender>)[name]!.apply(this.#client, args) as T
    return await new Promise<T>((resolve, reject) => {
      this.#queued.push({ name, args, resolve: resolve as (value: unknown) => void, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => { this.#flush() })
      }
    })
  }

  #flush (): void {
    const queued = this.#queued
    this.#queued = []
    this.#scheduled = false
    const p = this.#client.pipeline() as unknown as ChainableCommander & Record<string, Sender | undefined>
    const sent: Queued[] = []
    for (const q of queued) {
      const command = p[q.name]
      if (typeof command === 'function') {
        command.apply(p, q.args)
        sent.push(q)
      } else {
        q.reject(new Error(`no Redis command ${q.name}`))
      }
    }
    if (sent.length === 0) return
    p.exec().then(results => {
      sent.forEach((q, i) => {
        const [err, value] = results?.[i] ?? [new Error('no reply in the pipeline'), null]
        if (err !== null) q.reject(err); else q.resolve(value)
      })
    }, (err: Error) => { for (const q of sent) q.reject(err) })
  }
}

const batches = new WeakMap<Redis | Cluster, TurnBatch>()

/** the one batch of a client (every store on the same client shares its socket writes) */
export function turnBatch (client: Redis | Cluster): TurnBatch {
  let b = batches.get(client)
  if (b === undefined) {
    b = new TurnBatch(client)
    batches.set(client, b)
  }
  return b
}
