/**
 * The simulator's submissions: each is an operation that is RUNNING until its review is due on the simulator clock,
 * then done with the outcome its URL scripts (the fake's convention, not Google's): `benign` → CLOSED
 * (NO_THREAT_DETECTED), `fail` → FAILED (code 13), `stuck` → RUNNING for ever, `malware` → SUCCEEDED ["MALWARE"],
 * anything else → SUCCEEDED ["SOCIAL_ENGINEERING"]. `decide` (the `/__sim` hook) settles one at once.
 */
import type { Clock } from '../../clock.js'

export type Outcome = 'SUCCEEDED' | 'CLOSED' | 'FAILED' | 'CANCELLED' | 'RUNNING'

export interface SimOperation {
  id: string
  uri: string
  abuseType: string
  createdAt: number
  /** when the review ends (null: never) */
  decideAt: number | null
  outcome: Outcome
}

/** how long a review takes on the simulator clock (Google's is undocumented; "within about a day") */
export const REVIEW_MS = 5 * 60_000
/** the project number every operation name carries, whatever project id the request named */
export const PROJECT_NUMBER = '508138417679'

export function outcomeOf (uri: string): Outcome {
  if (uri.includes('benign')) return 'CLOSED'
  if (uri.includes('fail')) return 'FAILED'
  if (uri.includes('stuck')) return 'RUNNING'
  return 'SUCCEEDED'
}

/** RFC 3339 with 6 fractional digits, as Google writes them */
function googleTime (ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z')
}

export class OperationStore {
  readonly clock: Clock
  readonly #ops = new Map<string, SimOperation>()
  #next = 11895063640312853845n
  #sorted: SimOperation[] | null = null

  constructor (clock: Clock) {
    this.clock = clock
  }

  add (uri: string, abuseType: string, createdAt = this.clock.now(), outcome = outcomeOf(uri)): SimOperation {
    this.#next += 7919n
    const review = REVIEW_MS / (this.clock.speed ?? 1)
    const op: SimOperation = { id: this.#next.toString(), uri, abuseType, createdAt, decideAt: outcome === 'RUNNING' ? null : createdAt + review, outcome }
    this.#ops.set(op.id, op)
    this.#sorted = null
    return op
  }

  get (id: string): SimOperation | undefined { return this.#ops.get(id) }

  /** settles an operation now with this outcome */
  decide (op: SimOperation, outcome: Outcome): void {
    op.outcome = outcome
    op.decideAt = outcome === 'RUNNING' ? null : this.clock.now()
  }

  /** newest first (ties by id, descending); kept until the next submission */
  all (): SimOperation[] {
    // ids are issued in increasing order and of equal length, so their string order is their numeric order
    this.#sorted ??= [...this.#ops.values()].sort((a, b) => b.createdAt - a.createdAt || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0))
    return this.#sorted
  }

  /** google.longrunning.Operation of one submission now */
  wire (op: SimOperation): Record<string, unknown> {
    const now = this.clock.now()
    const done = op.decideAt !== null && now >= op.decideAt
    const state = done ? op.outcome : 'RUNNING'
    const metadata: Record<string, unknown> = {
      '@type': 'type.googleapis.com/google.cloud.webrisk.v1.SubmitUriMetadata',
      state,
      createTime: googleTime(op.createdAt),
      updateTime: googleTime(done ? (op.decideAt as number) : op.createdAt)
    }
    const out: Record<string, unknown> = { name: `projects/${PROJECT_NUMBER}/operations/${op.id}`, metadata, done }
    if (!done) return out
    if (state === 'SUCCEEDED') {
      const threat = op.uri.includes('malware') || op.abuseType === 'MALWARE' ? 'MALWARE' : 'SOCIAL_ENGINEERING'
      out.response = { '@type': 'type.googleapis.com/google.cloud.webrisk.v1.Submission', uri: op.uri, threatTypes: [threat] }
    } else if (state === 'CLOSED') {
      metadata.closedReason = 'NO_THREAT_DETECTED'
    } else if (state === 'FAILED') {
      out.error = { code: 13, message: 'Internal error.' }
    } else if (state === 'CANCELLED') {
      out.error = { code: 1, message: 'Operation cancelled.' }
    }
    return out
  }
}
