/** PhishFort as the gateway sees it: settings, defaults and where its connector lives (its simulator: simulators/index.ts). */
import type { ProviderModule } from '../provider-module.js'
import { phishfortIds } from './ids.js'
import { phishfortInbound } from './inbound.js'
import { isTerminal } from '../../schemas/unified-status.js'
import { PHISHFORT_STATUS_MAP, phishfortStatusTable } from './status-map.js'

export const phishfortProvider = {
  id: 'phishfort',
  name: 'PhishFort',
  baseUrl: 'https://capi.phishfort.com',
  credential: { env: 'PHISHFORT_API_KEY', description: 'PhishFort API key (header x-api-key)' },
  options: [{
    key: 'dashboardUrl',
    env: 'PHISHFORT_DASHBOARD_URL',
    description: 'PhishFort dashboard page of an incident, {id} standing for the incident id (e.g. https://dashboard.example/incidents/{id}); sets links.provider of PhishFort cases (unset: null)',
    format: { pattern: /^https?:\/\/[^/\s]+.*\{id\}/, message: 'must be an http(s) URL with {id} where the incident id goes' }
  }],
  budget: { limit: 0, windowMs: 60_000 },
  routing: { url: 1, domain: 1, email: 1, phone: 1, ipv4: 1 },
  timesOnDetail: true,
  statusTable: phishfortStatusTable,
  watchIntervalMs: 120_000,
  watchNote: 'its webhooks bring changes sooner',
  ids: phishfortIds,
  // `status` takes one value (PhishFort Client API docs, 'Incidents' page): one walk per status that is not terminal
  watch: {
    openSet: { by: 'status', queries: Object.entries(PHISHFORT_STATUS_MAP).filter(([, unified]) => !isTerminal(unified)).map(([status]) => ({ status })) },
    updateTime: 'no: GET /v1/incidents filters by creation date (fromDate, toDate) only (PhishFort Client API docs)'
  },
  inbound: phishfortInbound,
  hints: { cancel: 'ask for a review with POST /v1/cases/{id}/actions/mark-safe instead' },
  sandbox: { credential: 'sandbox-phishfort-key', options: {} },
  exampleCreate: target => ({ provider: 'phishfort', target, reportedBy: 'soc@acme.example', comment: 'clone of our login page' }),
  connector: async () => (await import('./index.js')).phishfortModule,
  direct: {
    authHeaders: credential => ({ 'x-api-key': credential }),
    detailPath: id => `/v1/incident/${encodeURIComponent(id)}`,
    detailItem: body => (body as { data: Record<string, unknown> }).data,
    listItems: body => (body as { data: Array<Record<string, unknown>> }).data,
    createdField: 'timestamp'
  },
  submitRoutes: ['POST /v1/incident/tkd', 'POST /v1/incident/monitor']
} as const satisfies ProviderModule
