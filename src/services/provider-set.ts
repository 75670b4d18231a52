/**
 * The providers this process serves: mode, connector and per-provider settings. Built once at start-up
 * (providers/build.ts) and shared by every service.
 */
import type { Clock } from '../clock.js'
import type { ConnectorContext, ProviderConnector } from '../connectors/connector.js'
import { ConnectorError } from '../domain/connector-error.js'
import { deadlineScope, type CancelSignal } from '../connectors/deadline.js'
import { GatewayError } from '../domain/problems.js'
import type { Logger } from '../logger.js'
import { PROVIDER_IDS, type ProviderId } from '../schemas/provider.js'
import type { NativeIdShapes } from '../connectors/native-ids.js'
import { parseCaseId } from '../domain/case-id.js'
import { parseDetectionId } from '../domain/detection-id.js'

export type ProviderMode = 'live' | 'sandbox' | 'off'

export interface ProviderEntry {
  readonly id: ProviderId
  readonly mode: ProviderMode
  readonly connector: ProviderConnector | null
  readonly timeoutMs: number
  lastError: { at: string, kind: string, message: string } | null
  /** what to suggest when a client asks for something the vendor cannot do (from the provider's module) */
  readonly hints?: { readonly cancel?: string }
  /** circuit breaker state (connectors/resilience.ts); absent = closed */
  readonly circuit?: () => 'closed' | 'open' | 'half_open'
  /** a configuration error the provider's calls revealed (its list route answers 404); null or absent = none */
  readonly configError?: () => string | null
  /** why an `off` provider is off (e.g. "ACME_API_KEY is unset") */
  readonly offReason?: string
  /** the shapes of the provider's native ids (its module's `ids`): anything else is a 404 with no vendor call */
  readonly ids: NativeIdShapes
}

/** "acme (ACME_API_KEY is unset)": an off provider with its reason, the words of the warning and the problems. */
export function describeOff (entry: ProviderEntry): string {
  return `${entry.id} (${entry.offReason ?? 'no credentials'})`
}

export class ProviderSet {
  readonly #entries: Map<ProviderId, ProviderEntry>
  readonly #howToTurnOn: (id: ProviderId) => string
  readonly #clock: Clock

  /**
   * `howToTurnOn`: what an operator sets to turn a provider on (providers/registry.ts knows the variables); `clock`
   * dates each provider's last failure.
   */
  constructor (entries: ProviderEntry[], howToTurnOn: (id: ProviderId) => string, clock: Clock) {
    this.#entries = new Map(entries.map(e => [e.id, e]))
    this.#howToTurnOn = howToTurnOn
    this.#clock = clock
  }

  /** How to turn on the providers that are off, in one sentence. */
  turnOnHint (off: ReadonlyArray<Pick<ProviderEntry, 'id'>>): string {
    return `${off.map(e => this.#howToTurnOn(e.id)).join(', or ')} and restart (or SANDBOX=true for the built-in simulators); GET /v1/providers shows each provider's mode`
  }

  all (): ProviderEntry[] {
    return PROVIDER_IDS.map(id => this.#entries.get(id)).filter((e): e is ProviderEntry => e !== undefined)
  }

  /** Providers that can be called (live or sandbox), in PROVIDER_IDS order. */
  active (): Array<ProviderEntry & { connector: ProviderConnector }> {
    return this.all().filter((e): e is ProviderEntry & { connector: ProviderConnector } => e.connector !== null)
  }

  /**
   * The providers a listing reads; a 503 problem naming what is missing when none is on (an empty 200 would read as
   * "nothing there").
   */
  requireSome (): Array<ProviderEntry & { connector: ProviderConnector }> {
    const active = this.active()
    if (active.length > 0) return active
    const off = this.all()
    throw new GatewayError('GW_ERR_UNAVAILABLE', `No provider is on in this gateway: ${off.map(describeOff).join(', ')}. To turn one on, ${this.turnOnHint(off)}`)
  }

  /** A case id whose native part has the shape its provider declares; null → 404, no vendor call. */
  resolveCaseId (id: string): ReturnType<typeof parseCaseId> {
    const parsed = parseCaseId(id)
    return parsed !== null && this.#entries.get(parsed.provider)?.ids.case.test(parsed.providerCaseId) === true ? parsed : null
  }

  /** A detection id whose native part has the shape its provider declares for that kind; null → 404, no vendor call. */
  resolveDetectionId (id: string): ReturnType<typeof parseDetectionId> {
    const parsed = parseDetectionId(id)
    return parsed !== null && this.#entries.get(parsed.provider)?.ids.detections[parsed.kind]?.test(parsed.nativeId) === true ? parsed : null
  }

  get (id: ProviderId): ProviderEntry | undefined {
    return this.#entries.get(id)
  }

  /** The connector of a provider a write is aimed at; 422 when the provider is off. */
  require (id: ProviderId): ProviderConnector {
    const entry = this.#entries.get(id)
    if (entry?.connector == null) {
      throw new GatewayError('GW_ERR_PROVIDER_OFF', `Provider ${entry === undefined ? id : describeOff(entry)} is off; to turn it on, ${this.turnOnHint([{ id }])}`, { provider: id })
    }
    return entry.connector
  }

  /** the provider's own timeout (its `<ID>_TIMEOUT_MS`), the default deadline of withContext */
  timeoutOf (id: ProviderId): number {
    return this.#entries.get(id)?.timeoutMs ?? 10000
  }

  /**
   * Runs one vendor operation in a context whose deadline is the provider's timeout, also ended by the parent signal
   * (client gone, shutdown). The context's timer and listener are released when `fn` settles.
   */
  async withContext<T> (id: ProviderId, parent: CancelSignal, log: Logger, fn: (ctx: ConnectorContext) => Promise<T>, timeoutMs?: number,
    budget?: ConnectorContext['budget']): Promise<T> {
    const scope = deadlineScope(parent, timeoutMs ?? this.timeoutOf(id))
    try {
      return await fn(budget === undefined ? { signal: scope.signal, deadline: scope.deadline, log } : { signal: scope.signal, deadline: scope.deadline, log, budget })
    } finally {
      scope.end()
    }
  }

  /** Remembers the last failure per provider for GET /v1/providers. */
  recordError (id: ProviderId, err: unknown): void {
    const entry = this.#entries.get(id)
    if (entry === undefined) return
    const kind = err instanceof ConnectorError ? err.kind : 'internal'
    const message = err instanceof Error ? err.message : String(err)
    entry.lastError = { at: new Date(this.#clock.now()).toISOString(), kind, message }
  }
}
