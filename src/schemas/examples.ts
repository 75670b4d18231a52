/**
 * Examples of the public shapes, shown in the OpenAPI document (schema `examples`, media-type examples) and in
 * Swagger UI. Plain data: test/openapi/document.test.ts validates every example in the document against its schema.
 */

export const CASE_EXAMPLE = {
  id: 'phishfort:054zKkjCnR1I3B3U812z',
  provider: 'phishfort',
  providerCaseId: '054zKkjCnR1I3B3U812z',
  target: { type: 'url', value: 'https://uniformprivate.cc/chevrolet/', domain: 'uniformprivate.cc' },
  status: 'taken_down',
  terminal: true,
  providerStatus: 'takedown_success',
  brand: { id: null, name: 'exampleclient.com' },
  threat: { class: 'phishing', name: 'Brand - Website - Impersonation', platform: null },
  reportedBy: 'analyst@example.com',
  createdAt: '2021-11-08T20:36:43.765Z',
  updatedAt: '2021-12-06T15:10:01.299Z',
  links: { self: '/v1/cases/phishfort:054zKkjCnR1I3B3U812z', provider: null }
}

export const CLOUDFLARE_CASE_EXAMPLE = {
  id: 'cloudflare:3c4ffd020f5bd14dcc31',
  provider: 'cloudflare',
  providerCaseId: '3c4ffd020f5bd14dcc31',
  target: { type: 'url', value: 'https://login-acme.example.io/secure', domain: 'login-acme.example.io' },
  status: 'in_review',
  terminal: false,
  providerStatus: 'in_review',
  brand: { id: null, name: 'Acme Bank' },
  threat: { class: 'phishing', name: null, platform: null },
  reportedBy: 'soc@acme.example',
  createdAt: '2026-03-02T09:15:00.000Z',
  updatedAt: null,
  links: { self: '/v1/cases/cloudflare:3c4ffd020f5bd14dcc31', provider: null }
}

/** a comma-separated provider list, as the `provider` filters take it */
/** a case at a second provider (a failover's new case in examples) */
export const SECOND_CASE_EXAMPLE = CLOUDFLARE_CASE_EXAMPLE

export const PROVIDER_LIST_EXAMPLE = `${CASE_EXAMPLE.provider},${CLOUDFLARE_CASE_EXAMPLE.provider}`

/** cases the target lookup finds for the same target: one open at the host, one past at the registrable domain */
export const RELATED_CASES_EXAMPLE = {
  open: { id: CASE_EXAMPLE.id, provider: CASE_EXAMPLE.provider, status: 'in_progress', terminal: false, value: 'https://login.acme-verify.example.net/secure', createdAt: '2026-12-01T10:00:00.000Z', match: 'host' },
  past: { id: 'netcraft:28211', provider: 'netcraft', status: 'taken_down', terminal: true, value: 'https://pay.example.net/acme', createdAt: '2026-10-02T08:30:00.000Z', match: 'registrableDomain' }
}

export const CASE_DETAIL_EXAMPLE = {
  ...CASE_EXAMPLE,
  history: [
    { at: '2021-11-08T20:36:43.765Z', status: 'received', providerStatus: 'pending_review', message: 'Incident reported and queued for analyst review', source: 'provider' },
    { at: '2021-11-09T08:02:11.000Z', status: 'in_progress', providerStatus: 'takedown_in_progress', message: 'Takedown request sent to the hosting provider', source: 'provider' },
    { at: '2021-12-06T15:10:01.299Z', status: 'taken_down', providerStatus: 'takedown_success', message: null, source: 'provider' }
  ],
  state: { responsive: false, contentRemoved: true, warningBanner: false, timestamp: '2021-12-06T15:10:01.299Z' },
  registrar: { name: 'NameCheap, Inc.', difficulty: 'medium', description: null },
  hostingProvider: 'Hetzner Online GmbH',
  takedownStartedAt: '2021-11-09T08:02:11.000Z',
  resolvedAt: '2021-12-06T15:10:01.299Z'
}

export const CASE_PAGE_EXAMPLE = {
  items: [CLOUDFLARE_CASE_EXAMPLE, CASE_EXAMPLE],
  nextCursor: 'eyJ2IjoxLCJrIjpbMTYzNjQwMzgwMzc2NSwicGhpc2hmb3J0OjA1NHpLa2pDblIxSTNCM1U4MTJ6Il19.0674NBDdULwLnZwWGnnuGiguTQ8p5OsLoq4IiYJbyc4',
  partial: true,
  errors: [{ provider: 'bforeai', status: 504, title: 'The provider did not answer in time', detail: 'bforeai did not answer within 10000 ms' }]
}

export const PROBLEM_EXAMPLE = {
  type: 'https://takedown-gateway.dev/problems/validation',
  title: 'Invalid request',
  status: 400,
  detail: 'The request body is invalid: /target/type must be equal to one of the allowed values: url, domain, email, phone, ipv4, social',
  instance: '/v1/cases',
  requestId: '5f0c6d1e-8a4b-4c1f-9d7e-2b3a4c5d6e7f',
  code: 'GW_ERR_VALIDATION',
  errors: [{ path: '/target/type', message: 'must be equal to one of the allowed values: url, domain, email, phone, ipv4, social' }]
}

