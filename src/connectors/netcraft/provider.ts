/** Netcraft as the gateway sees it: settings, defaults and where its connector lives (its simulator: simulators/index.ts). */
import type { ProviderModule } from '../provider-module.js'
import { NETCRAFT_ID } from './ids.js'
import { netcraftStatusTable } from './status-map.js'
import { NETCRAFT_STATUS_SLUGS } from './wire.js'

export const netcraftProvider = {
  id: 'netcraft',
  name: 'Netcraft',
  baseUrl: 'https://takedown.netcraft.com/api/v1',
  credential: { env: 'NETCRAFT_API_KEY', description: 'Netcraft Takedown API key (Authorization: Bearer)' },
  options: [
    { key: 'region', env: 'NETCRAFT_REGION', description: 'Netcraft account region sent with every report, listing and attack-type call (default: none, the account\'s default)' },
    { key: 'attackType', env: 'NETCRAFT_ATTACK_TYPE', description: 'attack type of url and domain reports that name none in providerOptions.attackType', default: 'phishing_url', format: { pattern: /^[a-z0-9_]{1,64}$/, message: 'must be a Netcraft attack type name (lower case, digits, _)' } },
    { key: 'forceAuth', env: 'NETCRAFT_FORCE_AUTH', description: 'true: reports authorise the takedown at once; false: the attack type\'s auto-authorise setting or a person decides', default: 'true', format: { pattern: /^(true|false)$/, message: 'must be true or false' } },
    { key: 'notify', env: 'NETCRAFT_NOTIFY', description: 'true: comments (notes) also go to Netcraft\'s operations team for a reply', default: 'false', format: { pattern: /^(true|false)$/, message: 'must be true or false' } }
  ],
  budget: { limit: 0, windowMs: 60_000 },
  routing: { url: 4, domain: 4 },
  timesOnDetail: true,
  statusTable: netcraftStatusTable,
  ids: { case: NETCRAFT_ID, detections: {} },
  // `statuses=` takes several slugs (Netcraft Takedown API docs, GET /api/v1/attacks/); resolved, stale and invalid are
  // the terminal ones
  watch: {
    openSet: { by: 'status', queries: [{ statuses: NETCRAFT_STATUS_SLUGS.filter(s => !['resolved', 'stale', 'invalid'].includes(s)).join(',') }] },
    updateTime: 'no: sort=last_updated exists, but the list pages by id (id_after) and updated_since is documented for the legacy API only (Netcraft Takedown API docs)'
  },
  sandbox: { credential: 'sandbox-netcraft-key', options: { region: 'sandbox-region' } },
  exampleCreate: target => ({ provider: 'netcraft', target, brand: { name: 'Acme Bank' }, comment: 'clone of our login page', providerOptions: { attackType: 'phishing_url' } }),
  connector: async () => (await import('./index.js')).netcraftModule,
  direct: {
    authHeaders: credential => ({ authorization: `Bearer ${credential}` }),
    listItems: body => body as Array<Record<string, unknown>>,
    createdField: 'date_submitted'
  },
  submitRoutes: ['POST /api/v1/report/']
} as const satisfies ProviderModule
