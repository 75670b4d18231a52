/**
 * The target-intelligence block on the cases the API answers with: case detail gets `relatedCases` (from the target
 * index) and `enrichment` (RDAP); every case answered feeds the index, so cases seen only in listings are found too.
 */
import type { CaseEnrichmentRecords } from '../../core/case-enrichment.js'
import type { Logger } from '../../logger.js'
import type { Case, CaseDetail } from '../../schemas/case.js'
import type { RelatedCase } from '../../schemas/target-intel.js'
import type { UnifiedStatus } from '../../schemas/unified-status.js'
import type { CaseView } from '../../services/case-views.js'
import type { IndexedCase, TargetIndex } from './index-store.js'
import type { Enrichment, RdapService } from './rdap/service.js'

export const MAX_RELATED = 50

export function relatedOf (rows: IndexedCase[], host: string | null): RelatedCase[] {
  return rows.map(r => ({
    id: r.id,
    provider: r.provider,
    status: r.status as UnifiedStatus,
    terminal: r.terminal,
    value: r.value,
    createdAt: r.createdAt,
    match: host !== null && r.host === host ? 'host' as const : 'registrableDomain' as const
  }))
}

/** the enrichment of a host, or one that carries the failure: never throws */
export async function enrichmentOf (rdap: RdapService, host: string): Promise<Enrichment> {
  try {
    return await rdap.enrich(host)
  } catch (err) {
    return { registrar: null, domain: null, hosting: [], fetchedAt: null, error: (err as Error).message }
  }
}

export function targetsView (deps: { index: TargetIndex, rdap: RdapService | null, log: Logger, records?: CaseEnrichmentRecords }): CaseView {
  const { index, rdap, log, records } = deps
  // analytics group by registrar and hosting network from this record: written once the case's enrichment is known
  const remember = (caseId: string, e: Enrichment): void => {
    if (records === undefined || (e.registrar === null && e.hosting.length === 0)) return
    records.record(caseId, { registrar: e.registrar?.name ?? null, hostingNetwork: e.hosting[0]?.networkName ?? null }).catch((err: unknown) => {
      log.warn({ caseId, err: (err as Error).message }, 'case enrichment record: the store did not take it')
    })
  }
  const feed = (cases: Case[]): void => {
    index.addMany(cases).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'target index: the store did not take a page of cases')
    })
  }
  return {
    name: 'targets',
    page: async (cases) => { if (index.fedByListings) feed(cases) },
    detail: async (c: CaseDetail) => {
      const host = c.target.host ?? null
      const registrableDomain = c.target.registrableDomain ?? null
      const enrichment = rdap === null || host === null ? null : enrichmentOf(rdap, host)
      try {
        await index.add(c)
        const rows = await index.find({ host, registrableDomain }, MAX_RELATED + 1)
        c.relatedCases = relatedOf(rows.filter(r => r.id !== c.id).slice(0, MAX_RELATED), host)
      } catch (err) {
        log.warn({ caseId: c.id, err: (err as Error).message }, 'target index: the store did not answer; relatedCases is empty')
        c.relatedCases = []
      }
      if (rdap !== null) c.enrichment = enrichment === null ? null : await enrichment
      if (c.enrichment !== null && c.enrichment !== undefined) remember(c.id, c.enrichment)
    }
  }
}
