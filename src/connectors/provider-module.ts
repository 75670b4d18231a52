/**
 * Everything the gateway knows about one vendor, declared once in the vendor's folder (`connectors/<id>/provider.ts`)
 * and registered with one line in providers/registry.ts. Configuration, the ENV_VARS table, sandbox mode, the
 * simulator process, routing defaults, status tables and `/v1/providers` all read these declarations.
 *
 * A declaration is data plus one loader: the connector is imported when first used, so the declaration itself imports
 * nothing that needs the provider list. The vendor's simulator is registered on the simulators' side
 * (simulators/index.ts), so a connector never imports a simulator.
 */
import type { TargetType } from '../schemas/common.js'
import type { StatusTable } from '../status/table.js'
import type { ConnectorFactory } from './connector.js'
import type { NativeIdShapes } from './native-ids.js'

/** A vendor setting beyond the credential and base URL, read from `env` into `ProviderSettings.options[key]`. */
export interface ProviderOption {
  readonly key: string
  readonly env: string
  readonly description: string
  /** never logged or echoed (the secret scan covers it) */
  readonly secret?: boolean
  readonly default?: string
  /** a live provider (credential set, outside sandbox mode) cannot run without it */
  readonly required?: boolean
  readonly format?: { readonly pattern: RegExp, readonly message: string }
}

/** How a vendor's cases date their milestones, where the common rules (the event's `occurredAt`, `resolvedAt`) fall short. */
export interface MilestoneDating {
  /** the case's `updatedAt` moves with its status only (the vendor keeps no history), so it dates a change the event has no time for */
  readonly updatedAtDatesChange?: boolean
  /**
   * the mitigations' `effectiveAt` date `mitigated` (any type) and `takenDown`/`terminal` (a type this says removes the
   * thing); a listed case without its mitigations is dated by its `updatedAt`, the latest effective date
   */
  readonly mitigations?: { readonly removes: (type: string) => boolean }
}

/**
 * How a program that is not the gateway calls the vendor directly (the bench's baselines: the least work a server
 * could do): authentication, one case's detail path and where a list answer keeps its items.
 */
export interface DirectCalls {
  /** the headers of a call; `credential` is the module's credential, or the token `accessToken` returned for it */
  readonly authHeaders: (credential: string) => Record<string, string>
  /** a vendor whose API takes a short-lived token (Web Risk's OAuth exchange): one token for the credential, fetched once */
  readonly accessToken?: (credential: string, baseUrl: string, options: Readonly<Record<string, string>>) => Promise<string>
  /** the detail read of one case, under the base URL; `options` are the module's (e.g. an account id); absent: no single read to compare with */
  readonly detailPath?: (nativeId: string, options: Readonly<Record<string, string>>) => string
  /** the case object of a detail answer (default: the answer itself, for vendors that answer without an envelope) */
  readonly detailItem?: (body: unknown) => Record<string, unknown>
  /** the items of a list answer and the field of an item that holds its creation time */
  readonly listItems: (body: unknown) => Array<Record<string, unknown>>
  readonly createdField: string
}

/** The verdict on one inbound webhook delivery. */
export type InboundVerdict = { ok: true } | { ok: false, outcome: 'bad_signature' | 'stale', reason: string }

/** A vendor that pushes signed change webhooks: how the gateway's `POST /v1/inbound/<id>` checks and reads a delivery. */
export interface InboundWebhooks {
  /** the variable holding the signing secrets (the current one and, during a rotation, the other) */
  readonly secretsEnv: string
  /** the delivery's headers, as the vendor writes them */
  readonly headers: { readonly signature: string, readonly timestamp: string, readonly deliveryId: string, readonly event: string }
  /** the signature and age of a delivery, against every secret */
  readonly verify: (headers: { signature?: string | undefined, timestamp?: string | undefined }, rawBody: Buffer, secrets: readonly string[], now: number) => InboundVerdict
  /** the vendor's case id a delivery is about; null when it names none (a test delivery) */
  readonly caseIdOf: (payload: unknown) => string | null
  /** how long a delivery id is remembered (longer than the vendor retries) */
  readonly deliveryTtlMs: number
  /** the words of the published contract: the delivery route, its body, the signature scheme, the registration route */
  readonly docs: { readonly delivery: string, readonly body: string, readonly bodyExample: unknown, readonly signature: string, readonly registration: string }
}

