/**
 * Everything the gateway knows about one vendor, declared once in the vendor's folder (`connectors/<id>/provider.ts`)
 * and registered with one line in providers/registry.ts. Configuration, the ENV_VARS table, sandbox mode, the
 * simulator process, routing defaults, status tables and `/v1/providers` all read these declarations.
 *
 * A declaration is data plus two loaders: the connector and the simulator are imported when first used, so the
 * declaration itself imports nothing that needs the provider list (schemas/provider.ts derives the ids from it).
 */
import type { Clock } from '../clock.js'
import type { TargetType } from '../schemas/common.js'
import type { Simulator } from '../simulators/harness.js'
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

/** What the simulator factory of a module receives. */
export interface SimulatorStart {
  clock: Clock
  /** the credential the simulator accepts */
  apiKey: string
  seed?: number
  count?: number
  spanDays?: number
  /** the module's sandbox options (e.g. Cloudflare's account id) */
  options: Readonly<Record<string, string>>
  /** values of the module's `simulatorFlags`, by flag name (command line of src/simulators/serve.ts) */
  flags?: Readonly<Record<string, string>>
}

export type SimulatorFactory = (start: SimulatorStart) => Simulator

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
  /** what to suggest when a client asks for something the vendor cannot do */
  readonly hints?: { readonly cancel?: string }
  /** sandbox mode: the credential the simulator accepts and the option values it is started with */
  readonly sandbox: { readonly credential: string, readonly options: Readonly<Record<string, string>> }
  /** a valid `POST /v1/cases` body for this provider (docs, the chaos matrix and the secret scan send it) */
  readonly exampleCreate: (target: { type: 'url', value: string }) => Record<string, unknown>
  readonly connector: () => Promise<ConnectorFactory>
  readonly simulator: () => Promise<SimulatorFactory>
  /** the simulator's create endpoints as `METHOD route-template`, to count vendor submits */
  readonly submitRoutes: readonly string[]
  /** extra command-line flags of the simulator process (`--<id>-<flag>`, env `SIM_<ID>_<FLAG>`) */
  readonly simulatorFlags?: ReadonlyArray<{ readonly flag: string, readonly help: string }>
}
