/** Google Web Risk as the gateway sees it: settings, defaults and where its connector and simulator live. */
import type { ProviderModule } from '../provider-module.js'
import { caseIdOfOperation, operationOfCaseId, PROJECT, WEBRISK_ID } from './ids.js'
import { OPEN_FILTER_QUERY } from './open-filter.js'
import { sandboxKeyFile } from './sandbox-key.js'
import { webriskStatusTable } from './status-map.js'

export const webriskProvider = {
  id: 'webrisk',
  name: 'Google Web Risk',
  baseUrl: 'https://webrisk.googleapis.com',
  credential: {
    env: 'WEBRISK_CREDENTIALS',
    description: 'Google service-account key file for the Web Risk Submission API: a path, or the JSON itself (its private key signs the token request)',
    fromSecret: sandboxKeyFile
  },
  options: [
    { key: 'project', env: 'WEBRISK_PROJECT', description: 'Google Cloud project id or number the submissions are made for (allowlisted for the Submission API)', required: true, format: { pattern: PROJECT, message: 'must be a Google Cloud project id (6–30 lower-case letters, digits, hyphens) or number' } },
    { key: 'tokenUrl', env: 'WEBRISK_TOKEN_URL', description: 'token endpoint of the JWT-bearer exchange, in place of the key file\'s token_uri (a path is taken on WEBRISK_BASE_URL\'s origin)' },
    { key: 'listOperations', env: 'WEBRISK_LIST_OPERATIONS', description: 'true: list cases with Web Risk\'s operations.list (documented, unconfirmed); false: from the gateway\'s record of its submissions', default: 'false', format: { pattern: /^(true|false)$/, message: 'must be true or false' } },
    { key: 'minuteSubmits', env: 'WEBRISK_MINUTE_SUBMITS', description: 'submissions per minute the gateway makes before it answers 503 with Retry-After (Web Risk quota: 100 a minute per project; 0 = no count)', default: '100', format: { pattern: /^\d{1,6}$/, message: 'must be a whole number' } },
    { key: 'dailySubmits', env: 'WEBRISK_DAILY_SUBMITS', description: 'submissions per UTC day the gateway makes before it answers 503 with Retry-After (Web Risk quota: 1,000 a day per project; 0 = no count)', default: '1000', format: { pattern: /^\d{1,6}$/, message: 'must be a whole number' } }
  ],
  // Web Risk publishes quotas for submissions only (100 a minute, 1,000 a day: WEBRISK_MINUTE_SUBMITS and
  // WEBRISK_DAILY_SUBMITS count them before the call); reads and token exchanges have none, so no budget by default
  budget: { limit: 0, windowMs: 60_000 },
  routing: { url: 5 },
  statusTable: webriskStatusTable,
  ids: { case: WEBRISK_ID, detections: {} },
  historyKept: false,
  hints: { cancel: 'Web Risk submissions cannot be withdrawn through the gateway; a blocklisted URL is delisted by its owner (Search Console)' },
  watch: {
    openSet: { by: 'status', queries: [OPEN_FILTER_QUERY] },
    updateTime: 'no: there is no confirmed list; the gateway reads each open submission\'s operation on its poll schedule (1, 2, 5, 10, 20, 40 min, hourly to 48 h, 6-hourly to 7 days)'
  },
  sandbox: { credential: sandboxKeyFile('sandbox-webrisk-key'), options: { project: 'webrisk-sandbox', tokenUrl: '/token', listOperations: 'true' } },
  exampleCreate: target => ({ provider: 'webrisk', target, comment: 'clone of our login page', providerOptions: { abuseType: 'SOCIAL_ENGINEERING', confidenceLevel: 'HIGH', justificationLabels: ['MANUAL_VERIFICATION'] } }),
  direct: {
    // Google's OAuth 2.0 service-account flow: a signed JWT exchanged for a bearer token at the token endpoint
    accessToken: async (credential, baseUrl, options) => await (await import('./auth.js')).exchangeOnce(credential, options.tokenUrl, baseUrl),
    authHeaders: token => ({ authorization: `Bearer ${token}` }),
    detailPath: (id, options) => {
      const { operation } = operationOfCaseId(id)
      return `/v1/projects/${encodeURIComponent(options.project ?? '')}/operations/${encodeURIComponent(operation)}`
    },
    // an operation carries no id of its own and keeps its times under `metadata`: the item is the case id, the
    // creation time and the operation untouched
    listItems: body => ((body as { operations?: Array<{ name: string, metadata?: { createTime?: string } }> }).operations ?? [])
      .map(op => ({ id: caseIdOfOperation(op.name), createTime: op.metadata?.createTime, operation: op })),
    detailItem: body => {
      const op = body as { name: string, metadata?: { createTime?: string } }
      return { id: caseIdOfOperation(op.name), createTime: op.metadata?.createTime, operation: op }
    },
    createdField: 'createTime'
  },
  connector: async () => (await import('./index.js')).webriskModule,
  submitRoutes: ['POST /v1/projects/:project/uris::submit']
} as const satisfies ProviderModule