/** How the case-events watcher lists the cases open now, whatever their age (docs/adr/0031-watch-the-open-set.md). */
export type OpenSetListing =
  /** one list walk per query, with these vendor filter values (`CaseFilters.vendor`): together they hold every open case */
  | { readonly by: 'status', readonly queries: ReadonlyArray<Readonly<Record<string, string>>> }
  /** the vendor filters its list by creation date only: walk it back to the oldest case the gateway knows to be open */
  | { readonly by: 'creation' }

export interface WatchDeclaration {
  readonly openSet: OpenSetListing
  /** whether the vendor lists by update time (the watcher would read only what changed), and where that is said */
  readonly updateTime: string
}

export interface ProviderModule {
  /** lowercase id: the `<provider>:` prefix of case ids and the upper-cased prefix of its variables */
  readonly id: string
  /** the vendor's name in messages and docs */
  readonly name: string
  readonly baseUrl: string
  /** the credential variable; a provider is live when it is set */
  readonly credential: {
    readonly env: string
    readonly description: string
    /**
     * The variable's value for a credential a simulator accepts, when the variable holds more than the opaque secret
     * (a key file built around it); absent: the secret itself. Used where a test or the simulator process points a
     * live-mode gateway at a simulator (providers/env.ts).
     */
    readonly fromSecret?: (secret: string) => string
  }
  readonly options?: readonly ProviderOption[]
  /** outbound budget default per credential (0 = unlimited) and, when the vendor publishes one, where it comes from */
  readonly budget: { readonly limit: number, readonly windowMs: number, readonly source?: string }
  /** default routing: for each target type this provider takes, its rank among providers (lower is tried first) */
  readonly routing: Readonly<Partial<Record<TargetType, number>>>
  readonly statusTable: StatusTable
  /** the shapes of native case and detection ids (connectors/native-ids.ts); anything else is a 404 with no vendor call */
  readonly ids: NativeIdShapes
  /** how often the case-events watcher reads the vendor's list by default (60000 when absent), and why it differs */
  readonly watchIntervalMs?: number
  readonly watchNote?: string
  /** how the watcher finds the vendor's open cases */
  readonly watch: WatchDeclaration
  /** the vendor dates its takedown milestones (takedownStartedAt, resolvedAt) on the detail view only, not in listings */
  readonly timesOnDetail?: boolean
  /**
   * false: the vendor keeps no history (its detail shows the current state only), so a case read adds the status
   * changes the gateway recorded (`source: 'gateway'` entries). Absent: the vendor's history is complete.
   */
  readonly historyKept?: boolean
  /**
   * false: the vendor's `updatedAt` differs between its listing and its detail view, so it is no part of a case's
   * fingerprint (the change the events record). Absent: the same in both.
   */
  readonly updatedAtStable?: boolean
  /** how the analytics milestones are dated beyond `occurredAt`, `takedownStartedAt` and `resolvedAt` (analytics/milestones.ts) */
  readonly milestones?: MilestoneDating
  /** the store key namespaces the connector writes under (store/keys.ts `vendor`); no two providers share one */
  readonly storeNamespaces?: readonly string[]
  /** the vendor pushes signed change webhooks (its connector's `webhookSubscriptions` registers the endpoint) */
  readonly inbound?: InboundWebhooks
  /** what to suggest when a client asks for something the vendor cannot do */
  readonly hints?: { readonly cancel?: string }
  /** sandbox mode: the credential the simulator accepts and the option values it is started with */
  readonly sandbox: { readonly credential: string, readonly options: Readonly<Record<string, string>> }
  /** a valid `POST /v1/cases` body for this provider (docs, the chaos matrix and the secret scan send it) */
  readonly exampleCreate: (target: { type: 'url', value: string }) => Record<string, unknown>
  readonly connector: () => Promise<ConnectorFactory>
  /** direct vendor calls for the bench; absent: the bench's baselines leave the provider out */
  readonly direct?: DirectCalls
  /** the simulator's create endpoints as `METHOD route-template`, to count vendor submits */
  readonly submitRoutes: readonly string[]
  /** extra command-line flags of the simulator process (`--<id>-<flag>`, env `SIM_<ID>_<FLAG>`) */
  readonly simulatorFlags?: ReadonlyArray<{ readonly flag: string, readonly help: string }>
}