export const DETECTION_EXAMPLE = {
  id: 'bforeai:attack:70000',
  provider: 'bforeai',
  kind: 'attack',
  target: { type: 'domain', value: 'signin-examplebank168.site', domain: 'signin-examplebank168.site' },
  source: null,
  score: 97.4,
  similarity: null,
  detectedAt: '2026-03-01T13:49:37.075Z',
  matched: { queryId: '505', queryTag: null, asset: 'ExampleBank' },
  caseId: null,
  links: { self: '/v1/detections/bforeai:attack:70000', takedown: '/v1/detections/bforeai:attack:70000/takedown', case: null }
}

export const LOGO_DETECTION_EXAMPLE = {
  id: 'cloudflare:logo-match:201%3A88',
  provider: 'cloudflare',
  kind: 'logo-match',
  target: { type: 'url', value: 'https://acme-bank-login.example.org/', domain: 'acme-bank-login.example.org' },
  source: null,
  score: null,
  similarity: 0.91,
  detectedAt: '2026-03-01T10:02:00.000Z',
  matched: { queryId: '201', queryTag: 'acme-logo', asset: 'acme-logo' },
  caseId: 'cloudflare:d4e8eb2af2f26165a881',
  links: {
    self: '/v1/detections/cloudflare:logo-match:201%3A88',
    takedown: '/v1/detections/cloudflare:logo-match:201%3A88/takedown',
    case: '/v1/cases/cloudflare:d4e8eb2af2f26165a881'
  }
}

export const DETECTION_PAGE_EXAMPLE = {
  items: [DETECTION_EXAMPLE, LOGO_DETECTION_EXAMPLE],
  nextCursor: null,
  partial: false,
  errors: []
}

export const PROVIDER_INFO_EXAMPLE = {
  id: 'phishfort',
  mode: 'sandbox',
  available: true,
  capabilities: {
    create: { takedown: ['url', 'domain', 'email', 'phone', 'ipv4', 'social'], monitor: ['url', 'domain', 'email', 'phone', 'ipv4', 'social'] },
    cancel: false,
    attachments: true,
    comments: true,
    appeal: false,
    actions: ['takedown', 'monitor', 'mark-safe'],
    detections: false,
    reference: ['statuses']
  },
  circuit: 'closed',
  lastError: null,
  referenceAgeSeconds: 312,
  watch: { intervalSeconds: 120, effectiveIntervalSeconds: 120, openCases: 812, syncCalls: 21, lastSyncAt: '2026-11-30T09:58:00.000Z' }
}

export const REFERENCE_PAGE_EXAMPLE = {
  kind: 'cancellation-reasons',
  items: [
    { provider: 'bforeai', kind: 'cancellation-reasons', id: 1, name: 'False positive', description: null, active: true },
    { provider: 'bforeai', kind: 'cancellation-reasons', id: 4, name: 'Duplicate request', description: null, active: false }
  ],
  partial: false,
  errors: []
}

export const STATUS_REFERENCE_ITEM_EXAMPLE = {
  provider: 'phishfort',
  kind: 'statuses',
  id: 'takedown_success',
  name: 'takedown_success',
  description: null,
  unifiedStatus: 'taken_down',
  terminal: true
}

export const CREATE_PLAN_EXAMPLE = {
  dryRun: true,
  provider: 'phishfort',
  routedBy: 'rule',
  request: { method: 'POST', path: '/v1/incident/tkd', contentType: 'application/json', body: { incidentType: 'phone', subject: '+14155550100' }, files: [] },
  rejected: []
}

/** a url create routed by a measured rule (ROUTING_RULES `{"url": {"strategy": "measured", ...}}`) */
export const MEASURED_PLAN_EXAMPLE = {
  dryRun: true,
  provider: 'phishfort',
  routedBy: 'rule',
  request: { method: 'POST', path: '/v1/incident/tkd', contentType: 'application/json', body: { url: 'https://login-acme.example.io/secure' }, files: [] },
  rejected: [],
  routing: {
    strategy: 'measured',
    decision: 'best',
    targetType: 'url',
    tld: null,
    windowDays: 30,
    minSample: 20,
    explorePercent: 10,
    providers: [
      { provider: 'phishfort', cases: 212, successRate: 0.9104, p50Hours: 3.1, score: 3.41 },
      { provider: 'bforeai', cases: 120, successRate: 0.8417, p50Hours: 5.4, score: 6.42 }
    ],
    summary: 'phishfort: p50 3.1 h, 91 % over 212 cases; bforeai: p50 5.4 h, 84 % over 120 cases (url targets over 30 days). phishfort ranks first (lowest p50 ÷ success rate).'
  }
}

export const ACTION_RESULT_EXAMPLE = {
  caseId: 'phishfort:054zKkjCnR1I3B3U812z',
  action: 'comment',
  accepted: true,
  detail: 'comment accepted by the provider'
}

/** a routed create whose rule names a companion (ROUTING_RULES `also`) */
export const CREATED_CASE_EXAMPLE = {
  ...CASE_EXAMPLE,
  companions: [{ provider: 'webrisk', id: 'webrisk:projects/123/operations/op-1', error: null }]
}
