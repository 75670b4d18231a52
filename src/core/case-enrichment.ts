/**
 * The per-case side record analytics group by registrar and hosting network with: target intelligence writes it when
 * a case's RDAP enrichment becomes known (a case detail read), reporting reads it at report time, batched over the
 * case ids of the rows it covers. Never an RDAP call per query: a case no detail read enriched yet is `unknown`.
 * Features never import each other (ADR 0037), so the record lives in the core; Redis when there is one.
 */
import type { Cluster, Redis } from 'ioredis'
import type { KvStore } from '../store/kv-store.js'
import { keys } from '../store/keys.js'

export interface CaseEnrichmentFacts {
  /** the registrar's name from RDAP; null when the registry named none */
  registrar: string | null
  /** the name of the network the host's first address sits in; null when unknown */
  hostingNetwork: string | null
}

export interface CaseEnrichmentRecords {
  record: (caseId: string, facts: CaseEnrichmentFacts) => Promise<void>
  /** per case id (same order), its facts, or null when none were recorded */
  of: (caseIds: readonly string[]) => Promise<Array<CaseEnrichmentFacts | null>>
}

// a record is two names joined by a separator no RDAP name holds; an empty name is null
const SEP = '\u001f'
const encode = (f: CaseEnrichmentFacts): string => `${f.registrar ?? ''}${SEP}${f.hostingNetwork ?? ''}`
function decode (s: string | null | undefined): CaseEnrichmentFacts | null {
  if (s === null || s === undefined) return null
  const [registrar = '', hostingNetwork = ''] = s.split(SEP)
  return { registrar: registrar === '' ? null : registrar, hostingNetwork: hostingNetwork === '' ? null : hostingNetwork }
}

export class MemoryCaseEnrichment implements CaseEnrichmentRecords {
  readonly #records = new Map<string, string>()
  async record (caseId: string, facts: CaseEnrichmentFacts): Promise<void> { this.#records.set(caseId, encode(facts)) }
  async of (caseIds: readonly string[]): Promise<Array<CaseEnrichmentFacts | null>> { return caseIds.map(id => decode(this.#records.get(id))) }
}

/** one hash, case id → record; read with HMGET in chunks (a report over 100k cases is 100 round trips, pipelined) */
export class RedisCaseEnrichment implements CaseEnrichmentRecords {
  static readonly CHUNK = 1000
  readonly #client: Redis | Cluster
  constructor (client: Redis | Cluster) { this.#client = client }

  async record (caseId: string, facts: CaseEnrichmentFacts): Promise<void> {
    await this.#client.hset(keys.caseEnrichment(), caseId, encode(facts))
  }

  async of (caseIds: readonly string[]): Promise<Array<CaseEnrichmentFacts | null>> {
    const chunks: string[][] = []
    for (let i = 0; i < caseIds.length; i += RedisCaseEnrichment.CHUNK) chunks.push(caseIds.slice(i, i + RedisCaseEnrichment.CHUNK))
    const answers = await Promise.all(chunks.map(async c => await this.#client.hmget(keys.caseEnrichment(), ...c)))
    return answers.flat().map(decode)
  }
}

export function openCaseEnrichment (store: KvStore): CaseEnrichmentRecords {
  return store.kind === 'redis' && store.client !== undefined ? new RedisCaseEnrichment(store.client) : new MemoryCaseEnrichment()
}
