/** The target-intelligence parts the app wires: the index, the RDAP service (when on), the case view and the hold check. */
import type { CaseEnrichmentRecords } from '../../core/case-enrichment.js'
import { resolve4 } from 'node:dns/promises'
import type { Clock } from '../../clock.js'
import type { TargetsConfig } from '../../config.js'
import type { Logger } from '../../logger.js'
import type { CaseView } from '../../services/case-views.js'
import type { KvStore } from '../../store/kv-store.js'
import { holdCheck, type HoldCheck } from './hold.js'
import { MemoryTargetIndex, RedisTargetIndex, type TargetIndex } from './index-store.js'
import { Bootstrap, readBootstrap, SHIPPED_BOOTSTRAP_DIR, type BootstrapFiles } from './rdap/bootstrap.js'
import { RdapService, type Resolver } from './rdap/service.js'
import { targetsView } from './view.js'

export interface Targets {
  index: TargetIndex
  rdap: RdapService | null
  view: CaseView
  /** for the verification lifecycle: a registry hold counts as down */
  holdCheck: HoldCheck
}

/**
 * In sandbox mode RDAP only ever asks the sandbox's simulator (or a server the operator named): a sandbox built without
 * one gets no enrichment rather than the registries' real servers.
 */
export function buildTargets (config: TargetsConfig, deps: {
  sandbox: boolean
  store: KvStore
  clock: Clock
  /** where a case's registrar and hosting network are recorded once its enrichment is known */
  caseEnrichment: CaseEnrichmentRecords
  log: Logger
  /** the sandbox's RDAP simulator: its bootstrap and its DNS stand-in */
  sandboxRdap?: { bootstrap: unknown, resolve: Resolver }
  /** tests: the addresses of a host without asking DNS */
  resolve?: Resolver
}): Targets {
  const index = deps.store.kind === 'redis' && deps.store.client !== undefined ? new RedisTargetIndex(deps.store.client, deps.clock) : new MemoryTargetIndex()
  let rdap: RdapService | null = null
  const offline = deps.sandbox && deps.sandboxRdap === undefined && config.rdap.baseUrl === null && config.rdap.bootstrapDir === null
  if (config.rdap.enabled && !offline) {
    const files = config.rdap.bootstrapDir !== null
      ? readBootstrap(config.rdap.bootstrapDir)
      : (deps.sandboxRdap?.bootstrap as BootstrapFiles | undefined) ?? readBootstrap(SHIPPED_BOOTSTRAP_DIR)
    rdap = new RdapService({
      store: deps.store,
      clock: deps.clock,
      bootstrap: new Bootstrap(files),
      settings: config.rdap,
      resolve: deps.resolve ?? deps.sandboxRdap?.resolve ?? (deps.sandbox ? async () => [] : async host => await resolve4(host))
    })
  }
  return { index, rdap, view: targetsView({ index, rdap, log: deps.log, records: deps.caseEnrichment }), holdCheck: holdCheck(rdap) }
}
