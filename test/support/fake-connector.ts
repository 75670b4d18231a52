/**
 * A port double of ProviderConnector for service tests: an in-memory vendor with offset page tokens that lists
 * newest first by createdAt, with ties in the vendor's own (not the gateway's) order, and switchable failures.
 */
import type { Capabilities, ProviderCaseQuery, ProviderConnector, ProviderPage, ProviderRowPage } from '../../src/connectors/connector.js'
import { caseRow, ConnectorError, type ConnectorErrorKind } from '../../src/connectors/connector.js'
import { caseSelfLink, encodeCaseId } from '../../src/domain/case-id.js'
import type { Case } from '../../src/schemas/case.js'
import type { TargetType } from '../../src/schemas/common.js'
import type { ProviderId } from '../../src/schemas/provider.js'
import { isTerminal, type UnifiedStatus } from '../../src/schemas/unified-status.js'

export function fakeCase (provider: ProviderId, nativeId: string, createdAt: number, extra: Partial<{ status: UnifiedStatus, type: TargetType, value: string, brand: string }> = {}): Case {
  const status = extra.status ?? 'in_progress'
  return {
    id: encodeCaseId(provider, nativeId),
    provider,
    providerCaseId: nativeId,
    target: { type: extra.type ?? 'url', value: extra.value ?? `https://${nativeId}.example/login`, domain: `${nativeId}.example` },
    status,
    terminal: isTerminal(status),
    providerStatus: status,
    brand: { id: null, name: extra.brand ?? 'acme' },
    threat: { class: 'phishing', name: null, platform: null },
    reportedBy: null,
    createdAt: new Date(createdAt).toISOString(),
    updatedAt: null,
    links: { self: caseSelfLink(provider, nativeId), provider: null }
  }
}

export const NO_CAPABILITIES: Capabilities = {
  create: { takedown: [], monitor: [] }, cancel: false, attachments: false, comments: false, appeal: false, actions: [], detections: false, reference: []
}

export class FakeConnector implements ProviderConnector {
  readonly capabilities = NO_CAPABILITIES
  calls = 0
  failWith: ConnectorErrorKind | null = null
  /** items in vendor order: createdAt descending, ties in insertion order */
  readonly items: Case[]

  constructor (readonly id: ProviderId, items: Case[]) {
    this.items = [...items].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
  }

  async listCases (query: ProviderCaseQuery): Promise<ProviderPage> {
    this.calls++
    if (this.failWith !== null) throw new ConnectorError(this.id, this.failWith, `injected ${this.failWith}`, { upstreamStatus: this.failWith === 'timeout' ? null : 503 })
    const offset = query.pageToken === null ? 0 : Number(query.pageToken)
    const items = this.items.slice(offset, offset + query.pageSize)
    const next = offset + query.pageSize < this.items.length ? String(offset + query.pageSize) : null
    return { items, next }
  }

  async getCase (): Promise<never> { throw new ConnectorError(this.id, 'not_found', 'not found', { upstreamStatus: 404 }) }
  async listReference (): Promise<null> { return null }
}

/** The same vendor through listCaseRows (deferred mapping, like the real connectors); counts the rows it had to map. */
export class RowsFakeConnector extends FakeConnector {
  mapped = 0

  async listCaseRows (query: ProviderCaseQuery): Promise<ProviderRowPage> {
    const page = await this.listCases(query)
    return { rows: page.items.map(c => caseRow(c.createdAt, c.id, () => { this.mapped++; return { ...c } })), next: page.next }
  }
}
