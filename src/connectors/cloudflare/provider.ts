/** Cloudflare as the gateway sees it: settings, defaults and where its connector lives (its simulator: simulators/index.ts). */
import type { ProviderModule } from '../provider-module.js'
import { cloudflareIds } from './ids.js'
import { cloudflareStatusTable, isRemoval } from './status-map.js'

/** the 5-minute window of Cloudflare's documented API limit (1200 requests per 5 minutes per token) */
const RATE_WINDOW_MS = 5 * 60_000

export const cloudflareProvider = {
  id: 'cloudflare',
  name: 'Cloudflare',
  baseUrl: 'https://api.cloudflare.com/client/v4',
  credential: { env: 'CLOUDFLARE_API_TOKEN', description: 'Cloudflare API token (Authorization: Bearer)' },
  options: [{
    key: 'accountId',
    env: 'CLOUDFLARE_ACCOUNT_ID',
    description: 'Cloudflare account id (32 hex characters)',
    required: true,
    format: { pattern: /^[0-9a-f]{32}$/i, message: 'must be 32 hexadecimal characters' }
  }],
  budget: { limit: 1200, windowMs: RATE_WINDOW_MS, source: 'the vendor limit' },
  routing: { url: 3, domain: 3 },
  statusTable: cloudflareStatusTable,
  ids: cloudflareIds,
  // a listed report's updatedAt is its latest *active* mitigation, the detail view's the latest of *all* (ADR 0028)
  updatedAtStable: false,
  milestones: { mitigations: { removes: isRemoval } },
  storeNamespaces: ['cf-seen'],
  // an open report is in review, or accepted with a mitigation pending, in review or active (the status table): the
  // list's `status` and `mitigation_status` filters (Cloudflare API schema, ListAbuseReports) name them; `active` also
  // lists reports taken down, which the watcher reads as well
  watch: {
    openSet: { by: 'status', queries: [{ status: 'in_review' }, { mitigation_status: 'pending' }, { mitigation_status: 'in_review' }, { mitigation_status: 'active' }] },
    updateTime: 'no: ListAbuseReports filters and sorts by cdate, not by a change time (Cloudflare API schema)'
  },
  sandbox: { credential: 'sandbox-cloudflare-token', options: { accountId: '023e105f4ecef8ad9ca31a8372d0c353' } },
  exampleCreate: target => ({
    provider: 'cloudflare',
    target,
    brand: { name: 'Acme Bank' },
    providerOptions: {
      reportType: 'abuse_phishing',
      reporter: { name: 'Acme SOC', email: 'soc@acme.example', company: 'Acme' },
      justification: 'Credential phishing page cloning the Acme Bank login form',
      hostNotification: 'send',
      ownerNotification: 'send-anon'
    }
  }),
  connector: async () => (await import('./index.js')).cloudflareModule,
  direct: {
    authHeaders: credential => ({ authorization: `Bearer ${credential}` }),
    detailPath: (id, options) => `/accounts/${encodeURIComponent(options.accountId ?? '')}/abuse-reports/${encodeURIComponent(id)}`,
    detailItem: body => (body as { result: Record<string, unknown> }).result,
    listItems: body => (body as { result: { reports: Array<Record<string, unknown>> } }).result.reports,
    createdField: 'cdate'
  },
  submitRoutes: ['POST /client/v4/accounts/:accountId/abuse-reports/:reportParam'],
  simulatorFlags: [{ flag: 'rate-limit', help: 'N|off' }]
} as const satisfies ProviderModule
