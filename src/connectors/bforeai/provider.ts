/** BforeAI as the gateway sees it: settings, defaults and where its connector lives (its simulator: simulators/index.ts). */
import type { ProviderModule } from '../provider-module.js'
import { bforeaiIds } from './ids.js'
import { bforeaiStatusTable } from './status-map.js'

export const bforeaiProvider = {
  id: 'bforeai',
  name: 'BforeAI',
  baseUrl: 'https://takedown.bfore.ai/api',
  credential: { env: 'BFOREAI_API_KEY', description: 'BforeAI API key (header X-Authorization)' },
  budget: { limit: 0, windowMs: 60_000 },
  routing: { url: 2, domain: 2, social: 1 },
  statusTable: bforeaiStatusTable,
  ids: bforeaiIds,
  // the Takedown object (BforeAI API docs, GET /v2/takedown/{takedown_id}) has one status and its updated_at, no history:
  // a cancel replaces the earlier status
  historyKept: false,
  // ...so its updated_at moves with the status and dates a change the event has no time for
  milestones: { updatedAtDatesChange: true },
  // GET /v2/takedown/list filters by creation (since, until) and brand only (BforeAI API docs): no status filter
  watch: {
    openSet: { by: 'creation' },
    updateTime: 'no: GET /v2/takedown/list sorts by created; other sort values are not documented (BforeAI API docs)'
  },
  sandbox: { credential: 'sandbox-bforeai-key', options: {} },
  exampleCreate: target => ({ provider: 'bforeai', target, brand: { id: 501 }, comment: 'clone of our login page' }),
  connector: async () => (await import('./index.js')).bforeaiModule,
  direct: {
    authHeaders: credential => ({ 'x-authorization': credential }),
    detailPath: id => `/v2/takedown/${encodeURIComponent(id)}`,
    listItems: body => (body as { items: Array<Record<string, unknown>> }).items,
    createdField: 'created'
  },
  submitRoutes: ['POST /api/v2/takedown/request', 'POST /api/v2/takedown/social-media']
} as const satisfies ProviderModule
